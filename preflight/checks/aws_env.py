"""TrainingPreflight: the environment the training step reads, and the S3 data it starts from."""

from __future__ import annotations

from typing import Any

from preflight.checks.passing import how_to_pass
from preflight.model import Context, Outcome, failed, passed, skipped


def check_env(ctx: Context) -> Outcome:
    names = ctx.config.list("PREFLIGHT_REQUIRED_ENV")
    if not names:
        return skipped("not configured: set PREFLIGHT_REQUIRED_ENV to the variables training needs")
    presence = {name: bool(ctx.environ.get(name, "").strip()) for name in names}
    missing = [name for name, present in presence.items() if not present]
    if missing:
        return failed(f"missing or empty: {', '.join(missing)}", how_to_pass(ctx, missing), present=presence)
    return passed(f"{len(names)} required variables present", present=presence)


def _s3_client(ctx: Context, deadline_s: float) -> Any:
    from botocore.config import Config as BotoConfig

    timeout = max(1.0, min(5.0, deadline_s / 4))
    config = BotoConfig(connect_timeout=timeout, read_timeout=timeout,
                        retries={"max_attempts": 2, "mode": "standard"})
    return ctx.aws.client("s3", ctx.config.text("AWS_REGION"), config)


def _describe(exc: Exception, what: str) -> str:
    from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("403", "AccessDenied", "Forbidden"):
            return f"{what}: 403 access denied (the instance role lacks s3:ListBucket/GetObject)"
        if code in ("404", "NoSuchBucket", "NoSuchKey", "NotFound"):
            return f"{what}: 404 does not exist"
        return f"{what}: {code or 'error'} {exc}"
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return f"{what}: timed out ({type(exc).__name__})"
    if isinstance(exc, EndpointConnectionError):
        return f"{what}: endpoint unreachable ({exc})"
    return f"{what}: {type(exc).__name__}: {exc}"


def check_s3(ctx: Context, deadline_s: float) -> Outcome:
    buckets = ctx.config.list("PREFLIGHT_S3_BUCKETS")
    keys = ctx.config.list("PREFLIGHT_S3_KEYS")
    if not buckets and not keys:
        return skipped("not configured: set PREFLIGHT_S3_BUCKETS / PREFLIGHT_S3_KEYS (or s3:// entries of "
                       "PREFLIGHT_PATHS) to check S3")
    client = _s3_client(ctx, deadline_s)
    problems: list[str] = []
    for bucket in buckets:
        try:
            client.head_bucket(Bucket=bucket)
        except Exception as exc:  # each distinct cause becomes one readable line
            problems.append(_describe(exc, f"s3://{bucket}"))
    for spec in keys:
        bucket, _, key = spec.removeprefix("s3://").partition("/")
        try:
            client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            problems.append(_describe(exc, f"s3://{bucket}/{key}"))
    if problems:
        return failed("; ".join(problems),
                      "check the bucket names in workflow.env and the instance role's read policy "
                      "(s3:ListBucket on the bucket, s3:GetObject on the prefix)", problems=problems)
    return passed(f"{len(buckets)} buckets and {len(keys)} objects reachable")
