"""Credentials of PREFLIGHT_READONLY_ROLE_ARN, for every check and every process the probe starts."""

from __future__ import annotations

from typing import Any

# Longer than any probe (its step timeout is minutes); the shortest AssumeRole allows is 900 s.
SESSION_SECONDS = 900
# A profile would take precedence over the exported keys in some SDKs; the role's keys must win.
_DROPPED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def assume(role_arn: str, region: str, sts: Any = None) -> dict[str, str]:
    """Environment changes that make every AWS SDK in this process tree use the role."""
    if sts is None:
        from preflight.aws.clients import PROBE, client

        sts = client("sts", region, PROBE)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="spot-preflight-probe",
                            DurationSeconds=SESSION_SECONDS)["Credentials"]
    return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"]}


def apply(environ: Any, changes: dict[str, str]) -> None:
    for key in _DROPPED:
        environ.pop(key, None)
    environ.update(changes)
