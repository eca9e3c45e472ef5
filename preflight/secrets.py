"""SECRETS: credentials resolved from a store on the host, into the step environment file only.

`SECRETS=WANDB_API_KEY=ssm:/team/wandb,HF_TOKEN=secretsmanager:arn:aws:secretsmanager:...:secret:hf,
X=file:/run/secrets/x`. On ssm the bootstrap step resolves them with the instance role
(GetParameter WithDecryption, GetSecretValue: reads); locally the launcher resolves them with its own
credentials. Values go into the 0600 step environment file and nowhere else: never argv (the spec
holds only names and store paths), never SSM command text, logs or the artifact.

`python -m preflight.secrets --spec SPEC --region R --out FILE [--format nul|lines]` appends
`NAME=value` records to FILE (created 0600) and prints only the names it resolved.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from preflight.secret_spec import parse

MAX_SECRET_BYTES = 64 * 1024


class SecretError(Exception):
    """A secret that cannot be had; the message names it, never its value."""


def _client(service: str, region: str):
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(service, region_name=region,
                                          config=Config(connect_timeout=5, read_timeout=10,
                                                        retries={"max_attempts": 3, "mode": "standard"}))


def resolve(name: str, source: str, region: str) -> str:
    kind, _, where = source.partition(":")
    try:
        if kind == "file":
            value = Path(where).read_bytes()[:MAX_SECRET_BYTES + 1].decode("utf-8").strip()
        elif kind == "ssm":
            value = _client("ssm", region).get_parameter(Name=where, WithDecryption=True)["Parameter"]["Value"]
        else:
            answer = _client("secretsmanager", region).get_secret_value(SecretId=where)
            value = answer.get("SecretString") or ""
    except Exception as exc:  # the error names the store and the secret, never a value
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise SecretError(f"SECRETS: {name} from {source}: {code}") from None
    if not value or len(value) > MAX_SECRET_BYTES or "\0" in value or "\n" in value:
        raise SecretError(f"SECRETS: {name} from {source}: empty, multi-line or over {MAX_SECRET_BYTES} bytes")
    return value


def write(out: Path, values: dict[str, str], fmt: str) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        end = "\0" if fmt == "nul" else "\n"
        os.write(fd, "".join(f"{k}={v}{end}" for k, v in values.items()).encode())
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.secrets", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("nul", "lines"), default="nul")
    args = parser.parse_args(argv)
    try:
        items = parse(args.spec)
        values = {name: resolve(name, source, args.region) for name, source in items}
    except (ValueError, SecretError) as exc:
        print(f"secrets: {exc}", file=sys.stderr)
        return 1
    write(args.out, values, args.format)
    if values:
        print(f"secrets: {', '.join(values)} resolved into the step environment (values never printed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
