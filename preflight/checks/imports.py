"""Import the training code exactly as the training entrypoint would, without running it."""

from __future__ import annotations

import importlib

from preflight.model import Context, Outcome, failed, passed, skipped


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


def check_imports(ctx: Context) -> Outcome:
    modules = ctx.config.list("PREFLIGHT_IMPORTS")
    names = ctx.config.list("PREFLIGHT_IMPORT_NAMES")
    if not modules and not names:
        return skipped("no PREFLIGHT_IMPORTS or PREFLIGHT_IMPORT_NAMES configured")
    problems = [p for p in map(_import_error, modules) if p] + [p for p in map(_name_error, names) if p]
    if problems:
        return failed(
            "; ".join(problems),
            "fix the import path or pin in the training repo, then rerun: "
            "python -c 'import <module>' inside the project venv shows the full traceback",
            problems=problems,
        )
    return passed(f"{len(modules)} modules and {len(names)} names import", modules=modules, names=names)
