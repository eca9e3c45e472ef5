"""`preflight verify`: may the real run trust this artifact? 0 ready · 1 failed · 6 unusable."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from preflight.artifact import SCHEMA_VERSION, ArtifactError, validate
from preflight.durations import format_duration

READY, FAILED, UNUSABLE = 0, 1, 6


def verify(path: Path, max_age_s: float, identity_hash: str | None) -> tuple[int, str]:
    """(exit code, reason) for the artifact at `path`."""
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UNUSABLE, f"{path}: missing (run spot_train.sh --preflight-only first)"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return UNUSABLE, f"{path}: unreadable: {exc}"
    if not isinstance(artifact, dict) or artifact.get("schema_version") != SCHEMA_VERSION:
        version = artifact.get("schema_version") if isinstance(artifact, dict) else None
        return UNUSABLE, f"{path}: unknown schema_version {version!r} (this tool reads {SCHEMA_VERSION})"
    try:
        validate(artifact)
    except ArtifactError as exc:
        return UNUSABLE, f"{path}: invalid: {exc}"
    emitted = datetime.strptime(artifact["emitted_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    age = (datetime.now(timezone.utc) - emitted).total_seconds()
    if age > max_age_s or age < -300:
        return UNUSABLE, (f"{path}: stale: emitted {format_duration(age)} ago, max age "
                          f"{format_duration(max_age_s)}; run a new preflight")
    if identity_hash is not None and artifact["config_identity_hash"] != identity_hash:
        return UNUSABLE, (f"{path}: config hash mismatch: artifact {artifact['config_identity_hash'][:19]}…, "
                          f"current config {identity_hash[:19]}…; the config changed since the preflight")
    if artifact["status"] != "READY":
        return FAILED, f"{path}: FAILED run {artifact['run_id']}: next action: {artifact['next_action']}"
    return READY, f"{path}: READY run {artifact['run_id']}, {format_duration(age)} old"
