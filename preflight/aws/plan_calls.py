"""The plan's AWS calls (all read-only, plus one DryRun) and what each answer means for the launch."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from preflight.aws.clients import error_code
from preflight.aws.ec2_launch import NEXT_CANDIDATE_ERRORS, LaunchSpec, RootDevice, launch_request
from preflight.parallel import concurrently

CALL_DEADLINE_S = 10.0
# The plan makes its calls in two rounds (every read at once; then the DryRun), each under CALL_DEADLINE_S:
# its worst case, which preflight/deadlines.py adds to the run's, is bounded.
PLAN_ROUNDS = 2
PLAN_WORST_S = PLAN_ROUNDS * CALL_DEADLINE_S + 10  # + the helper's start-up and the verdicts
CONFIG, NO_CANDIDATE = 2, 3
# What an instance needs to reach SSM without a public IP (SSM user guide, "Use VPC endpoints").
SSM_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")
_DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure")
Add = Callable[..., None]


@dataclass(frozen=True)
class Clients:
    ec2: Any
    iam: Any
    quotas: Any


@dataclass
class Facts:
    root: RootDevice | None = None
    vpc: str = ""
    public_ip: dict[str, bool] = field(default_factory=dict)  # subnet -> MapPublicIpOnLaunch
    route_answers: dict[str, Any] = field(default_factory=dict)  # routes, main_routes, endpoints: (reply, s)
    ami_arch: str = ""
    arch: dict[str, list[str]] = field(default_factory=dict)
    vcpus: dict[str, int] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    offered: set[tuple[str, str]] | None = None
    prices: dict[tuple[str, str], float] = field(default_factory=dict)
    quota: dict[str, dict[str, Any]] = field(default_factory=dict)  # type -> {class, code, vcpus}, if readable


# "All <families> Spot Instance Requests": the spot vCPU quotas (EC2 user guide, "Spot Instance quotas":
# Standard (A, C, D, H, I, M, R, T, Z), F, G and VT, Inf, P4, P3 and P2, P5, Trn, X, DL). Their codes are
# read from Service Quotas, not from a table: a new family (P5 got its own) is then covered as listed.
_SPOT_QUOTA = re.compile(r"^All (.+) Spot Instance Requests$")


@functools.lru_cache(maxsize=8)
def _listed_quotas(quotas: Any) -> tuple[tuple[str, str, float], ...]:
    """(name, code, value) of every EC2 spot quota ListServiceQuotas lists, every page, once per run."""
    found, token = [], None
    while True:
        page = quotas.list_service_quotas(ServiceCode="ec2", **({"NextToken": token} if token else {}))
        found += [(q["QuotaName"], q["QuotaCode"], float(q["Value"])) for q in page.get("Quotas", [])
                  if _SPOT_QUOTA.match(q.get("QuotaName", ""))]
        token = page.get("NextToken")
        if not token:
            return tuple(found)


def _families(name: str) -> list[str]:
    """The type prefixes a quota's name covers, lower case: "Standard (A, C, ...)" -> a, c, ...;
    "P4, P3 and P2" -> p4, p3, p2."""
    inner = _SPOT_QUOTA.match(name).group(1)  # type: ignore[union-attr]
    if inner.startswith("Standard"):
        inner = inner[inner.find("(") + 1:inner.rfind(")")]
    return [t.strip().lower() for t in re.split(r",|\band\b", inner) if t.strip()]


def quota_of(listed: tuple[tuple[str, str, float], ...], instance_type: str) -> tuple[str, str, float] | None:
    """The quota (name, code, vCPUs) whose family is the longest prefix of the type's (p5 before p, inf before i)."""
    prefix = instance_type.split(".")[0].lower()
    best: tuple[int, tuple[str, str, float]] | None = None
    for quota in listed:
        for fam in _families(quota[0]):
            rest = prefix[len(fam):]
            if prefix.startswith(fam) and (not rest or rest[0].isdigit() or fam[-1].isdigit() or len(fam) == 1) \
                    and (best is None or len(fam) > best[0]):
                best = (len(fam), quota)
    return best[1] if best else None


def quota_class(name: str) -> str:
    """A quota's short name for people: "All G and VT Spot Instance Requests" -> "G and VT",
    "All Standard (A, C, ...) Spot Instance Requests" -> "Standard"."""
    inner = _SPOT_QUOTA.match(name)
    return (inner.group(1) if inner else name).split(" (")[0]


def problem_of(answer: Any, action: str) -> str | None:
    if not isinstance(answer, BaseException):
        return None
    code = error_code(answer)
    if code in _DENIED:
        return f"{action} is not allowed for the launching identity ({code})"
    return f"{action}: {code}: {answer}"


def _calls(c: Clients, spec: LaunchSpec) -> dict[str, Callable[[], Any]]:
    types = spec.instance_types
    work: dict[str, Callable[[], Any]] = {
        "ami": lambda: c.ec2.describe_images(ImageIds=[spec.ami]),
        "types": lambda: c.ec2.describe_instance_types(InstanceTypes=types),
        "subnets": lambda: c.ec2.describe_subnets(SubnetIds=spec.subnets),
        "groups": lambda: c.ec2.describe_security_groups(GroupIds=spec.security_groups) if spec.security_groups
        else {"SecurityGroups": []},
        "profile": lambda: c.iam.get_instance_profile(InstanceProfileName=spec.instance_profile),
        "offerings": lambda: c.ec2.describe_instance_type_offerings(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": types}]),
        "prices": lambda: c.ec2.describe_spot_price_history(
            InstanceTypes=types, StartTime=datetime.now(timezone.utc),
            ProductDescriptions=["Linux/UNIX", "Linux/UNIX (Amazon VPC)"]),
    }
    work["quotas"] = lambda: _listed_quotas(c.quotas)
    # The route to SSM, read with the rest: the subnets' own route tables, every main one, every endpoint
    # (narrowed to the subnets' VPC afterwards, when DescribeSubnets has said which VPC that is).
    work["routes"] = lambda: c.ec2.describe_route_tables(Filters=[
        {"Name": "association.subnet-id", "Values": spec.subnets}])
    work["main_routes"] = lambda: c.ec2.describe_route_tables(Filters=[{"Name": "association.main",
                                                                          "Values": ["true"]}])
    work["endpoints"] = lambda: c.ec2.describe_vpc_endpoints()
    return work


def gather(c: Clients, spec: LaunchSpec, add: Add) -> Facts:
    from preflight.aws import plan_verdicts as verdicts

    answers = concurrently(_calls(c, spec), CALL_DEADLINE_S)
    facts = Facts()
    verdicts.ami(answers["ami"], spec, facts, add)
    verdicts.types(answers["types"], spec, facts, add)
    verdicts.network(answers["subnets"], answers["groups"], spec, facts, add)
    verdicts.profile(answers["profile"], spec, add)
    verdicts.offerings(answers["offerings"], facts, add)
    verdicts.prices(answers["prices"], spec, facts, add)
    verdicts.quotas(answers["quotas"], spec, facts, add)
    facts.route_answers = {k: answers[k] for k in ("routes", "main_routes", "endpoints")}
    return facts


def reachability(spec: LaunchSpec, facts: Facts, add: Add) -> None:
    """Whether an instance in each subnet can reach SSM at all: a public IP and a route to an internet
    gateway, a default route through a NAT (gateway, instance, transit gateway), or VPC endpoints for
    ssm, ssmmessages and ec2messages. None of the three: SSM never comes online (exit 4 after minutes)."""
    if not facts.vpc or not facts.route_answers:
        return
    answers = facts.route_answers
    seconds = max(s for _, s in answers.values())
    for key, action in (("routes", "ec2:DescribeRouteTables"), ("main_routes", "ec2:DescribeRouteTables"),
                        ("endpoints", "ec2:DescribeVpcEndpoints")):
        if (problem := problem_of(answers[key][0], action)):
            add("plan.ssm_reachable", "warn", f"{problem}; whether the subnets reach SSM is not proven",
                f"grant {action} to the launcher", seconds=seconds)
            return
    tables = answers["routes"][0]["RouteTables"] + [t for t in answers["main_routes"][0]["RouteTables"]
                                                     if t.get("VpcId") == facts.vpc]
    services = {e["ServiceName"].rsplit(".", 1)[-1] for e in answers["endpoints"][0]["VpcEndpoints"]
                if e.get("VpcId") == facts.vpc and e.get("State", "available").lower() == "available"}
    missing = [s for s in SSM_ENDPOINTS if s not in services]
    blind = [s for s in spec.subnets if not _default_route_reaches(tables, s, facts.public_ip.get(s))]
    if not missing or not blind:
        how = "VPC endpoints for ssm, ssmmessages and ec2messages" if not missing else "a route out"
        add("plan.ssm_reachable", "pass", f"every subnet reaches SSM ({how})", seconds=seconds)
        return
    add("plan.ssm_reachable", "fail", f"{', '.join(blind)} cannot reach SSM: no public IP on launch with an "
        f"internet gateway route, no NAT route, and no VPC endpoints for {', '.join(missing)} in {facts.vpc}",
        "use subnets with MapPublicIpOnLaunch and an internet gateway route, or a NAT gateway route, or create "
        f"interface VPC endpoints com.amazonaws.<region>.{{{','.join(SSM_ENDPOINTS)}}} (private DNS on) in "
        f"{facts.vpc}", CONFIG, seconds)


def _default_route_reaches(tables: list[dict[str, Any]], subnet: str, public_ip: bool | None) -> bool:
    """The subnet's route table (its own, else the VPC's main one) sends 0.0.0.0/0 somewhere that reaches
    SSM's public endpoints: a NAT, or an internet gateway when the instance gets a public IP."""
    own = [t for t in tables if any(a.get("SubnetId") == subnet for a in t.get("Associations", []))]
    main = [t for t in tables if any(a.get("Main") for a in t.get("Associations", []))]
    for table in own or main:
        for route in table.get("Routes", []):
            if route.get("DestinationCidrBlock") != "0.0.0.0/0" or route.get("State", "active") != "active":
                continue
            if route.get("NatGatewayId") or route.get("InstanceId") or route.get("TransitGatewayId"):
                return True
            if str(route.get("GatewayId", "")).startswith("igw-") and public_ip:
                return True
    return False


def unfit(facts: Facts, instance_type: str, zone: str, price: float | None, max_price: float | None) -> str:
    """Why this candidate cannot launch, or "" when it can."""
    arch = facts.arch.get(instance_type, [])
    if facts.ami_arch and arch and facts.ami_arch not in arch:
        return f"{'/'.join(arch)} type, {facts.ami_arch} AMI"
    if facts.offered is not None and (instance_type, zone) not in facts.offered:
        return "not offered in this zone"
    quota = facts.quota.get(instance_type)
    if quota is not None and quota["vcpus"] < facts.vcpus.get(instance_type, 0):
        return f"spot vCPU quota {quota['vcpus']:g} ({quota['code']}) is below its {facts.vcpus[instance_type]} vCPUs"
    if max_price is not None and price is not None and price > max_price:
        return f"spot price ${price:g}/h is above SPOT_MAX_PRICE ${max_price:g}"
    return ""


def dry_run(c: Clients, spec: LaunchSpec, root: RootDevice | None, first: Any, add: Add) -> None:
    """RunInstances with DryRun=True: AWS checks every permission the real request needs (CreateTags and
    PassRole included) and answers DryRunOperation instead of launching. Under the same deadline as every
    other plan call (botocore's retries alone could take minutes)."""
    request = launch_request(spec, root or RootDevice("/dev/xvda", 0), first.instance_type, first.subnet)
    answer, seconds = concurrently({"dry": lambda: c.ec2.run_instances(DryRun=True, **request)},
                                   CALL_DEADLINE_S)["dry"]
    code = error_code(answer) if isinstance(answer, BaseException) else "launched"
    if code == "DryRunOperation":
        add("plan.permissions", "pass", f"ec2:RunInstances would be allowed for {first.instance_type} in "
            f"{first.subnet} (DryRun; tags and the instance profile's PassRole included)", seconds=seconds)
    elif code in NEXT_CANDIDATE_ERRORS:  # not expected from a dry run; the launch still tries every candidate
        add("plan.permissions", "warn", f"DryRun of ec2:RunInstances answered {code} for {first.instance_type} in "
            f"{first.subnet}: permissions not proven", seconds=seconds)
    elif isinstance(answer, TimeoutError):
        add("plan.permissions", "warn", f"DryRun of ec2:RunInstances: {answer}: permissions not proven",
            seconds=seconds)
    elif code in _DENIED:
        add("plan.permissions", "fail", f"ec2:RunInstances is not allowed for the launching identity ({code}): "
            f"{answer}", "attach the launcher policy (infra_scripts/cfn/spot-preflight.yaml LauncherPolicy): "
            "ec2:RunInstances, ec2:CreateTags, iam:PassRole on the instance role", CONFIG, seconds)
    else:
        add("plan.permissions", "fail", f"DryRun of ec2:RunInstances answered {code}: {answer}",
            "fix the launch request this names (AMI, subnet, security groups, profile)", CONFIG, seconds)
    add("plan.unprovable", "skip", "ec2:TerminateInstances (its tag condition needs a real instance) and "
        "ssm:SendCommand have no dry run; the first real run proves them")
