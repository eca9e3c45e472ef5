"""The fleet-wide launch plan: spot vCPU demand summed per quota class and region, against the quota.

Each project's own plan proves that it fits alone. Spot vCPU quotas are account-wide per region and per
class (Standard, G and VT, P, ...), so projects launched together share them: this module finds how many
projects may run at once so that any that many of them fit, and says which project cannot fit even
alone. A project's demand in a class is the largest vCPU count among its plan's candidates of that class
(a capacity fallback may launch any of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preflight.aws.plan_calls import SPOT_QUOTA_CODES, family

# Service Quotas' names for the spot vCPU classes ("All G and VT Spot Instance Requests", ...).
CLASS_NAMES = {"L-34B43A08": "Standard", "L-3819A6DF": "G/VT", "L-7212CCBC": "P", "L-88CF9481": "F",
               "L-B5D1601B": "Inf", "L-E3A00192": "X", "L-85EED4F7": "DL", "L-6B0D517C": "Trn"}
QUOTA_PRUNE = "spot vCPU quota"


def quota_code(instance_type: str) -> str:
    return SPOT_QUOTA_CODES[family(instance_type)]


def demand(plan: dict[str, Any]) -> dict[str, int]:
    """vCPUs this project may hold in each quota class (code → vCPUs)."""
    vcpus = plan.get("vcpus") or {}
    per: dict[str, int] = {}
    for candidate in plan.get("candidates", []):
        code = quota_code(candidate["instance_type"])
        per[code] = max(per.get(code, 0), int(vcpus.get(candidate["instance_type"], 0)))
    return per


def quotas(plan: dict[str, Any]) -> dict[str, float]:
    """The quota values this plan read (code → vCPUs); unreadable quotas are absent."""
    return {SPOT_QUOTA_CODES[fam]: float(value) for fam, value in (plan.get("spot_vcpu_quotas") or {}).items()
            if fam in SPOT_QUOTA_CODES}


@dataclass
class ClassDemand:
    region: str
    code: str
    quota: float | None = None
    demands: dict[str, int] = field(default_factory=dict)  # project -> vCPUs

    def fits_at_once(self) -> int:
        """How many projects may run together so that any that many fit: the largest demands first."""
        if self.quota is None:
            return len(self.demands)
        total, count = 0, 0
        for need in sorted(self.demands.values(), reverse=True):
            if total + need > self.quota:
                break
            total, count = total + need, count + 1
        return count

    def to_dict(self, concurrency: int) -> dict[str, Any]:
        largest = sorted(self.demands.values(), reverse=True)[:concurrency]
        return {"region": self.region, "quota_class": CLASS_NAMES.get(self.code, self.code), "quota_code": self.code,
                "quota_vcpus": self.quota, "projects": sorted(self.demands),
                "demand_vcpus": sum(self.demands.values()), "demand_at_concurrency_vcpus": sum(largest),
                "fits_at_once": self.fits_at_once()}


@dataclass
class FleetPlan:
    requested: int
    concurrency: int = 0
    exit_code: int = 0
    classes: list[ClassDemand] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "concurrency_requested": self.requested,
                "concurrency": self.concurrency, "classes": [c.to_dict(self.concurrency) for c in self.classes],
                "problems": self.problems, "message": " ".join(self.lines)}


def _alone(project: str, plan: dict[str, Any]) -> tuple[int, str]:
    """A failed project plan: 2 for a configuration problem or a project over the quota even alone, 3
    when no candidate can exist for another reason (zone, price)."""
    code = int(plan.get("exit_code") or 2)
    pruned = [p for p in plan.get("pruned", []) if QUOTA_PRUNE in p]
    if code == 3 and pruned:
        return 2, f"{project} alone does not fit the spot vCPU quota: {'; '.join(pruned)}"
    failed = [c["message"] for c in plan.get("checks", []) if c.get("status") == "fail"]
    what = "a configuration problem" if code == 2 else "no candidate can launch"
    return (2 if code != 3 else 3), f"{project}: its launch plan failed ({what}): {'; '.join(failed) or '?'}"


def fleet_plan(plans: dict[str, tuple[str, dict[str, Any]]], requested: int) -> FleetPlan:
    """plans: project → (region, plan.json). The concurrency at which every class fits, or an exit code."""
    result = FleetPlan(requested=requested, concurrency=requested)
    by_class: dict[tuple[str, str], ClassDemand] = {}
    for project, (region, plan) in sorted(plans.items()):
        if plan.get("exit_code"):
            code, problem = _alone(project, plan)
            result.problems.append(problem)
            result.exit_code = 2 if 2 in (code, result.exit_code) else code
            continue
        read = quotas(plan)
        for code, need in demand(plan).items():
            entry = by_class.setdefault((region, code), ClassDemand(region, code))
            entry.demands[project] = need
            if code in read:
                entry.quota = read[code] if entry.quota is None else min(entry.quota, read[code])
    result.classes = [by_class[key] for key in sorted(by_class)]
    if result.exit_code:
        result.concurrency = 0
        return result
    tight: list[str] = []
    for entry in result.classes:
        name = f"{CLASS_NAMES.get(entry.code, entry.code)} in {entry.region}"
        wanted = sum(entry.demands.values())
        if entry.quota is None:
            result.lines.append(f"{name}: {wanted} spot vCPUs wanted, the quota is unreadable: not compared")
            continue
        fits = entry.fits_at_once()
        if fits < result.concurrency:
            tight.append(f"{name}: {len(entry.demands)} projects want {wanted} spot vCPUs, the quota is "
                         f"{entry.quota:g} ({fits} at once fit)")
            result.concurrency = fits
    if tight:
        result.lines.append(f"concurrency lowered from {requested} to {result.concurrency} to fit the spot vCPU "
                            f"quota: {'; '.join(tight)}")
    return result
