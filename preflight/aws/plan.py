"""The launch plan: prove with read-only calls (and EC2's DryRun) that a spot launch can happen.

`spot_train.sh --plan` prints it; every ssm run computes it before launching anything and launches
from its ordered, pruned candidate list with the root device it found. Independent calls run
concurrently (preflight/aws/plan_calls.py), each under a deadline. Exit classes: 2 a configuration
problem (no such AMI, subnet, profile or type; a missing permission; no candidate can exist because of
its type's architecture, its zone's offerings or a spot vCPU quota — no retry changes those), 3 no
candidate is left only because the spot price is above SPOT_MAX_PRICE (a market that may move).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from preflight.aws import plan_calls as calls
from preflight.aws.ec2_launch import LaunchSpec, RootDevice
from preflight.aws.plan_calls import NO_CANDIDATE
from preflight.model import CheckResult


@dataclass
class Candidate:
    instance_type: str
    subnet: str
    zone: str
    price: float | None = None


@dataclass
class Plan:
    results: list[CheckResult] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    root: RootDevice | None = None
    exit_code: int = 0
    estimated_cost_usd: float | None = None
    wall_s: float = 0.0
    vcpus: dict[str, int] = field(default_factory=dict)  # per type; with the quotas, for preflight_all's sum
    quota: dict[str, dict[str, Any]] = field(default_factory=dict)  # type -> its spot vCPU quota, where listed

    def add(self, check_id: str, status: str, message: str, remediation: str = "", exit_code: int = 0,
            seconds: float = 0.0, **details: Any) -> None:
        self.results.append(CheckResult(check_id, "launch", status, message, remediation, round(seconds, 3),
                                        details))
        if status == "fail" and exit_code and not self.exit_code:
            self.exit_code = exit_code

    def to_dict(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "wall_seconds": round(self.wall_s, 3),
                "checks": [r.to_dict() for r in self.results],
                "candidates": [asdict(c) for c in self.candidates], "pruned": self.pruned,
                "root_device": asdict(self.root) if self.root else None,
                "estimated_cost_usd": self.estimated_cost_usd, "vcpus": self.vcpus,
                "spot_vcpu_quotas": self.quota}


def _prune(plan: Plan, spec: LaunchSpec, facts: calls.Facts, max_price: float | None) -> bool:
    """Every type x subnet in the order it will be tried, minus what cannot exist, each with its reason.
    True when some candidate was pruned for its price alone (the one reason a later retry may not meet)."""
    priced_out = False
    for instance_type in spec.instance_types:
        for subnet in spec.subnets:
            zone = facts.zones.get(subnet, "")
            price = facts.prices.get((instance_type, zone))
            reason = calls.unfit(facts, instance_type, zone, price, max_price)
            if reason:
                plan.pruned.append(f"{instance_type} in {subnet} ({zone}): {reason}")
                priced_out = priced_out or reason.startswith("spot price")
            else:
                plan.candidates.append(Candidate(instance_type, subnet, zone, price))
    return priced_out


def _verdict(plan: Plan, budget_s: float, priced_out: bool) -> None:
    if not plan.candidates:
        plan.add("plan.candidates", "fail", "no candidate can launch: " + "; ".join(plan.pruned),
                 "add instance types of the AMI's architecture or subnets whose zones offer them, request a "
                 "spot vCPU quota increase (Service Quotas), or raise SPOT_MAX_PRICE",
                 NO_CANDIDATE if priced_out else calls.CONFIG)
        return
    order = ", ".join(f"{c.instance_type}@{c.subnet}({c.zone})" for c in plan.candidates)
    first = plan.candidates[0]
    if first.price is not None:
        plan.estimated_cost_usd = round(first.price * budget_s / 3600, 4)
    cost = "" if plan.estimated_cost_usd is None else \
        f"; whole run at most ~${plan.estimated_cost_usd} ({budget_s / 3600:.2f} h at ${first.price}/h)"
    skipped = f"; skipped: {'; '.join(plan.pruned)}" if plan.pruned else ""
    plan.add("plan.candidates", "pass", f"{len(plan.candidates)} candidates, tried in order: {order}{cost}{skipped}",
             pruned=plan.pruned)


def make_plan(clients: calls.Clients, spec: LaunchSpec, budget_s: float, max_price: str) -> Plan:
    started, plan = time.monotonic(), Plan()
    facts = calls.gather(clients, spec, plan.add)
    plan.root, plan.vcpus, plan.quota = facts.root, dict(facts.vcpus), dict(facts.quota)
    if not plan.exit_code:
        calls.reachability(spec, facts, plan.add)
    if not plan.exit_code:
        _verdict(plan, budget_s, _prune(plan, spec, facts, float(max_price) if max_price else None))
    if not plan.exit_code:
        calls.dry_run(clients, spec, plan.root, plan.candidates[0], plan.add)
    plan.wall_s = time.monotonic() - started
    return plan
