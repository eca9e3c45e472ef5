"""R1-R9, the repo checks, and B1-B3, the only writes campaign mode makes (inside --cwd, idempotent).

Inside --cwd means after links are followed: the command refuses to start (exit 2, nothing written)
when any path it would write leads out of it (`escapes`), and every write below goes to the path as
resolved, so a link swapped in later cannot carry it elsewhere either."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflight.campaign.spec import get, validate

META = ".ml-metaopt"
SUBDIRS = {"R3": ("handoffs",), "R4": ("worker-results",), "R5": ("tasks", "executor-events"),
           "R6": ("artifacts/code", "artifacts/data", "artifacts/manifests", "artifacts/patches")}
_IGNORED = {".ml-metaopt", ".ml-metaopt/", "/.ml-metaopt", "/.ml-metaopt/"}


@dataclass
class Verdict:
    check_id: str
    category: str  # repo · backend
    status: str  # pass · fail · warn · bootstrapped
    message: str
    remediation: str = ""


def write_targets() -> list[str]:
    """Every path campaign mode may create or write, relative to --cwd, parents before children."""
    dirs = [d for cid in SUBDIRS for d in SUBDIRS[cid]]
    parents = sorted({str(Path(d).parent) for d in dirs if str(Path(d).parent) != "."})
    return [".gitignore", META, *(f"{META}/{d}" for d in parents + dirs), f"{META}/preflight-readiness.json"]


def escapes(cwd: Path) -> list[str]:
    """The write targets that, once links are followed (a dangling link included: writing it would create
    its target), lead out of --cwd: `path -> where it leads`. Empty when every write stays inside."""
    root = Path(os.path.realpath(cwd))
    out = []
    for rel in write_targets():
        real = Path(os.path.realpath(cwd / rel))
        if real != root and root not in real.parents:
            out.append(f"{rel} -> {real}")
    return out


def _inside(cwd: Path, path: Path) -> bool:
    """A symlinked .ml-metaopt pointing elsewhere would make a bootstrap write outside --cwd."""
    return path.resolve() == cwd.resolve() or cwd.resolve() in path.resolve().parents


def _gitignored(cwd: Path) -> bool:
    path = cwd / ".gitignore"
    return path.is_file() and any(line.strip() in _IGNORED for line in path.read_text(encoding="utf-8").splitlines())


def _append_gitignore(cwd: Path) -> None:
    path = Path(os.path.realpath(cwd / ".gitignore"))
    if not _inside(cwd, path):
        raise OutsideCwd(f".gitignore -> {path}")
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(("" if not text or text.endswith("\n") else "\n") + ".ml-metaopt/\n")


def _verdict(check_id: str, present: bool, what: str, action: str, remedy: str) -> Verdict:
    """pass when it was there; bootstrapped when `action` made it; else fail with the command to run."""
    if present:
        return Verdict(check_id, "repo", "pass", f"{what} present")
    if action:
        return Verdict(check_id, "repo", "bootstrapped", f"{what} missing: {action}")
    return Verdict(check_id, "repo", "fail", f"{what} missing", remedy)


class OutsideCwd(Exception):
    """A write that would land outside --cwd once links are followed; nothing is written."""


def _mkdir(cwd: Path, path: Path) -> None:
    """mkdir of `path` and its missing parents, each checked to resolve inside --cwd first."""
    for part in [*reversed(path.relative_to(cwd).parents), path.relative_to(cwd)]:
        target = Path(os.path.realpath(cwd / part))
        if not _inside(cwd, target):
            raise OutsideCwd(f"{part} -> {target}")
        if not target.is_dir():
            target.mkdir(exist_ok=True)


def _bootstrap(cwd: Path, meta: Path, present: dict[str, bool]) -> dict[str, str]:
    """B1-B3, each only for what is missing; the action taken for each check it fixed."""
    done: dict[str, str] = {}
    if not present["R1"]:
        _mkdir(cwd, meta)
        done["R1"] = f"B1: created {META}/"
    if not present["R2"]:
        _append_gitignore(cwd)
        done["R2"] = f"B3: added {META}/ to .gitignore"
    missing = [cid for cid in SUBDIRS if not present[cid]]
    for d in (d for cid in missing for d in SUBDIRS[cid]):  # B2: all that is missing, at once
        _mkdir(cwd, meta / d)
    done.update({cid: "B2: created the missing .ml-metaopt subdirectories" for cid in missing})
    return done


def layout(cwd: Path, bootstrap: bool, remedy: str) -> tuple[list[Verdict], list[str]]:
    """R1-R6; with `bootstrap`, B1-B3 fix what is missing, and only that. Bootstraps on one --cwd take
    turns (an exclusive flock on the directory itself, which writes nothing): each sees what the one
    before it made, so concurrent runs add the .gitignore entry once."""
    if not bootstrap:
        return _layout(cwd, False, remedy)
    fd = os.open(cwd, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _layout(cwd, True, remedy)
    finally:
        os.close(fd)  # releases the lock


def _layout(cwd: Path, bootstrap: bool, remedy: str) -> tuple[list[Verdict], list[str]]:
    meta = cwd / META
    if meta.exists() and not (meta.is_dir() and _inside(cwd, meta)):
        bad = Verdict("R1", "repo", "fail", f"{META} exists but is not a directory inside {cwd}",
                      f"remove or fix {meta}, then rerun")
        return [bad] + [Verdict(i, "repo", "fail", f"{META} unusable", bad.remediation) for i in
                        ("R2", "R3", "R4", "R5", "R6")], []
    what = {"R1": f"{META}/", "R2": f".gitignore entry {META}/",
            **{cid: ", ".join(f"{META}/{d}/" for d in dirs) for cid, dirs in SUBDIRS.items()}}
    present = {"R1": meta.is_dir(), "R2": _gitignored(cwd),
               **{cid: all((meta / d).is_dir() for d in dirs) for cid, dirs in SUBDIRS.items()}}
    done = _bootstrap(cwd, meta, present) if bootstrap else {}
    verdicts = [_verdict(cid, present[cid], what[cid], done.get(cid, ""), remedy) for cid in what]
    return verdicts, list(dict.fromkeys(done.values()))


def config(data: dict[str, Any]) -> list[Verdict]:
    """R7-R9: what the campaign file itself must say."""
    smoke, repo = get(data, "project.smoke_test_command"), get(data, "project.repo")
    problems = validate(data)
    return [
        Verdict("R7", "repo", "pass" if isinstance(smoke, str) and smoke.strip() else "fail",
                "project.smoke_test_command is set" if isinstance(smoke, str) and smoke.strip() else
                "project.smoke_test_command is not a non-empty string",
                "set project.smoke_test_command to the command that smoke-tests one trial"),
        Verdict("R8", "repo", "fail" if problems else "pass",
                "; ".join(problems) if problems else "the campaign passes LOAD_CAMPAIGN's validation",
                "fix the campaign file: " + "; ".join(problems[:3]) if problems else ""),
        Verdict("R9", "repo", "pass" if isinstance(repo, str) and repo.strip() else "fail",
                "project.repo is set" if isinstance(repo, str) and repo.strip() else
                "project.repo is not a non-empty string", "set project.repo to the training repository's git URL"),
    ]
