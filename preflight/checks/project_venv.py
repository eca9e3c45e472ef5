"""The project venv as training will see it, read once per probe on the project's own interpreter.

The probe runs in its own tool venv; the project venv's Python (PREFLIGHT_PROJECT_PYTHON) answers for
itself in a guarded child (venv_child, standard library only): its version, its marker environment
and every installed distribution. The runtime, pins and pins.consistency checks judge that one
snapshot here, with packaging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from preflight.child import run_guarded
from preflight.model import Context


class SnapshotError(Exception):
    """The project's interpreter could not say what it holds; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    version: str  # the project interpreter's Python version
    executable: str
    prefix: str  # the project venv
    markers: dict[str, str]  # its PEP 508 marker environment
    installed: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)  # key → name, version, requires
    truncated: bool = False

    def version_of(self, name: str) -> str | None:
        found = self.installed.get(canonicalize_name(name))
        return found[1] if found else None

    def requires_of(self, name: str) -> list[str]:
        found = self.installed.get(canonicalize_name(name))
        return found[2] if found else []

    def python(self) -> str:
        """The command that reaches this venv's pip (remediations name it)."""
        return f"{self.prefix}/bin/python"


def take(environ: Mapping[str, str], deadline_s: float, guard_log: str = "") -> Snapshot:
    child = run_guarded("preflight.checks.venv_child", {"torch": False}, deadline_s, environ, guard_log)
    value: Any = child.value
    if child.timed_out:
        raise SnapshotError(f"the project's Python did not list its venv within {child.limit_s:.1f}s")
    if not isinstance(value, dict) or not isinstance(value.get("distributions"), list):
        tail = child.output.strip().splitlines()[-1:] or ["no output"]
        raise SnapshotError(f"the project's Python exited {child.returncode} without listing its venv: {tail[0]}")
    installed = {canonicalize_name(name): (name, version, requires) for name, version, requires
                 in value["distributions"]}
    return Snapshot(value["version"], value["executable"], value["prefix"], value["markers"], installed,
                    bool(value.get("truncated")))


def snapshot(ctx: Context, deadline_s: float) -> Snapshot:
    """One snapshot per probe, whichever check asks first."""
    return ctx.project_venv.get(lambda: take(ctx.environ, deadline_s, ctx.guard_log))


def project_torch(ctx: Context, deadline_s: float) -> dict[str, Any]:
    """What the project's own torch says about CUDA: {"torch": None} when it has none."""
    child = run_guarded("preflight.checks.venv_child", {"torch": True}, deadline_s, ctx.environ, ctx.guard_log)
    if child.timed_out:
        return {"torch": "?", "error": f"importing torch did not finish within {child.limit_s:.1f}s"}
    if not isinstance(child.value, dict):
        return {"torch": "?", "error": f"the project's Python exited {child.returncode} while importing torch"}
    return child.value
