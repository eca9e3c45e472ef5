"""Estimated cost of the run from spot price history (the latest price for that type and AZ)."""

from __future__ import annotations

from typing import Any


def estimate(ec2: Any, instance_id: str, seconds: float) -> tuple[float | None, str]:
    """(USD or None, a line saying how it was computed)."""
    try:
        instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        itype, zone = instance["InstanceType"], instance["Placement"]["AvailabilityZone"]
        history = ec2.describe_spot_price_history(InstanceTypes=[itype], AvailabilityZone=zone,
                                                  ProductDescriptions=["Linux/UNIX"], MaxResults=1)
        prices = history.get("SpotPriceHistory", [])
    except Exception as exc:  # cost is information, never a reason to fail teardown
        return None, f"cost unknown ({type(exc).__name__})"
    if not prices:
        return None, f"cost unknown (no spot price history for {itype} in {zone})"
    hourly = float(prices[0]["SpotPrice"])
    usd = round(hourly * seconds / 3600, 4)
    return usd, f"~${usd:.4f} ({seconds:.0f} instance-seconds of {itype} in {zone} at ${hourly}/h spot)"
