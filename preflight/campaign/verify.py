"""`preflight verify ARTIFACT --campaign PATH`: 0 fresh READY, 1 FAILED, 6 unusable (saying which)."""

from __future__ import annotations

from pathlib import Path

from preflight.artifact import ArtifactError
from preflight.campaign import spec
from preflight.campaign.readiness import SCHEMA_VERSION, validate
from preflight.durations import format_duration
from preflight.verify import parse_rfc3339, read_artifact, stale_or_future


def verify_campaign(path: Path, campaign: dict, max_age_s: float) -> tuple[int, str]:
    """The probe verify's rules: a bounded regular file, the shape, the verdict recounted from checks[],
    the hashes, a representable emitted_at that is neither stale nor in the future."""
    artifact, problem = read_artifact(path, SCHEMA_VERSION, "run preflight campaign --campaign ... first")
    if artifact is None:
        return 6, problem
    try:
        validate(artifact)
    except ArtifactError as exc:
        return 6, f"{path}: invalid: {exc}"
    for key, expected in (("campaign_identity_hash", spec.identity_hash(campaign)),
                          ("runtime_config_hash", spec.runtime_hash(campaign))):
        if artifact.get(key) != expected:
            return 6, f"{path}: {key} mismatch: the artifact was made for another campaign configuration"
    try:
        emitted = parse_rfc3339(str(artifact.get("emitted_at")))
    except ValueError as exc:
        return 6, f"{path}: invalid: emitted_at: {exc}"
    age, problem = stale_or_future(path, emitted, max_age_s)
    if problem:
        return 6, problem
    if artifact.get("status") != "READY":
        return 1, f"{path}: FAILED: next action: {artifact.get('next_action')}"
    return 0, f"{path}: READY campaign {artifact.get('campaign_id')}, {format_duration(age)} old"
