"""R1-R9, the repo checks, and B1-B3, the only writes campaign mode makes (inside --cwd, idempotent)."""

from __future__ import annotations

from collections.abc import Callable
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


def _inside(cwd: Path, path: Path) -> bool:
    """A symlinked .ml-metaopt pointing elsewhere would make a bootstrap write outside --cwd."""
    return path.resolve() == cwd.resolve() or cwd.resolve() in path.resolve().parents


def _gitignored(cwd: Path) -> bool:
    path = cwd / ".gitignore"
    return path.is_file() and any(line.strip() in _IGNORED for line in path.read_text(encoding="utf-8").splitlines())


def _append_gitignore(cwd: Path) -> None:
    path = cwd / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    path.write_text(text + ("" if not text or text.endswith("\n") else "\n") + ".ml-metaopt/\n", encoding="utf-8")


def _fixable(check_id: str, ok: bool, what: str, fix: Callable[[], None] | None, action: str,
             remedy: str, actions: list[str]) -> Verdict:
    if ok:
        return Verdict(check_id, "repo", "pass", f"{what} present")
    if fix is None:
        return Verdict(check_id, "repo", "fail", f"{what} missing", remedy)
    fix()
    actions.append(action)
    return Verdict(check_id, "repo", "bootstrapped", f"{what} missing: {action}")


def layout(cwd: Path, bootstrap: bool, remedy: str) -> tuple[list[Verdict], list[str]]:
    """R1-R6; with `bootstrap`, B1-B3 fix what is missing, and only that."""
    actions: list[str] = []
    meta = cwd / META
    if meta.exists() and not (meta.is_dir() and _inside(cwd, meta)):
        bad = Verdict("R1", "repo", "fail", f"{META} exists but is not a directory inside {cwd}",
                      f"remove or fix {meta}, then rerun")
        return [bad] + [Verdict(i, "repo", "fail", f"{META} unusable", bad.remediation) for i in
                        ("R2", "R3", "R4", "R5", "R6")], actions
    out = [_fixable("R1", meta.is_dir(), f"{META}/", (lambda: meta.mkdir()) if bootstrap else None,
                    f"B1: created {META}/", remedy, actions)]
    out.append(_fixable("R2", _gitignored(cwd), f".gitignore entry {META}/",
                        (lambda: _append_gitignore(cwd)) if bootstrap else None,
                        f"B3: added {META}/ to .gitignore", remedy, actions))
    present = {cid: all((meta / d).is_dir() for d in dirs) for cid, dirs in SUBDIRS.items()}
    b2 = "B2: created the missing .ml-metaopt subdirectories"
    for check_id, dirs in SUBDIRS.items():
        what = ", ".join(f"{META}/{d}/" for d in dirs)
        if bootstrap and not present[check_id] and b2 not in actions:
            for d in (d for ds in SUBDIRS.values() for d in ds):  # B2: all eight, once
                (meta / d).mkdir(parents=True, exist_ok=True)
            actions.append(b2)
        out.append(_fixable(check_id, present[check_id], what, (lambda: None) if bootstrap else None, b2, remedy,
                            []))
    return out, actions


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
