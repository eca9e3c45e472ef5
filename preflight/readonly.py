"""aws.readonly: what the probe refused, and exactly which processes and clients that covers.

The botocore guard sees the probe's own process and every Python process started for project code
(preflight/child.py). It cannot see non-Python processes, a Python started with -I or -S, or native
clients such as ArcticDB's C++ S3 client. Only credentials that cannot write close that gap:
PREFLIGHT_READONLY_ROLE_ARN. So the verdict is a pass only when no project code ran, when every
process ran with the read-only role's credentials, or when no credentials were there to write with
(the local demo: a clean environment and a sandbox HOME); otherwise a warning that says what was not
covered — a warning only where its remedy applies. Whatever the verdict, it says exactly how many of the
processes started for project code ran without the guard (preflight/guard.py `coverage`), and names them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from preflight.guard import Coverage
from preflight.model import CheckResult

# Where botocore (and the AWS CLI, and ArcticDB's S3 client) find credentials without a metadata call.
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                         "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")

NOT_COVERED = ("non-Python processes (CLIs), Python started with -I or -S, and native clients such as "
               "ArcticDB's C++ S3 client")
ROLE_HOWTO = ("set PREFLIGHT_READONLY_ROLE_ARN to a role that can only read (the CloudFormation output "
              "ProbeReadOnlyRoleArn): every check and child then holds credentials that cannot write")


def credentials_visible(environ: Mapping[str, str]) -> bool:
    """Could anything in the probe write to AWS? Not without credentials: none in the environment and
    no ~/.aws files (the local transport's steps get a clean environment and a sandbox HOME)."""
    if any(environ.get(name) for name in _CREDENTIAL_VARIABLES):
        return True
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    return (home / ".aws" / "credentials").is_file() or (home / ".aws" / "config").is_file()


def _named(programs: list[str]) -> str:
    counts: dict[str, int] = {}
    for program in programs:
        counts[program] = counts.get(program, 0) + 1
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in sorted(counts.items()))


def gaps(seen: Coverage) -> list[str]:
    """What the guard could not cover, counted: starts that never reported in, guards removed, guarded
    processes that ended before they could be checked."""
    out = []
    if seen.unguarded:
        n = len(seen.unguarded)
        out.append(f"{n} process{'' if n == 1 else 'es'} started for project code ran without the guard "
                   f"({_named(seen.unguarded)})")
    if seen.removed:
        out.append(f"the guard was removed in {len(seen.removed)} process{'' if len(seen.removed) == 1 else 'es'} "
                   f"({'; '.join(seen.removed)})")
    if seen.unverified:
        out.append(f"{seen.unverified} guarded process{'' if seen.unverified == 1 else 'es'} ended before the guard "
                   "could be checked (killed, or os._exit)")
    return out


def verdict(refused: list[str], children: int, user_code_ran: bool, role_arn: str,
            can_write: bool = True, seen: Coverage | None = None) -> CheckResult:
    seen = seen or Coverage(guarded=children)
    scope = f"the probe process and {children} guarded Python child process{'' if children == 1 else 'es'}"
    holes = gaps(seen)
    said = "".join(f"; {hole}" for hole in holes)
    details = {"refused": sorted(set(refused)), "guarded_children": children, "readonly_role": role_arn or None,
               "started": seen.launched, "unguarded": seen.unguarded, "guard_removed": seen.removed,
               "unverified": seen.unverified}
    if refused:
        return CheckResult("aws.readonly", "aws", "fail",
                           f"write attempted and refused: {', '.join(sorted(set(refused)))} (guard in {scope}){said}",
                           "find the code path that writes during preflight (project import-time code "
                           "included); the probe must only read", 0.0, details)
    if role_arn:
        return CheckResult("aws.readonly", "aws", "pass",
                           f"every process ran with read-only role {role_arn}; botocore writes were also "
                           f"guarded in {scope}{said}{' (the role covered them)' if holes else ''}", "", 0.0, details)
    if user_code_ran and not can_write:
        return CheckResult("aws.readonly", "aws", "pass",
                           f"no AWS credentials in the probe's environment or HOME, so nothing could write to AWS; "
                           f"no write seen by the botocore guard in {scope}{said}", "", 0.0, details)
    if user_code_ran:
        return CheckResult("aws.readonly", "aws", "warn",
                           f"no write seen by the botocore guard in {scope}{said}; not covered either: {NOT_COVERED}",
                           ROLE_HOWTO + ". The guard sees only processes that report to it; the role is the only "
                           "complete answer", 0.0, details)
    return CheckResult("aws.readonly", "aws", "pass",
                       "no project code ran; the probe's own botocore clients only read (any write is refused "
                       "before it is sent)", "", 0.0, details)


def role_failure(role_arn: str, problem: str) -> CheckResult:
    return CheckResult("aws.readonly", "aws", "fail",
                       f"could not assume PREFLIGHT_READONLY_ROLE_ARN {role_arn}: {problem}; no check ran",
                       "allow sts:AssumeRole on that role for the probing principal (the instance role on "
                       "ssm) and check the role's trust policy", 0.0, {"readonly_role": role_arn})
