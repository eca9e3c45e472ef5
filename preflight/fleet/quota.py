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

# A type whose quota Service Quotas did not list: its own class, not compared (the plan warned about it).
UNLISTED = "not listed"
QUOTA_PRUNE = "spot vCPU quota"


def _quota_of(plan: dict[str, Any], instance_type: str) -> dict[str, Any]:
    """The plan's record of the type's spot vCPU quota (class, code, vcpus), read from ListServiceQuotas."""
    found = (plan.get("spot_vcpu_quotas") or {}).get(instance_type)
    if isinstance(found, dict) and found.get("code"):
        return found
    return {"class": f"{instance_type.split('.')[0]} ({UNLISTED})", "code": None, "vcpus": None}


def demand(plan: dict[str, Any]) -> dict[tuple[str, str | None], int]:
    """vCPUs this project may hold in each quota class ((class, code) → vCPUs)."""
    vcpus = plan.get("vcpus") or {}
    per: dict[tuple[str, str | None], int] = {}
    for candidate in plan.get("candidates", []):
        quota = _quota_of(plan, candidate["instance_type"])
        key = (quota["class"], quota["code"])
        per[key] = max(per.get(key, 0), int(vcpus.get(candidate["instance_type"], 0)))
    return per


def quotas(plan: dict[str, Any]) -> dict[tuple[str, str | None], float]:
    """The quota values this plan read ((class, code) → vCPUs); unlisted quotas are absent."""
    found = {}
    for instance_type in plan.get("spot_vcpu_quotas") or {}:
        quota = _quota_of(plan, instance_type)
        if quota["code"] is not None and quota.get("vcpus") is not None:
            found[(quota["class"], quota["code"])] = float(quota["vcpus"])
    return found


@dataclass
class ClassDemand:
    region: str
    code: str | None
    name: str
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
        return {"region": self.region, "quota_class": self.name, "quota_code": self.code,
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
    """A failed project plan keeps the plan's class: 2 for what no retry changes (configuration, a zone, an
    architecture, a project over the quota even alone), 3 when only the spot price left no candidate."""
    code = 3 if plan.get("exit_code") == 3 else 2
    pruned = [p for p in plan.get("pruned", []) if QUOTA_PRUNE in p]
    if code == 2 and pruned:
        return 2, f"{project} alone does not fit the spot vCPU quota: {'; '.join(pruned)}"
    failed = [c["message"] for c in plan.get("checks", []) if c.get("status") == "fail"]
    what = "a configuration problem" if code == 2 else "no candidate at the spot price cap"
    return code, f"{project}: its launch plan failed ({what}): {'; '.join(failed) or '?'}"


def fleet_plan(plans: dict[str, tuple[str, dict[str, Any]]], requested: int) -> FleetPlan:
    """plans: project → (region, plan.json). The concurrency at which every class fits, or an exit code."""
    result = FleetPlan(requested=requested, concurrency=requested)
    by_class: dict[tuple[str, str, str | None], ClassDemand] = {}
    for project, (region, plan) in sorted(plans.items()):
        if plan.get("exit_code"):
            code, problem = _alone(project, plan)
            result.problems.append(problem)
            result.exit_code = 2 if 2 in (code, result.exit_code) else code
            continue
        read = quotas(plan)
        for (name, code), need in demand(plan).items():
            entry = by_class.setdefault((region, name, code), ClassDemand(region, code, name))
            entry.demands[project] = need
            if (name, code) in read:
                value = read[(name, code)]
                entry.quota = value if entry.quota is None else min(entry.quota, value)
    result.classes = [by_class[key] for key in sorted(by_class, key=lambda k: (k[0], k[1], k[2] or ""))]
    if result.exit_code:
        result.concurrency = 0
        return result
    tight: list[str] = []
    for entry in result.classes:
        name = f"{entry.name} in {entry.region}"
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
