"""Launch one one-time spot instance, trying instance types x subnets until one has capacity."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from preflight.aws.clients import error_code
from preflight.aws.user_data import watchdog_script

# Errors that mean "this candidate has no capacity now": try the next one. Anything else stops.
CAPACITY_ERRORS = frozenset({
    "InsufficientInstanceCapacity", "SpotMaxPriceTooLow", "MaxSpotInstanceCountExceeded",
    "UnfulfillableCapacity", "InsufficientCapacity", "InsufficientHostCapacity",
})


class NoCapacity(Exception):
    """Every candidate was out of capacity; the message lists each attempt."""


class LaunchError(Exception):
    """A non-capacity launch error: stop at once."""


@dataclass(frozen=True)
class LaunchSpec:
    ami: str
    instance_types: list[str]
    subnets: list[str]
    security_groups: list[str]
    instance_profile: str
    root_volume_gb: int
    max_runtime_s: int
    spot_max_price: str
    tags: dict[str, str]


def _request(spec: LaunchSpec, instance_type: str, subnet: str) -> dict[str, Any]:
    spot: dict[str, Any] = {"SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}
    if spec.spot_max_price:
        spot["MaxPrice"] = spec.spot_max_price
    request: dict[str, Any] = {
        "ImageId": spec.ami, "InstanceType": instance_type, "SubnetId": subnet, "MinCount": 1, "MaxCount": 1,
        "InstanceMarketOptions": {"MarketType": "spot", "SpotOptions": spot},
        "InstanceInitiatedShutdownBehavior": "terminate",
        "IamInstanceProfile": {"Name": spec.instance_profile},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {
            "VolumeSize": spec.root_volume_gb, "VolumeType": "gp3", "DeleteOnTermination": True}}],
        "UserData": base64.b64encode(watchdog_script(spec.max_runtime_s).encode()).decode(),
        "MetadataOptions": {"HttpTokens": "required"},
        "TagSpecifications": [{"ResourceType": rt, "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()]}
                              for rt in ("instance", "volume")],
    }
    if spec.security_groups:
        request["SecurityGroupIds"] = spec.security_groups
    return request


def launch(ec2: Any, spec: LaunchSpec, say: Any = print) -> tuple[str, str, str]:
    """(instance id, instance type, subnet) of the first candidate that launches."""
    attempts: list[str] = []
    for instance_type in spec.instance_types:
        for subnet in spec.subnets:
            try:
                reply = ec2.run_instances(**_request(spec, instance_type, subnet))
            except Exception as exc:  # botocore ClientError; the code decides what happens next
                code = error_code(exc)
                attempts.append(f"{instance_type} in {subnet}: {code}")
                if code not in CAPACITY_ERRORS:
                    raise LaunchError(f"{instance_type} in {subnet}: {code}: {exc}") from None
                say(f"launch: {instance_type} in {subnet}: {code}, trying the next candidate")
                continue
            instance_id = reply["Instances"][0]["InstanceId"]
            say(f"launch: {instance_id} ({instance_type} in {subnet})")
            return instance_id, instance_type, subnet
    raise NoCapacity("no spot capacity in any candidate: " + "; ".join(attempts))
