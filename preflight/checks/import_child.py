"""In a guarded child process: import the training code as its entrypoint would, and say what broke.

`python -m preflight.checks.import_child RESULT_FILE`, request on stdin (see preflight/child.py).
"""

from __future__ import annotations

import importlib
import sys
from typing import TextIO

from preflight import import_progress
from preflight.child import child_reply, child_request, project_namespace


def _import_error(module: str) -> str | None:
    """None when `module` imports; else one line that says which of three things went wrong."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module or module.startswith(f"{missing}."):
            return f"{module}: module not found"
        return f"{module}: found, but importing it needs {missing}, which is not installed"
    except BaseException as exc:  # a module that raises on import is exactly what we look for
        return f"{module}: importing it raised {type(exc).__name__}: {exc}"
    return None


def problems(modules: list[str], names: list[str], progress: TextIO | None = None) -> list[str]:
    """Every problem once: a module reached through both lists is imported and reported once."""
    seen: dict[str, str | None] = {}

    def module_problem(module: str) -> str | None:
        if module not in seen:
            import_progress.begin(progress, module)
            seen[module] = _import_error(module)
        return seen[module]

    found = [p for p in map(module_problem, modules) if p]
    for spec in names:
        module, _, name = spec.partition(":")
        if not name:
            found.append(f"{spec}: expected module:name")
            continue
        problem = module_problem(module)
        if problem and problem not in found:
            found.append(problem)
        elif not problem and not hasattr(sys.modules[module], name):
            found.append(f"{spec}: name {name!r} is gone from {module}")
    return found


def main(argv: list[str]) -> int:
    request = child_request()
    progress = import_progress.install(request.get("progress", ""))
    with project_namespace():
        found = problems(request["modules"], request["names"], progress)
    child_reply(argv[0], {"problems": found})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
