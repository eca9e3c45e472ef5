"""In a guarded child process: import the training code as its entrypoint would, and say what broke.

`python -m preflight.checks.import_child RESULT_FILE`, request on stdin (see preflight/child.py).
"""

from __future__ import annotations

import importlib
import sys

from preflight.child import child_reply, child_request


def _import_error(module: str) -> str | None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        return f"{module}: not found ({exc})"
    except BaseException as exc:  # a module that raises on import is exactly what we look for
        return f"{module}: import raised {type(exc).__name__}: {exc}"
    return None


def _name_error(spec: str) -> str | None:
    module, _, name = spec.partition(":")
    if not name:
        return f"{spec}: expected module:name"
    problem = _import_error(module)
    if problem:
        return problem
    if not hasattr(importlib.import_module(module), name):
        return f"from {module} import {name}: name {name!r} is gone from {module}"
    return None


def main(argv: list[str]) -> int:
    request = child_request()
    problems = [p for p in map(_import_error, request["modules"]) if p] + \
        [p for p in map(_name_error, request["names"]) if p]
    child_reply(argv[0], {"problems": problems})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
