"""`preflight verify`: may the real run trust this artifact? 0 ready · 1 failed · 6 unusable."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from preflight.artifact import SCHEMA_VERSION, ArtifactError, read_json, validate
from preflight.durations import format_duration

READY, FAILED, UNUSABLE = 0, 1, 6
# Hosts are NTP-synced; more than this ahead is a wrong clock or a hand-made artifact, not skew.
FUTURE_TOLERANCE_S = 300
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def parse_rfc3339(text: str) -> datetime:
    """Any RFC 3339 date-time (with or without fractional seconds, Z or an offset) as aware UTC.
    datetime.fromisoformat on Python 3.9 takes neither `Z` nor more than six fractional digits."""
    match = _RFC3339.match(text)
    if not match:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    day, clock, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone in ("Z", "z") else zone
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}").astimezone(timezone.utc)
    except (ValueError, OverflowError):  # month 13, or year 9999 at -05:00: past what a datetime holds
        raise ValueError(f"not a date-time this tool can represent: {text!r}") from None


def find_config(artifact: Path) -> tuple[Path | None, str]:
    """The config the artifact was made with, as its run recorded it (run.json beside it), or (None,
    why the binding cannot be checked). Never a workflow.env that merely sits above the artifact:
    in a checkout with several projects that is another project's config."""
    record = artifact.resolve().parent / "run.json"
    try:
        recorded = read_json(record).get("config", "")
    except (OSError, ValueError, AttributeError, ArtifactError):
        return None, "no --config, and no run.json beside the artifact records the config it was made with"
    if not isinstance(recorded, str) or not recorded or not Path(recorded).is_file():
        return None, f"no --config, and the config its run recorded ({recorded or 'none'}) is gone"
    return Path(recorded), ""


def read_artifact(path: Path, schema_version: int, how_to_make: str) -> tuple[dict | None, str]:
    """(the artifact, "") or (None, why it cannot be used): missing, unreadable (not a regular file, too
    large, too deeply nested, not UTF-8 JSON), or another schema."""
    try:
        artifact = read_json(path)
    except FileNotFoundError:
        return None, f"{path}: missing ({how_to_make})"
    except (OSError, UnicodeDecodeError, ValueError, ArtifactError) as exc:
        return None, f"{path}: unreadable: {exc}"
    if not isinstance(artifact, dict) or artifact.get("schema_version") != schema_version:
        version = artifact.get("schema_version") if isinstance(artifact, dict) else None
        return None, f"{path}: unknown schema_version {version!r} (this tool reads {schema_version})"
    return artifact, ""


def stale_or_future(path: Path, emitted: datetime, max_age_s: float, now: datetime | None = None) -> tuple[float, str]:
    """(age in seconds, "" or why that age makes the artifact unusable)."""
    age = ((now or datetime.now(timezone.utc)) - emitted).total_seconds()
    if age < -FUTURE_TOLERANCE_S:
        return age, (f"{path}: emitted_at {emitted:%Y-%m-%dT%H:%M:%SZ} is {format_duration(-age)} in the future "
                     "(a wrong clock on the probing host, or an artifact not written by the probe)")
    if age > max_age_s:
        return age, (f"{path}: stale: emitted {format_duration(age)} ago, max age "
                     f"{format_duration(max_age_s)}; run a new preflight")
    return age, ""


def verify(path: Path, max_age_s: float, identity_hash: str | None,
           now: datetime | None = None) -> tuple[int, str]:
    """(exit code, reason) for the artifact at `path`."""
    artifact, problem = read_artifact(path, SCHEMA_VERSION, "run spot_train.sh --preflight-only first")
    if artifact is None:
        return UNUSABLE, problem
    try:
        validate(artifact)
        emitted = parse_rfc3339(artifact["emitted_at"])
    except (ArtifactError, ValueError) as exc:
        return UNUSABLE, f"{path}: invalid: {exc}"
    age, problem = stale_or_future(path, emitted, max_age_s, now)
    if problem:
        return UNUSABLE, problem
    if identity_hash is not None and artifact["config_identity_hash"] != identity_hash:
        return UNUSABLE, (f"{path}: config hash mismatch: artifact {artifact['config_identity_hash'][:19]}…, "
                          f"current config {identity_hash[:19]}…; the config changed since the preflight")
    if artifact["status"] != "READY":
        return FAILED, f"{path}: FAILED run {artifact['run_id']}: next action: {artifact['next_action']}"
    return READY, f"{path}: READY run {artifact['run_id']}, {format_duration(age)} old"
