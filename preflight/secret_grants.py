"""The CloudFormation parameters that grant the instance roles exactly a config's SECRETS.

`python3 -m preflight.secret_grants CONFIG` prints `SecretParameterNames=...` and `SecretArns=...`
(one per line, only those the config needs), for `infra_scripts/deploy.sh` to pass to the stack. A
Parameter Store name is given with its leading slash (the template joins it onto `parameter`); a
Secrets Manager secret named without its ARN becomes the pattern of its ARN (the service appends six
random characters to a secret's name).
"""

from __future__ import annotations

import sys
from pathlib import Path

from preflight.secret_spec import parse


def grants(spec: str) -> dict[str, str]:
    parameters, secrets = [], []
    for _name, source in parse(spec):
        kind, _, where = source.partition(":")
        if kind == "ssm":
            parameters.append(where if where.startswith("/") else f"/{where}")
        elif kind == "secretsmanager":
            secrets.append(where if where.startswith("arn:") else f"arn:*:secretsmanager:*:*:secret:{where}-??????")
    found = {"SecretParameterNames": ",".join(parameters), "SecretArns": ",".join(secrets)}
    return {k: v for k, v in found.items() if v}


def main(argv: list[str]) -> int:
    from preflight.config import ConfigError, load

    if len(argv) != 1:
        print("usage: python3 -m preflight.secret_grants CONFIG", file=sys.stderr)
        return 2
    try:
        config = load(Path(argv[0]), {})
        found = grants(config.text("SECRETS"))
    except (ConfigError, ValueError) as exc:
        print(f"secret_grants: {exc}", file=sys.stderr)
        return 2
    for key, value in found.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
