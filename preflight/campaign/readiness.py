"""The campaign readiness artifact (schema_version 1): exactly the names LOAD_CAMPAIGN reads."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from preflight.campaign.repo import Verdict
from preflight.campaign.spec import get, identity_hash, runtime_hash

SCHEMA_VERSION = 1
STATUSES = ("pass", "fail", "bootstrapped", "warn")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")


def recount(checks: list[dict[str, Any]]) -> dict[str, int]:
    count = {s: sum(1 for c in checks if c["status"] == s) for s in STATUSES}
    return {"total": len(checks), "passed": count["pass"], "failed": count["fail"],
            "bootstrapped": count["bootstrapped"], "warnings": count["warn"]}


def build(verdicts: list[Verdict], data: dict[str, Any], duration_s: float, actions: list[str]) -> dict[str, Any]:
    count = {s: sum(1 for v in verdicts if v.status == s) for s in ("pass", "fail", "bootstrapped", "warn")}
    failures = [{"check_id": v.check_id, "category": v.category, "message": v.message,
                 "remediation": v.remediation} for v in verdicts if v.status == "fail"]
    warnings = [f"{v.check_id}: {v.message}" for v in verdicts if v.status == "warn"]
    notes = actions + warnings
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "FAILED" if failures else "READY",
        "campaign_id": get(data, "campaign.name"),
        "campaign_identity_hash": identity_hash(data),
        "runtime_config_hash": runtime_hash(data),
        "emitted_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "preflight_duration_seconds": round(duration_s, 3),
        "checks_summary": {"total": len(verdicts), "passed": count["pass"], "failed": count["fail"],
                           "bootstrapped": count["bootstrapped"], "warnings": count["warn"]},
        "failures": failures,
        "next_action": "proceed" if not failures else (failures[0]["remediation"] or failures[0]["message"]),
        "diagnostics": "; ".join(notes) if notes else None,
        "checks": [{"id": v.check_id, "category": v.category, "status": v.status, "message": v.message,
                    "remediation": v.remediation} for v in verdicts],
    }


def _shape(artifact: dict[str, Any]) -> str:
    """The first field that is not what LOAD_CAMPAIGN and the recount below rely on, or ""."""
    if artifact.get("status") not in ("READY", "FAILED"):
        return f"status {artifact.get('status')!r} is neither READY nor FAILED"
    for key in ("campaign_identity_hash", "runtime_config_hash"):
        if not isinstance(artifact.get(key), str) or not _HASH.match(artifact[key]):
            return f"{key} is not sha256:<64 hex>"
    if not isinstance(artifact.get("next_action"), str) or not artifact["next_action"]:
        return "next_action is not a non-empty string"
    checks = artifact.get("checks")
    if not isinstance(checks, list) or not all(isinstance(c, dict) and isinstance(c.get("id"), str) and
                                               c.get("status") in STATUSES for c in checks):
        return f"checks is not a list of {{id, status}} with a status in {', '.join(STATUSES)}"
    summary = artifact.get("checks_summary")
    if not isinstance(summary, dict) or not all(type(v) is int for v in summary.values()):
        return "checks_summary is not a mapping of counts"
    failures = artifact.get("failures")
    if not isinstance(failures, list) or not all(isinstance(f, dict) and isinstance(f.get("check_id"), str)
                                                 for f in failures):
        return "failures is not a list of {check_id, ...}"
    return ""


def validate(artifact: dict[str, Any]) -> None:
    """The shape, then the probe artifact's own consistency rules: the verdict recounted from checks[]
    (no checks; a summary that does not count them; READY with a failing check or with failures[];
    FAILED with no failing check; failures[] other than the failing checks). Raises ArtifactError."""
    from preflight.artifact import ArtifactError, consistent

    problem = _shape(artifact)
    if problem:
        raise ArtifactError(problem)
    consistent(artifact, recount(artifact["checks"]), "check_id")
