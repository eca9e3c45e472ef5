"""The SECRETS spec, read by the config loader: names and where each comes from, never a value.
Standard library only (the config reader runs before any venv exists)."""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SOURCES = ("ssm:", "secretsmanager:", "file:")


def parse(spec: str) -> list[tuple[str, str]]:
    """[(NAME, source)] from `NAME=ssm:/path,NAME=secretsmanager:ARN,NAME=file:/path`; ValueError names
    the bad item."""
    items = []
    for raw in (part.strip() for part in spec.split(",") if part.strip()):
        name, eq, source = raw.partition("=")
        if not eq or not _NAME.match(name) or not source.startswith(SOURCES) or len(source) <= source.index(":") + 1:
            raise ValueError(f"{raw!r} is not NAME=ssm:/parameter, NAME=secretsmanager:ARN or NAME=file:/path")
        items.append((name, source))
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"a name is given twice: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    return items
