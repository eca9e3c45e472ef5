"""Credentials of PREFLIGHT_READONLY_ROLE_ARN, for every check and every process the probe starts."""

from __future__ import annotations

from typing import Any

# AssumeRole's DurationSeconds: at least 900; at most the role's MaxSessionDuration (1 h unless raised,
# 12 h at most), else ValidationError (botocore data/sts/2011-06-15/service-2.json, AssumeRoleRequest).
MIN_SESSION_S, DEFAULT_MAX_SESSION_S, MAX_SESSION_S = 900, 3600, 43200
# The session must outlast the probe: its whole step (PROBE_TIMEOUT_SECONDS) plus this margin.
SESSION_MARGIN_S = 60
# A profile would take precedence over the exported keys in some SDKs; the role's keys must win.
_DROPPED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def session_seconds(probe_seconds: float) -> int:
    """As long as the probe can run (the role's credentials must not expire under a check), within AWS's range."""
    return int(min(MAX_SESSION_S, max(MIN_SESSION_S, probe_seconds + SESSION_MARGIN_S)))


def assume(role_arn: str, region: str, sts: Any = None, probe_seconds: float = 0.0) -> dict[str, str]:
    """Environment changes that make every AWS SDK in this process tree use the role. A duration over the
    role's MaxSessionDuration is refused; then the default maximum (1 h) is asked for instead."""
    from preflight.aws.clients import error_code

    if sts is None:
        from preflight.aws.clients import PROBE, client

        sts = client("sts", region, PROBE)
    duration = session_seconds(probe_seconds)
    try:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="spot-preflight-probe",
                                DurationSeconds=duration)["Credentials"]
    except Exception as exc:
        if error_code(exc) != "ValidationError" or duration <= DEFAULT_MAX_SESSION_S:
            raise
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="spot-preflight-probe",
                                DurationSeconds=DEFAULT_MAX_SESSION_S)["Credentials"]
    return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"]}


def apply(environ: Any, changes: dict[str, str]) -> None:
    for key in _DROPPED:
        environ.pop(key, None)
    environ.update(changes)
