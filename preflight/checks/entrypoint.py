"""entrypoint: the training entry TRAIN_CMD / SMOKE_CMD start, and everything it imports, proven
without running it.

The entry is found in the commands (preflight/entry/command.py); its import closure inside the
project is read statically, function bodies included (preflight/entry/closure.py); what the closure
takes from outside the project is looked up, and its names imported, in a guarded child running the
project venv's Python (preflight/entry/third_party_child.py). PREFLIGHT_IMPORTS and
PREFLIGHT_IMPORT_NAMES are extras on top of this (the `imports` check), not the mechanism.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflight import import_progress
from preflight.child import run_guarded
from preflight.entry.closure import Closure, FileFacts, closure_of, where_defined
from preflight.entry.command import Entry, find_entries
from preflight.model import Context, Outcome, failed, passed, skipped, warned

SHOWN_PROBLEMS = 12
CHILD = "preflight.entry.third_party_child"


def entries_of(ctx: Context, project: Path) -> list[Entry]:
    found: list[Entry] = []
    for key in ("TRAIN_CMD", "SMOKE_CMD"):
        command = ctx.config.text(key)
        if command.strip():
            found += [e for e in find_entries(command, key, project) if e not in found]
    unique: dict[tuple[str, str, str], Entry] = {}
    for entry in found:
        unique.setdefault((entry.kind, entry.target, entry.cwd), entry)
    return list(unique.values())


def _roots(ctx: Context, project: Path) -> list[Path]:
    return [project / part for part in ctx.config.text("PROJECT_PYTHONPATH").split(":") if part.strip()]


def _inside(path: str | None, project: Path) -> Path | None:
    """The import root of a module found in the project by the venv (an editable install, a .pth)."""
    if not path:
        return None
    origin = Path(path).resolve()
    if project.resolve() not in origin.parents:
        return None
    return origin.parent.parent if origin.name == "__init__.py" else origin.parent


def _moved(problem: dict[str, Any], roots: list[Path], files: FileFacts) -> str:
    if not problem["name"] or problem["name"] == "*":
        return ""
    hits = [h for h in where_defined(problem["name"], roots, files) if not h.startswith(f"{problem['file']}:")]
    return f"; {problem['name']} is now defined in {', '.join(hits[:3])}" if hits else ""


def _third_party_problems(closure: Closure, found: dict[str, Any], imports: dict[str, Any]) -> list[str]:
    problems = []
    for top, where in closure.third_party.items():
        answer = found.get(top, {})
        if "error" in answer:
            problems.append(f"{where}: `{top}` is {answer['error']} in the project venv")
    for module, names in closure.third_party_names.items():
        answer = imports.get(module)
        if answer is None:
            continue
        where = next(iter(names.values()), closure.third_party.get(module.split(".")[0], "?"))
        if answer.get("error") and "error" not in found.get(module.split(".")[0], {}):
            problems.append(f"{where}: {module}: {answer['error']}")
        for name, error in answer.get("names", {}).items():
            problems.append(f"{names.get(name, where)}: {error}")
    return problems


def _ask(request: dict[str, Any], deadline_s: float, ctx: Context) -> tuple[Any, str]:
    """The child's answer, or (None, why not) — a slow import is named, not called a hang."""
    with tempfile.TemporaryDirectory(prefix="preflight-entry-") as tmp:
        progress = Path(tmp) / "progress"
        child = run_guarded(CHILD, {**request, "progress": str(progress)}, deadline_s, ctx.environ, ctx.guard_log)
        if child.timed_out:
            return None, (f"checking the third-party imports did not finish: "
                          f"{import_progress.describe_hang(progress, child.limit_s)}")
        if child.value is None:
            tail = child.output.strip().splitlines()[-1:] or ["no output"]
            return None, f"the import child exited {child.returncode} without a result: {tail[0]}"
        return child.value, ""


@dataclass(frozen=True)
class Static:
    """The entry's closure as read from the files alone, shared by entrypoint and lint (one parse)."""

    project: Path
    entries: list[Entry]
    roots: list[Path]
    files: FileFacts
    closure: Closure


def _read_static(ctx: Context) -> Static | None:
    project = Path(os.getcwd())
    entries = entries_of(ctx, project)
    if not entries:
        return None
    roots = _roots(ctx, project)
    files = FileFacts(project)
    closure = closure_of(entries, project, roots, files)
    files.save()  # lint's child reads these facts from the cache instead of parsing again
    return Static(project, entries, roots, files, closure)


def static_closure(ctx: Context) -> Static | None:
    """None when the commands name no Python entry."""
    return ctx.closure.get(lambda: _read_static(ctx))


def check_entrypoint(ctx: Context, deadline_s: float) -> Outcome:
    started = time.monotonic()
    if not (ctx.config.text("TRAIN_CMD").strip() or ctx.config.text("SMOKE_CMD").strip()):
        return skipped("not configured: set TRAIN_CMD (and SMOKE_CMD) to the training command to prove its "
                       "entry point and imports")
    static = static_closure(ctx)
    if static is None:
        return warned(f"no Python entry found in TRAIN_CMD ({ctx.config.text('TRAIN_CMD') or 'empty'!s}) or "
                      "SMOKE_CMD: nothing of the training code was proven",
                      "start training with `python FILE.py`, `python -m MODULE`, torchrun/accelerate/deepspeed "
                      "or a shell script that does; or list modules in PREFLIGHT_IMPORTS")
    project, entries, roots, files, closure = (static.project, static.entries, static.roots, static.files,
                                                static.closure)
    first, why = _ask({"find": sorted(closure.third_party)}, deadline_s - (time.monotonic() - started), ctx)
    if first is None:
        files.save()
        return failed(why, "run python -X importtime -c 'import <module>' in the project venv; raise "
                      "CHECK_TIMEOUTS=entrypoint:<seconds> only if the imports are just slow")
    found = first["found"]
    extra = [r for r in (_inside(a.get("origin"), project) for a in found.values()) if r is not None]
    if extra:  # the project is installed into its venv (pip install -e .): follow it there too
        roots = [*roots, *dict.fromkeys(extra)]
        closure = closure_of(entries, project, roots, files)
    new = sorted(set(closure.third_party) - set(found))
    wanted = {m: sorted(n) for m, n in closure.third_party_names.items()
              if "error" not in found.get(m.split(".")[0], {})}
    second, why = _ask({"find": new, "imports": wanted}, deadline_s - (time.monotonic() - started), ctx)
    files.save()
    if second is None:
        return failed(why, "run python -X importtime -c 'import <module>' in the project venv; raise "
                      "CHECK_TIMEOUTS=entrypoint:<seconds> only if the imports are just slow")
    found.update(second["found"])
    problems = [p["message"] + _moved(p, [project, *roots], files) for p in closure.problems]
    problems += _third_party_problems(closure, found, second["imports"])
    described = ", ".join(e.describe() for e in entries)
    details = {"entries": [e.describe() for e in entries], "project_modules": len(closure.modules),
               "third_party_modules": len(closure.third_party),
               "names_checked": sum(len(n) for n in closure.third_party_names.values()),
               "files_parsed": closure.parsed, "cannot_tell": closure.unknown[:20],
               "optional": closure.optional[:20], "truncated": closure.truncated}
    if problems:
        return failed(f"{len(problems)} import problem{'s' if len(problems) > 1 else ''} in the closure of "
                      f"{described}: " + "; ".join(problems[:SHOWN_PROBLEMS]),
                      "fix the import (or restore the name) at the file:line shown; the entry was read, "
                      "never run", problems=problems, **details)
    note = f"; {len(closure.unknown)} names cannot be told statically" if closure.unknown else ""
    return passed(f"entry {described}: {len(closure.modules)} project modules and "
                  f"{len(closure.third_party)} outside modules import{note}", **details)
