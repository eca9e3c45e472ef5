"""entrypoint: the training entry TRAIN_CMD / SMOKE_CMD start, and everything it imports, proven
without running it.

The entry is found in the commands (preflight/entry/command.py); its import closure inside the
project is read statically, function bodies included (preflight/entry/closure.py); what the closure
takes from outside the project is looked up, and its names imported, in a guarded child running the
project venv's Python (preflight/entry/third_party_child.py). PREFLIGHT_IMPORTS and
PREFLIGHT_IMPORT_NAMES are extras on top of this (the `imports` check), not the mechanism.

What fails: a project module or name that is gone, a file that does not parse, a third-party module
imported at module level that the venv lacks (or lacks the name). What warns: a third-party import
inside a function body or under an `if` (a lazy or optional path training may never take) that the
venv lacks. What is only noted: imports guarded by `except ImportError`, names a module resolves at
run time (`__getattr__`), and everything reached only through guarded imports.
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
from preflight.entry.closure import Closure, FileFacts, Problem, closure_of, definitions_index
from preflight.entry.command import Entry, find_entries
from preflight.model import Context, Outcome, failed, passed, skipped, warned

SHOWN_PROBLEMS = 12
CHILD = "preflight.entry.third_party_child"
SLOW_FIX = ("run python -X importtime -c 'import <module>' in the project venv; raise "
            "CHECK_TIMEOUTS=entrypoint:<seconds> (or IMPORT_TIMEOUT_SECONDS) only if the imports are just slow")


def entries_of(ctx: Context, project: Path) -> list[Entry]:
    # One per file that runs: the same target under another PYTHONPATH may be another file.
    unique: dict[tuple[str, str, str, tuple[str, ...]], Entry] = {}
    for key in ("TRAIN_CMD", "SMOKE_CMD"):
        command = ctx.config.text(key)
        for entry in find_entries(command, key, project) if command.strip() else []:
            unique.setdefault((entry.kind, entry.target, entry.cwd, entry.pythonpath), entry)
    return list(unique.values())


def project_roots(ctx: Context, project: Path) -> list[Path]:
    """PROJECT_PYTHONPATH's folders: where training's imports are found after the working directory."""
    return [project / part for part in ctx.config.text("PROJECT_PYTHONPATH").split(":") if part.strip()]


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
    roots = project_roots(ctx, project)
    files = FileFacts(project)
    closure = closure_of(entries, project, roots, files)
    files.save()  # lint's child reads these facts from the cache instead of parsing again
    return Static(project, entries, roots, files, closure)


def static_closure(ctx: Context) -> Static | None:
    """None when the commands name no Python entry."""
    return ctx.closure.get(lambda: _read_static(ctx))


def _installed_root(name: str, answer: dict[str, Any], project: Path) -> Path | None:
    """The import root of a module the venv finds inside the project (pip install -e ., a .pth): the
    closure follows it there. Not a venv or site-packages that happens to sit in the project."""
    for raw in [answer.get("origin") or "", *answer.get("locations", [])]:
        if not raw or not os.path.isabs(raw) or not answer.get("in_project"):
            continue
        path = Path(raw).resolve()
        if any(part in ("site-packages", "dist-packages") for part in path.parts) or \
                any((parent / "pyvenv.cfg").is_file() for parent in path.parents):
            continue
        # a/b/__init__.py and a/b.py sit one and zero folders below their package; a namespace
        # location is the package folder itself: the import root is that many folders up.
        depth = name.count(".") + (1 if path.name == "__init__.py" else 0)
        return path.parents[depth] if depth < len(path.parents) else None
    return None


class _Child:
    """The guarded child's rounds within one deadline. It starts in an empty directory with the
    project's own directories taken off PYTHONPATH, so nothing of the project is on its path but what
    the venv itself puts there (an editable install): a project file named like a standard-library
    module (tokenize.py) or a project sitecustomize.py never runs in it."""

    def __init__(self, ctx: Context, deadline_s: float, project: Path, hide: list[Path]) -> None:
        self.ctx, self.project = ctx, project
        hidden = {os.path.realpath(p) for p in hide}
        path = [p for p in ctx.environ.get("PYTHONPATH", "").split(os.pathsep)
                if p and os.path.realpath(p) not in hidden]
        self.environ = {**ctx.environ, "PYTHONPATH": os.pathsep.join(path)}
        self.ends = time.monotonic() + deadline_s

    def ask(self, request: dict[str, Any]) -> tuple[Any, str]:
        with tempfile.TemporaryDirectory(prefix="preflight-entry-") as tmp:
            progress = Path(tmp) / "progress"
            full = {**request, "progress": str(progress), "project": os.path.realpath(self.project)}
            child = run_guarded(CHILD, full, self.ends - time.monotonic(), self.environ, self.ctx.guard_log,
                                cwd=tmp)
            if child.timed_out:
                return None, ("checking the imports that leave the project did not finish: "
                              f"{import_progress.describe_hang(progress, child.limit_s)}")
            if child.value is None:
                tail = child.output.strip().splitlines()[-1:] or ["no output"]
                return None, f"the import child exited {child.returncode} without a result: {tail[0]}"
            return child.value, ""


def _places(wheres: list[str]) -> str:
    return ", ".join(wheres[:3]) + (f" and {len(wheres) - 3} more" if len(wheres) > 3 else "")


def _grouped(problems: list[Problem], roots: list[Path], files: FileFacts) -> list[str]:
    """One line per distinct problem, with every place it shows up (one deleted helper, 200 uses), and
    where a missing name is defined now (one bounded pass over the project for the lines shown)."""
    places: dict[str, list[Problem]] = {}
    for problem in problems:
        places.setdefault(problem.text, []).append(problem)
    shown = list(places.items())[:SHOWN_PROBLEMS]
    wanted = {g[0].name for _, g in shown if g[0].name and g[0].name != "*" and "is not defined" in g[0].text}
    index = definitions_index(wanted, roots, files) if wanted else {}
    lines = []
    for text, group in places.items():
        own = group[0].where.rsplit(":", 1)[0]
        hits = [h for h in index.get(group[0].name, []) if not h.startswith(f"{own}:")][:3]
        moved = f"; {group[0].name} is now defined in {', '.join(hits)}" if hits and "is not defined" in text else ""
        lines.append(f"{_places([p.where for p in group])}: {text}{moved}")
    return lines


def _outside_error(item: Any, found: dict[str, Any], imports: dict[str, Any], roots: list[str]) -> str:
    answer = found.get(item.top, {})
    if answer.get("error") == "not installed":
        return (f"`{item.top}` is not installed in the project venv (nor is there a {item.top}.py or "
                f"{item.top}/ in the project's import roots: {', '.join(roots)})")
    if answer.get("error"):
        return f"`{item.top}`: {answer['error']}"
    if answer.get("in_project"):
        return ""
    result = imports.get(item.target, {})
    if result.get("error"):
        return f"`{item.target}`: {result['error']}"
    return result.get("names", {}).get(item.name, "")


def _outside(closure: Closure, found: dict[str, Any], imports: dict[str, Any],
             roots: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(fail, warn, note) lines for what leaves the project, one line per distinct error with its
    places: a missing torch imported in 43 files is one line."""
    reach, eager = closure.required(), closure.required(eager=True)
    grouped: dict[tuple[str, str], list[str]] = {}
    for item in closure.outside:
        error = _outside_error(item, found, imports, roots)
        if not error:
            continue
        if item.guarded or item.owner not in reach:
            kind = "note"
        elif item.lazy or item.owner not in eager:
            kind = "warn"
        else:
            kind = "fail"
        grouped.setdefault((kind, error), []).append(item.where)
    out: dict[str, list[str]] = {"fail": [], "warn": [], "note": []}
    suffix = {"fail": "", "warn": " (imported lazily or under a condition: training fails if it gets there)",
              "note": " (optional: guarded by except ImportError)"}
    for (kind, error), wheres in grouped.items():
        if kind == "warn" and ("fail", error) in grouped or kind == "note" and \
                (("fail", error) in grouped or ("warn", error) in grouped):
            continue  # the same error, said once at its most severe
        out[kind].append(f"{_places(wheres)}: {error}{suffix[kind]}")
    return out["fail"], out["warn"], out["note"]


def _lookup_entries(closure: Closure, found: dict[str, Any]) -> tuple[list[str], list[str]]:
    """`python -m X` where X is not in the project: installed in the venv, or missing."""
    fail, note = [], []
    for module, source in closure.entry_lookups.items():
        answer = found.get(module, {})
        if answer.get("error"):
            fail.append(f"{source}: runs -m {module}, which is neither in the project nor installed in the "
                        f"project venv ({answer['error']})")
        elif not answer.get("in_project"):
            note.append(f"{source}: -m {module} is installed in the venv ({answer.get('origin')}); its imports "
                        "are the package's, not followed")
    return fail, note


def _second_look(static: Static, first: dict[str, Any]) -> tuple[Closure, list[Path]]:
    """The closure again when the venv showed that the project is installed into it (follow it there)
    or that an installed package wins over a directory of the same name that only holds loose files."""
    roots = list(static.roots)
    extra = [r for r in (_installed_root(n, a, static.project) for n, a in first.items()) if r is not None]
    exclude = frozenset(top for top in static.closure.namespace_tops
                        if (first.get(top) or {}).get("origin") and not first[top].get("in_project"))
    if not extra and not exclude:
        return static.closure, roots
    roots = [*roots, *dict.fromkeys(extra)]
    return closure_of(static.entries, static.project, roots, static.files, exclude), roots


def check_entrypoint(ctx: Context, deadline_s: float) -> Outcome:
    if not (ctx.config.text("TRAIN_CMD").strip() or ctx.config.text("SMOKE_CMD").strip()):
        return skipped("not configured: set TRAIN_CMD (and SMOKE_CMD) to the training command to prove its "
                       "entry point and imports")
    static = static_closure(ctx)
    if static is None:
        return warned(f"no Python entry found in TRAIN_CMD ({ctx.config.text('TRAIN_CMD') or 'empty'!s}) or "
                      "SMOKE_CMD: nothing of the training code was proven",
                      "start training with `python FILE.py`, `python -m MODULE`, torchrun/accelerate/deepspeed "
                      "or a shell script that does; or list modules in PREFLIGHT_IMPORTS")
    project, closure = static.project, static.closure
    hide = [project, *static.roots, *{(project / e.cwd) for e in static.entries}]
    child = _Child(ctx, deadline_s, project, hide)
    tops = sorted({o.top for o in closure.outside} | closure.namespace_tops | set(closure.entry_lookups))
    first, why = child.ask({"find": tops})
    if first is None:
        return failed(why, SLOW_FIX)
    found = first["found"]
    closure, roots = _second_look(static, found)
    static.files.save()
    new = sorted(({o.top for o in closure.outside} | set(closure.entry_lookups)) - set(found))
    wanted: dict[str, set[str]] = {}
    for item in closure.outside:
        if not item.guarded and "error" not in found.get(item.top, {}) and (item.name or "." in item.target):
            wanted.setdefault(item.target, set()).update([item.name] if item.name and item.name != "*" else [])
    second, why = child.ask({"find": new, "imports": {m: sorted(n) for m, n in wanted.items()},
                             "locate": sorted(closure.elsewhere)})
    if second is None:
        return failed(why, SLOW_FIX)
    found.update(second["found"])
    required = closure.required()
    in_venv = {m for m, where in second.get("located", {}).items() if where}
    closure.problems = [p for p in closure.problems if not (p.module in in_venv and "is not in the project" in p.text)]
    project_fail = _grouped([p for p in closure.problems if p.owner in required], [project, *roots], static.files)
    optional = _grouped([p for p in closure.problems if p.owner not in required], [project, *roots], static.files)
    shown_roots = [static.files.shown(r) or "." for r in [project, *roots]]
    fail, warn, note = _outside(closure, found, second["imports"], shown_roots)
    warn += [f"{u}: the entry could not be located, nothing of it was proven" for u in closure.unlocated]
    entry_fail, entry_note = _lookup_entries(closure, found)
    fail = entry_fail + project_fail + fail
    described = ", ".join(e.describe() for e in static.entries)
    details = {"entries": [e.describe() for e in static.entries], "project_modules": len(closure.modules),
               "outside_modules": len({o.top for o in closure.outside}), "files_parsed": closure.parsed,
               "problems": fail, "lazy_missing": warn, "optional": (optional + note)[:20],
               "cannot_tell": closure.unknown[:20], "notes": entry_note, "truncated": closure.truncated}
    if fail:
        return failed(f"{len(fail)} problem{'s' if len(fail) > 1 else ''} in the import closure of {described}: "
                      + "; ".join(fail[:SHOWN_PROBLEMS]),
                      "fix the import (or restore the name) at the file:line shown, or install what is missing "
                      "into the project's requirements; the entry was read, never run", **details)
    unknown = f"; {len(closure.unknown)} names cannot be told statically" if closure.unknown else ""
    summary = (f"entry {described}: {len(closure.modules)} project modules and "
               f"{details['outside_modules']} outside modules import{unknown}")
    if warn:
        return warned(f"{summary}; {len(warn)} lazy import{'s' if len(warn) > 1 else ''} missing from the venv: "
                      + "; ".join(warn[:SHOWN_PROBLEMS]),
                      "add them to the requirements if training takes that path, or guard them with "
                      "try/except ImportError", **details)
    return passed(summary, **details)
