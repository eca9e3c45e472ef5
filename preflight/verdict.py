"""`preflight verify --json`: the verdict as one JSON object, described by
preflight/schema/verify-result.schema.json. Standard library only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VERDICTS = {0: "READY", 1: "FAILED", 2: "USAGE", 6: "UNUSABLE"}


def _facts(path: Path, kind: str) -> dict[str, Any]:
    """What a verified (READY or FAILED) artifact says about itself; verify has already read and
    checked it, so only its fields are copied here (its texts are bounded by the artifact)."""
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    failures = [{"id": str(f.get("id") or f.get("check_id")), "message": str(f.get("message", "")),
                 "remediation": str(f.get("remediation", ""))} for f in artifact.get("failures") or []]
    ident = "campaign_id" if kind == "campaign" else "run_id"
    return {ident: artifact.get(ident), "status": artifact.get("status"), "emitted_at": artifact.get("emitted_at"),
            "checks_summary": artifact.get("checks_summary"), "failures": failures,
            "next_action": artifact.get("next_action")}


def verdict(code: int, reason: str, artifact: Path, kind: str, bound_to: Path | None, checked: bool) -> dict[str, Any]:
    """kind: "readiness" (bound_to: the config) or "campaign" (bound_to: the campaign file)."""
    out: dict[str, Any] = {"verdict": VERDICTS.get(code, "UNUSABLE"), "exit_code": code, "kind": kind,
                           "artifact": str(artifact), "reason": reason,
                           "binding": {"path": str(bound_to) if bound_to else None, "checked": checked}}
    if code in (0, 1):
        out.update(_facts(artifact, kind))
    return out


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, sort_keys=True, ensure_ascii=False)
