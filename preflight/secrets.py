"""SECRETS: credentials resolved from a store on the host, into the step environment file only.

`SECRETS=WANDB_API_KEY=ssm:/team/wandb,HF_TOKEN=secretsmanager:arn:aws:secretsmanager:...:secret:hf,
X=file:/run/secrets/x`. On ssm the bootstrap step resolves them with the instance role
(GetParameter WithDecryption, GetSecretValue: reads); locally the launcher resolves them with its own
credentials. Values go into the 0600 step environment file and nowhere else: never argv (the spec
holds only names and store paths), never SSM command text, logs or the artifact.

A PASS_ENV name `NAME_FILE=/path` is honoured the way container images do: NAME is read from that
file (on the host that runs the steps) into the step environment when NAME itself is unset, so
training and the probe see `WANDB_API_KEY` whichever way it was given. Only for the credentials the
probe checks (PREFLIGHT_REQUIRED_ENV, WANDB_API_KEY, HF_TOKEN): many other names end in _FILE and
point at files that are no secret (AWS_SHARED_CREDENTIALS_FILE, SSL_CERT_FILE, PREFLIGHT_PINS_FILE).

`python -m preflight.secrets --spec SPEC --pass-env NAMES --required NAMES --region R --out FILE
[--format nul|lines] [--on-host]` reads the step environment already in FILE, appends `NAME=value`
records to it (created 0600) and prints only the names it resolved.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from preflight.aws.clients import LOCAL, PROBE
from preflight.secret_spec import parse

MAX_SECRET_BYTES = 64 * 1024
# The credentials the probe checks whatever PREFLIGHT_REQUIRED_ENV says (checks/wandb.py, checks/env.py).
CHECKED_CREDENTIALS = ("WANDB_API_KEY", "HF_TOKEN")


class SecretError(Exception):
    """A secret that cannot be had; the message names it, never its value."""


def _client(service: str, region: str, component: str):
    import boto3
    from botocore.config import Config

    from preflight.aws.clients import named

    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.session.Session().client(service, region_name=region, config=named(config, component))


def resolve(name: str, source: str, region: str, origin: str = "SECRETS", component: str = LOCAL) -> str:
    """`origin` is what the user wrote, for the message: SECRETS, or the PASS_ENV name NAME_FILE."""
    kind, _, where = source.partition(":")
    try:
        if kind == "file":
            value = Path(where).read_bytes()[:MAX_SECRET_BYTES + 1].decode("utf-8").strip()
        elif kind == "ssm":
            value = _client("ssm", region, component).get_parameter(Name=where, WithDecryption=True)
            value = value["Parameter"]["Value"]
        else:
            answer = _client("secretsmanager", region, component).get_secret_value(SecretId=where)
            value = answer.get("SecretString") or ""
    except Exception as exc:  # the error names the store and the secret, never a value
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise SecretError(f"{origin}: {name} from {source}: {code}") from None
    if not value or len(value) > MAX_SECRET_BYTES or "\0" in value or "\n" in value:
        raise SecretError(f"{origin}: {name} from {source}: empty, multi-line or over {MAX_SECRET_BYTES} bytes")
    return value


def read_env(path: Path, fmt: str) -> dict[str, str]:
    """The step environment written so far (PASS_ENV and the host's own lines), NAME → value."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    records = text.split("\0" if fmt == "nul" else "\n")
    return dict(r.split("=", 1) for r in records if "=" in r)


def file_variants(env: dict[str, str], passed: list[str], credentials: set[str],
                  spec_names: set[str]) -> list[tuple[str, str]]:
    """[(NAME, file:PATH)] for each passed NAME_FILE of a checked credential whose NAME is neither set nor
    in SECRETS."""
    found = []
    for key in sorted(set(passed)):
        name, path = key[:-len("_FILE")], env.get(key, "")
        if key.endswith("_FILE") and name in credentials and path and not env.get(name) and name not in spec_names:
            found.append((name, f"file:{path}"))
    return found


def step_env(out: Path, fmt: str, passed: list[str]) -> dict[str, str]:
    """What the steps will see: the file so far, and PASS_ENV names from this process's environment (on
    ssm the command carries them; locally the launcher's shell has them). Nothing else from here: a
    variable set in the launcher's shell but not passed never reaches a step."""
    env = {name: os.environ[name] for name in passed if name in os.environ}
    env.update(read_env(out, fmt))
    return env


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
    parser.add_argument("--spec", default="")
    parser.add_argument("--pass-env", default="", help="PASS_ENV: its NAME_FILE entries are read into NAME")
    parser.add_argument("--required", default="", help="PREFLIGHT_REQUIRED_ENV: the credentials NAME_FILE may give")
    parser.add_argument("--region", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("nul", "lines"), default="nul")
    parser.add_argument("--on-host", action="store_true", help="read as the ssm host (the instance role), not locally")
    args = parser.parse_args(argv)
    try:
        items = [(name, source, "SECRETS") for name, source in parse(args.spec)]
        passed = [n.strip() for n in args.pass_env.split(",") if n.strip()]
        credentials = {n.strip() for n in args.required.split(",") if n.strip()} | set(CHECKED_CREDENTIALS)
        items += [(name, source, f"PASS_ENV {name}_FILE") for name, source in
                  file_variants(step_env(args.out, args.format, passed), passed, credentials,
                                {name for name, _, _ in items})]
        component = PROBE if args.on_host else LOCAL
        values = {name: resolve(name, source, args.region, origin, component) for name, source, origin in items}
    except (ValueError, SecretError) as exc:
        print(f"secrets: {exc}", file=sys.stderr)
        return 1
    write(args.out, values, args.format)
    if values:
        print(f"secrets: {', '.join(values)} resolved into the step environment (values never printed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
