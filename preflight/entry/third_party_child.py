"""In a guarded child with the project venv's Python: is each module the closure leaves the project
for installed there, and does it have the names the project takes from it?

`python -m preflight.entry.third_party_child RESULT_FILE`, request on stdin (see preflight/child.py):
{"find": [names], "imports": {module: [names]}, "locate": [dotted], "progress": file, "project": dir}.
Finding a module does not import it. Checking names imports the module — third-party import-time
code runs here, under the guard — but never a module whose files lie in the project: the project's
code is read, not run (the closure reads it), and the entry script is never reached. The check starts
this child in an empty directory with the project's directories taken off PYTHONPATH, so what is
found here is what the venv itself provides. Standard library only, 3.9-safe.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

from preflight import import_progress
from preflight.child import child_reply, child_request, project_namespace


def _inside(path: str, project: str) -> bool:
    return bool(project) and os.path.realpath(path).startswith(project.rstrip("/") + "/")


def _find(name: str, project: str) -> dict[str, Any]:
    if "." in name:  # find_spec of a.b imports a: a dotted name is located by its files instead
        where = _locate(name)
        return {"origin": where or None, "locations": [], "in_project": bool(where) and _inside(where, project)} \
            if where else {"error": "not installed"}
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if spec is None:
        return {"error": "not installed"}
    origin = spec.origin if spec.origin and os.path.isabs(spec.origin) else None
    locations = [p for p in (spec.submodule_search_locations or []) if os.path.isabs(p)]
    return {"origin": origin, "locations": locations,
            "in_project": any(_inside(p, project) for p in ([origin] if origin else []) + locations)}


def _import(module: str, names: list[str], project: str) -> dict[str, Any]:
    top = _find(module.split(".")[0], project)
    if top.get("in_project"):
        return {"skipped": "its files are in the project (read by the closure, never run)"}
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
        try:
            if hasattr(loaded, name):
                continue
        except BaseException as exc:  # a lazy module whose __getattr__ raises: that name, not the child
            missing_names[name] = f"{module}.{name} raised {type(exc).__name__} on access: {str(exc)[:200]}"
            continue
        try:
            importlib.import_module(f"{module}.{name}")
        except BaseException:  # not a submodule either: the name is gone
            where = getattr(loaded, "__file__", None) or "a namespace package"
            missing_names[name] = f"cannot import name {name!r} from {module} ({where})"
    return {"names": missing_names}


def _locate(dotted: str) -> str:
    """Where the venv's path holds a module, found by looking at files only: the package it belongs to
    is the project's, whose __init__ must not run here."""
    parts = dotted.split(".")
    for entry in sys.path:
        base = os.path.join(entry, *parts)
        for candidate in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(candidate):
                return candidate
        if os.path.isdir(base):
            return base
    return ""


def main(argv: list[str]) -> int:
    request = child_request()
    project = os.path.realpath(request.get("project", "")) if request.get("project") else ""
    out = import_progress.install(request.get("progress", ""))
    imports = {}
    # training's world: the project's PYTHONPATH but none of this tool
    with project_namespace():
        found = {name: _find(name, project) for name in request.get("find", [])}
        located = {name: _locate(name) for name in request.get("locate", [])}
        for module, names in request.get("imports", {}).items():
            import_progress.begin(out, module)
            imports[module] = _import(module, names, project)
    child_reply(argv[0], {"found": found, "imports": imports, "located": located,
                          "python": sys.version.split()[0]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
