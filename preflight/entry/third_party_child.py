"""In a guarded child with the project venv's Python: is each module the closure leaves the project
for installed there, and does it have the names the project takes from it?

`python -m preflight.entry.third_party_child RESULT_FILE`, request on stdin (see preflight/child.py):
{"find": [top-level names], "imports": {module: [names]}, "progress": file}. Finding a top-level
module does not import it; checking names imports the module (third-party import-time code runs
here, under the guard, never the project's entry script). Standard library only, 3.9-safe.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

from preflight import import_progress
from preflight.child import child_reply, child_request


def _find(name: str) -> dict[str, str | None]:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if spec is None:
        return {"error": "not installed"}
    return {"origin": spec.origin if spec.origin not in (None, "namespace") else None}


def _import(module: str, names: list[str]) -> dict[str, Any]:
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        if missing == module or module.startswith(f"{missing}."):
            return {"error": "not installed" if "." not in module else f"no module named {missing}"}
        return {"error": f"importing it needs {missing}, which is not installed"}
    except BaseException as exc:  # an import that raises would raise at training's start too
        return {"error": f"importing it raised {type(exc).__name__}: {str(exc)[:300]}"}
    missing_names = {}
    for name in names:
        if hasattr(loaded, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")
        except BaseException:  # not a submodule either: the name is gone
            where = getattr(loaded, "__file__", None) or "a namespace package"
            missing_names[name] = f"cannot import name {name!r} from {module} ({where})"
    return {"names": missing_names}


def main(argv: list[str]) -> int:
    request = child_request()
    out = import_progress.install(request.get("progress", ""))
    found = {name: _find(name) for name in request.get("find", [])}
    imports = {}
    for module, names in request.get("imports", {}).items():
        import_progress.begin(out, module)
        imports[module] = _import(module, names)
    child_reply(argv[0], {"found": found, "imports": imports, "python": sys.version.split()[0]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
