"""In a guarded child process: call one project check and classify what it did (see project.py)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from preflight.child import child_reply, child_request, project_namespace

_METHODS = ("run", "check", "__call__")


def _callable(target: str) -> Any:
    module, _, name = target.partition(":")
    thing = getattr(importlib.import_module(module), name)
    if isinstance(thing, type):
        instance = thing()
        for method in _METHODS:
            if callable(getattr(instance, method, None)):
                return getattr(instance, method)
        raise TypeError(f"{name} has none of run(), check(), __call__()")
    return thing


def verdict(target: str) -> dict[str, Any]:
    try:
        result = _callable(target)()
    except BaseException as exc:  # what the project's preflight raises is its failure message
        return {"status": "fail", "message": f"{target} raised {type(exc).__name__}: {exc}"}
    if isinstance(result, (list, tuple, set)):
        problems = [str(item) for item in result]
        if problems:
            return {"status": "fail", "message": "; ".join(problems), "problems": problems}
        return {"status": "pass", "message": f"{target}: no problems"}
    if result is None or result:
        return {"status": "pass", "message": f"{target} passed" + (f": {result}" if isinstance(result, str) else "")}
    return {"status": "fail", "message": f"{target} returned {result!r}"}


def main(argv: list[str]) -> int:
    request = child_request()
    with project_namespace():
        answer = verdict(request["target"])
    child_reply(argv[0], answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
