"""Hostile inputs shared by the issue 23 tests: files that are not what they claim, and a way to run the
CLI so that a regression shows up as a failed assertion, never as a machine out of memory or a hung suite."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Enough for Python, jsonschema and PyYAML; far below what reading /dev/zero to the end would take.
MEMORY_CAP = 1 << 30
# Not a timing assertion: only what stops a regression (a FIFO read that blocks forever) hanging the suite.
HANG_GUARD_S = 60
KINDS = ("deep-json", "dev-zero", "fifo", "directory", "oversized")


def hostile_file(kind: str, where: Path) -> Path:
    """An "artifact" at `where` of one hostile kind."""
    if kind == "deep-json":
        where.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "dev-zero":
        where.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(where)
    elif kind == "directory":
        where.mkdir()
    elif kind == "oversized":
        where.write_text("{" + " " * (4 << 20) + "}")
    else:
        raise ValueError(kind)
    return where


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_capped(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
               module: str = "preflight") -> subprocess.CompletedProcess:
    """`python -m preflight ARGS` under a memory cap and a hang guard (TimeoutExpired fails the test)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ARCTICDB_", "PREFLIGHT_"))}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env={**base, "PYTHONPATH": str(ROOT),
                          **(env or {})}, capture_output=True, text=True, timeout=HANG_GUARD_S,
                          preexec_fn=_cap_memory)
