"""`preflight verify ARTIFACT --campaign PATH`: 0 fresh READY, 1 FAILED, 6 unusable (saying which)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from preflight.campaign import spec
from preflight.campaign.readiness import SCHEMA_VERSION
from preflight.durations import format_duration
from preflight.verify import FUTURE_TOLERANCE_S, parse_rfc3339


def verify_campaign(path: Path, campaign: dict, max_age_s: float) -> tuple[int, str]:
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 6, f"{path}: missing (run preflight campaign --campaign ... first)"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return 6, f"{path}: unreadable: {exc}"
    if not isinstance(artifact, dict) or artifact.get("schema_version") != SCHEMA_VERSION:
        version = artifact.get("schema_version") if isinstance(artifact, dict) else None
        return 6, f"{path}: unknown schema_version {version!r} (this tool reads {SCHEMA_VERSION})"
    for key, expected in (("campaign_identity_hash", spec.identity_hash(campaign)),
                          ("runtime_config_hash", spec.runtime_hash(campaign))):
        if artifact.get(key) != expected:
            return 6, f"{path}: {key} mismatch: the artifact was made for another campaign configuration"
    try:
        age = (datetime.now(timezone.utc) - parse_rfc3339(str(artifact.get("emitted_at")))).total_seconds()
    except ValueError as exc:
        return 6, f"{path}: unreadable: emitted_at: {exc}"
    if age < -FUTURE_TOLERANCE_S:
        return 6, f"{path}: emitted_at is {format_duration(-age)} in the future"
    if age > max_age_s:
        return 6, f"{path}: stale: emitted {format_duration(age)} ago, max age {format_duration(max_age_s)}"
    if artifact.get("status") != "READY":
        return 1, f"{path}: FAILED: next action: {artifact.get('next_action')}"
    return 0, f"{path}: READY campaign {artifact.get('campaign_id')}, {format_duration(age)} old"
