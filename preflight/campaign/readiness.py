"""The campaign readiness artifact (schema_version 1): exactly the names LOAD_CAMPAIGN reads."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from preflight.campaign.repo import Verdict
from preflight.campaign.spec import get, identity_hash, runtime_hash

SCHEMA_VERSION = 1


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
