"""Launch one one-time spot instance, trying instance types x subnets until one can start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from preflight.aws.clients import error_code
from preflight.aws.user_data import watchdog_script

# "This candidate cannot start here, now": try the next one. Unsupported (type not offered in the
# subnet's zone) and a full subnet are as local as a capacity shortage.
NEXT_CANDIDATE_ERRORS = frozenset({
    "InsufficientInstanceCapacity", "SpotMaxPriceTooLow", "UnfulfillableCapacity", "InsufficientCapacity",
    "InsufficientHostCapacity", "Unsupported", "InsufficientFreeAddressesInSubnet",
})
# Account limits: no amount of waiting or retrying fixes them, only a quota increase. A vCPU limit is
# per instance family, so a later candidate of another family may still start.
QUOTA_ERRORS = frozenset({"MaxSpotInstanceCountExceeded", "VcpuLimitExceeded", "MaxSpotFleetRequestCountExceeded"})


class NoCapacity(Exception):
    """Every candidate was out of capacity; the message lists each attempt."""


class LaunchError(Exception):
    """A launch error that no other candidate can fix: stop at once."""


class QuotaExceeded(LaunchError):
    """Nothing launched and at least one candidate hit an account quota."""


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


@dataclass(frozen=True)
class RootDevice:
    name: str
    snapshot_gb: int


def root_device(ec2: Any, ami: str) -> RootDevice:
    """The AMI's root device name and snapshot size: a mapping at another name would add a second
    volume and leave the root at the snapshot's size (Ubuntu AMIs use /dev/sda1, Amazon Linux /dev/xvda)."""
    try:
        images = ec2.describe_images(ImageIds=[ami])["Images"]
    except Exception as exc:
        raise LaunchError(f"AMI {ami}: {error_code(exc)}: {exc}") from None
    if not images:
        raise LaunchError(f"AMI {ami} not found in this region")
    return root_of_image(images[0])


def root_of_image(image: dict[str, Any]) -> RootDevice:
    """The root device of one DescribeImages entry: its name, and the size of the snapshot mapped there."""
    name = image.get("RootDeviceName") or "/dev/xvda"
    sizes = [m["Ebs"].get("VolumeSize", 0) for m in image.get("BlockDeviceMappings", [])
             if m.get("DeviceName") == name and "Ebs" in m]
    return RootDevice(name, int(sizes[0]) if sizes else 0)


def launch_request(spec: LaunchSpec, root: RootDevice, instance_type: str, subnet: str) -> dict[str, Any]:
    spot: dict[str, Any] = {"SpotInstanceType": "one-time", "InstanceInterruptionBehavior": "terminate"}
    if spec.spot_max_price:
        spot["MaxPrice"] = spec.spot_max_price
    request: dict[str, Any] = {
        "ImageId": spec.ami, "InstanceType": instance_type, "SubnetId": subnet, "MinCount": 1, "MaxCount": 1,
        "InstanceMarketOptions": {"MarketType": "spot", "SpotOptions": spot},
        "InstanceInitiatedShutdownBehavior": "terminate",
        "IamInstanceProfile": {"Name": spec.instance_profile},
        "BlockDeviceMappings": [{"DeviceName": root.name, "Ebs": {
            "VolumeSize": max(spec.root_volume_gb, root.snapshot_gb), "VolumeType": "gp3",
            "DeleteOnTermination": True}}],
        # Plain text: botocore base64-encodes RunInstances UserData itself; encoding it here too
        # hands cloud-init base64 text, which it skips, and the watchdog never starts.
        "UserData": watchdog_script(spec.max_runtime_s),
        "MetadataOptions": {"HttpTokens": "required"},
        "TagSpecifications": [{"ResourceType": rt, "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()]}
                              for rt in ("instance", "volume")],
    }
    if spec.security_groups:
        request["SecurityGroupIds"] = spec.security_groups
    return request


def launch(ec2: Any, spec: LaunchSpec, say: Any = print, root: RootDevice | None = None,
           candidates: list[tuple[str, str]] | None = None) -> tuple[str, str, str]:
    """(instance id, instance type, subnet) of the first candidate that launches. With a launch plan, its
    root device and its ordered candidates (what cannot exist already pruned); else every type x subnet."""
    root = root or root_device(ec2, spec.ami)
    order = candidates or [(t, s) for t in spec.instance_types for s in spec.subnets]
    attempts: list[str] = []
    quota: list[str] = []
    for instance_type, subnet in order:
        if any(q.startswith(f"{instance_type}:") for q in quota):
            continue  # the same family in another subnet hits the same quota
        try:
            reply = ec2.run_instances(**launch_request(spec, root, instance_type, subnet))
        except Exception as exc:  # botocore ClientError; the code decides what happens next
            code = error_code(exc)
            attempts.append(f"{instance_type} in {subnet}: {code}")
            if code in QUOTA_ERRORS:
                quota.append(f"{instance_type}: {code}")
                say(f"launch: {instance_type} in {subnet}: {code} (an account quota, not capacity)")
                continue
            if code not in NEXT_CANDIDATE_ERRORS:
                raise LaunchError(f"{instance_type} in {subnet}: {code}: {exc}") from None
            say(f"launch: {instance_type} in {subnet}: {code}, trying the next candidate")
            continue
        instance_id = reply["Instances"][0]["InstanceId"]
        say(f"launch: {instance_id} ({instance_type} in {subnet}, root {root.name} "
            f"{max(spec.root_volume_gb, root.snapshot_gb)} GB)")
        return instance_id, instance_type, subnet
    if quota:
        raise QuotaExceeded("spot quota reached (" + "; ".join(quota) + "): request an increase in Service "
                            "Quotas for EC2 'All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests' "
                            "or the G/P/... family of the types in EC2_INSTANCE_TYPES; attempts: "
                            + "; ".join(attempts))
    raise NoCapacity("no spot capacity in any candidate: " + "; ".join(attempts))
