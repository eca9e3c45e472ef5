"""What each plan answer means: one check line each, the facts the launch needs, the exit class."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from preflight.aws.clients import error_code
from preflight.aws.ec2_launch import LaunchSpec, root_of_image
from preflight.aws.plan_calls import CONFIG, Add, Facts, problem_of, quota_class, quota_of

Answer = tuple[Any, float]


def ami(answer: Answer, spec: LaunchSpec, facts: Facts, add: Add) -> None:
    reply, seconds = answer
    if error_code(reply) in ("InvalidAMIID.NotFound", "InvalidAMIID.Malformed") or \
            (not isinstance(reply, BaseException) and not reply["Images"]):
        add("plan.ami", "fail", f"AMI {spec.ami} does not exist in this region",
            "set EC2_AMI_ID to an AMI of this region (AMI ids differ per region)", CONFIG, seconds)
        return
    if (problem := problem_of(reply, "ec2:DescribeImages")):
        add("plan.ami", "fail", problem, "grant ec2:DescribeImages to the launcher", CONFIG, seconds)
        return
    image = reply["Images"][0]
    facts.root, facts.ami_arch = root_of_image(image), image.get("Architecture", "")
    if image.get("State", "available") != "available":
        add("plan.ami", "fail", f"AMI {spec.ami} is {image.get('State')}, not available", "use an available AMI",
            CONFIG, seconds)
        return
    add("plan.ami", "pass", f"{spec.ami} available, {facts.ami_arch}, root {facts.root.name} "
        f"({facts.root.snapshot_gb} GB snapshot)", seconds=seconds)


def types(answer: Answer, spec: LaunchSpec, facts: Facts, add: Add) -> None:
    reply, seconds = answer
    if (problem := problem_of(reply, "ec2:DescribeInstanceTypes")):
        add("plan.instance_types", "fail", problem, "fix EC2_INSTANCE_TYPES (e.g. g5.xlarge)", CONFIG, seconds)
        return
    for item in reply["InstanceTypes"]:
        facts.arch[item["InstanceType"]] = item["ProcessorInfo"]["SupportedArchitectures"]
        facts.vcpus[item["InstanceType"]] = item["VCpuInfo"]["DefaultVCpus"]
    text = ", ".join(f"{t} {'/'.join(facts.arch.get(t, ['?']))} {facts.vcpus.get(t, '?')} vCPU"
                     for t in spec.instance_types)
    wrong = [t for t in spec.instance_types if facts.ami_arch and facts.ami_arch not in facts.arch.get(t, [])]
    if wrong and len(wrong) == len(spec.instance_types):
        add("plan.instance_types", "fail", f"no type runs the {facts.ami_arch} AMI: {text}",
            "pick instance types of the AMI's architecture, or an AMI of theirs", CONFIG, seconds)
        return
    add("plan.instance_types", "warn" if wrong else "pass", text,
        f"{', '.join(wrong)} cannot run a {facts.ami_arch} AMI and are skipped" if wrong else "", seconds=seconds)


def network(subnets: Answer, groups: Answer, spec: LaunchSpec, facts: Facts, add: Add) -> None:
    seconds = max(subnets[1], groups[1])
    for (reply, _), action, key in ((subnets, "ec2:DescribeSubnets", "EC2_SUBNET_IDS"),
                                    (groups, "ec2:DescribeSecurityGroups", "EC2_SECURITY_GROUP_IDS")):
        if (problem := problem_of(reply, action)):
            add("plan.network", "fail", problem, f"fix {key}: every id must exist in this region", CONFIG, seconds)
            return
    facts.zones = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets[0]["Subnets"]}
    facts.public_ip = {s["SubnetId"]: bool(s.get("MapPublicIpOnLaunch")) for s in subnets[0]["Subnets"]}
    vpcs = {s["VpcId"] for s in subnets[0]["Subnets"]} | {g["VpcId"] for g in groups[0]["SecurityGroups"]}
    if len(vpcs) > 1:
        add("plan.network", "fail", f"subnets and security groups span {len(vpcs)} VPCs ({', '.join(sorted(vpcs))})",
            "use subnets and security groups of one VPC", CONFIG, seconds)
        return
    facts.vpc = next(iter(vpcs), "")
    add("plan.network", "pass", ", ".join(f"{s} {facts.zones[s]}" for s in spec.subnets) +
        f" in {next(iter(vpcs), '?')}", seconds=seconds)


def _trusts_ec2(role: dict[str, Any]) -> bool:
    document = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(document, str):
        document = json.loads(unquote(document))
    for statement in document.get("Statement", []):
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "ec2.amazonaws.com" in services:
            return True
    return False


def profile(answer: Answer, spec: LaunchSpec, add: Add) -> None:
    reply, seconds = answer
    name = spec.instance_profile
    if error_code(reply) == "NoSuchEntity":
        add("plan.instance_profile", "fail", f"instance profile {name} does not exist",
            "create it (the CloudFormation template's SpotInstanceProfile) or fix EC2_INSTANCE_PROFILE",
            CONFIG, seconds)
        return
    if (problem := problem_of(reply, "iam:GetInstanceProfile")):
        # A launcher scoped to its stack's profiles is refused a name outside them, existing or not.
        add("plan.instance_profile", "fail", problem + f": either {name} is not one of the stack's instance "
            "profiles (the launcher policy may read only those) or the launcher lacks iam:GetInstanceProfile",
            "set EC2_INSTANCE_PROFILE to the stack's output SpotInstanceProfileName", CONFIG, seconds)
        return
    roles = reply["InstanceProfile"].get("Roles", [])
    if not roles or not _trusts_ec2(roles[0]):
        add("plan.instance_profile", "fail", f"instance profile {name} has " +
            ("no role" if not roles else f"role {roles[0]['RoleName']}, which EC2 may not assume"),
            "add a role whose trust policy allows ec2.amazonaws.com to sts:AssumeRole", CONFIG, seconds)
        return
    add("plan.instance_profile", "pass", f"{name} → role {roles[0]['RoleName']}, assumable by EC2", seconds=seconds)


def offerings(answer: Answer, facts: Facts, add: Add) -> None:
    reply, seconds = answer
    if (problem := problem_of(reply, "ec2:DescribeInstanceTypeOfferings")):
        add("plan.offerings", "warn", f"{problem}; candidates are not pruned by zone",
            "grant ec2:DescribeInstanceTypeOfferings to the launcher", seconds=seconds)
        return
    facts.offered = {(o["InstanceType"], o["Location"]) for o in reply["InstanceTypeOfferings"]}
    zones = sorted(set(facts.zones.values()))
    shown = "; ".join(f"{z}: {', '.join(sorted(t for t, loc in facts.offered if loc == z)) or 'none'}" for z in zones)
    add("plan.offerings", "pass", f"offered per zone: {shown}", seconds=seconds)


def prices(answer: Answer, spec: LaunchSpec, facts: Facts, add: Add) -> None:
    reply, seconds = answer
    if (problem := problem_of(reply, "ec2:DescribeSpotPriceHistory")):
        add("plan.spot_price", "warn", f"{problem}; no price check or cost estimate", seconds=seconds)
        return
    latest: dict[tuple[str, str], Any] = {}
    for item in reply["SpotPriceHistory"]:  # newest first per AWS; keep the newest per type and zone
        key = (item["InstanceType"], item["AvailabilityZone"])
        if key not in latest or item["Timestamp"] > latest[key]["Timestamp"]:
            latest[key] = item
    facts.prices = {key: float(item["SpotPrice"]) for key, item in latest.items()}
    cap = f" (SPOT_MAX_PRICE ${spec.spot_max_price})" if spec.spot_max_price else ""
    shown = ", ".join(f"{t} ${min(p for (tt, _), p in facts.prices.items() if tt == t):g}/h"
                      for t in spec.instance_types if any(tt == t for tt, _ in facts.prices))
    add("plan.spot_price", "pass" if shown else "warn", f"lowest current spot price: {shown or 'none listed'}{cap}",
        "" if shown else "no spot price history for these types: the cost estimate is unknown", seconds=seconds)


def quotas(answer: Answer, spec: LaunchSpec, facts: Facts, add: Add) -> None:
    reply, seconds = answer
    if isinstance(reply, BaseException):
        add("plan.quota", "warn", f"spot vCPU quotas unreadable (servicequotas:ListServiceQuotas: "
            f"{error_code(reply)})", "grant servicequotas:ListServiceQuotas to the launcher to check quotas "
            "before launching", seconds=seconds)
        return
    readable, unlisted = [], []
    for instance_type in spec.instance_types:
        found = quota_of(reply, instance_type)
        if found is None:
            unlisted.append(instance_type)
            continue
        facts.quota[instance_type] = {"class": quota_class(found[0]), "code": found[1], "vcpus": found[2]}
        readable.append(f"{instance_type} {found[2]:g} vCPUs ({found[1]} {found[0]})")
    if unlisted:
        add("plan.quota", "warn", f"no spot vCPU quota listed for {', '.join(unlisted)}"
            + (f"; {'; '.join(readable)}" if readable else ""),
            "Service Quotas lists only quotas with an applied value: check the quota in the console", seconds=seconds)
        return
    add("plan.quota", "pass", f"spot vCPU quotas: {'; '.join(readable)}", seconds=seconds)
