"""`preflight init [--repo DIR] [--out FILE]`: a starter config for a training repository.

Reads what the repository already says about itself: the training command from its README or its
shell scripts (torchrun / accelerate / deepspeed / python train.py / python -m), else a console script
from pyproject.toml, else the top-level script that trains when run; the requirements file; input
paths the command names; W&B when wandb is a requirement. Every line is commented with what it does.
Never overwrites a file; ends with the exact next command. Standard library only.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from preflight.checks.paths import _looks_like_input
from preflight.entry.command import find_entries

REQUIREMENTS = ("requirements.txt", "requirements/train.txt", "requirements-train.txt", "requirements/base.txt",
                "requirements/requirements.txt")
_LAUNCH = re.compile(r"(^|[\s;&(])(torchrun|deepspeed|accelerate\s+launch|python3?(\.\d+)?\s|uv\s+run)")
_PLACEHOLDER = re.compile(r"<[^<>]*>")
MAX_README_BYTES = 512 * 1024


def _name(repo: Path) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", repo.resolve().name).lstrip("-._")
    return (cleaned or "project")[:64]


def _blocks(text: str) -> list[str]:
    """Logical command lines of a README or script: backslash continuations joined, prompts dropped."""
    lines, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        line = line[2:] if line.startswith(("$ ", "> ")) else line
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return lines


def _candidates(repo: Path) -> list[tuple[str, str]]:
    """(command, where it was found), README first, then scripts."""
    found: list[tuple[str, str]] = []
    sources = [p for p in ("README.md", "README.rst", "README.txt", "README") if (repo / p).is_file()]
    sources += sorted(str(p.relative_to(repo)) for p in [*repo.glob("*.sh"), *repo.glob("scripts/*.sh")])
    for name in sources:
        path = repo / name
        if path.stat().st_size > MAX_README_BYTES:
            continue
        for line in _blocks(path.read_text(encoding="utf-8", errors="replace")):
            if _LAUNCH.search(line) and not line.startswith(("pip ", "#", "conda ")):
                found.append((line.rstrip(" `"), name))
        if name.endswith(".sh") and any(e for e in find_entries(f"bash {name}", name, repo)):
            found.append((f"bash {name}", name))
    return found


def _exists(repo: Path, command: str) -> bool:
    for entry in find_entries(command, "TRAIN_CMD", repo):
        if entry.kind == "file" and (repo / entry.cwd / entry.target).is_file():
            return True
        if entry.kind == "module":
            parts = entry.target.split(".")
            for root in (repo, repo / "src"):
                base = root.joinpath(*parts)
                if base.with_suffix(".py").is_file() or (base / "__main__.py").is_file():
                    return True
    return False


def _from_pyproject(repo: Path) -> str:
    path = repo / "pyproject.toml"
    if not path.is_file():
        return ""
    match = re.search(r"^\[project\.scripts\]\s*\n((?:[^\[\n].*\n?)*)", path.read_text(encoding="utf-8",
                                                                                      errors="replace"), re.M)
    for line in (match.group(1).splitlines() if match else []):
        target = re.match(r"^\s*[\w.-]+\s*=\s*[\"']([\w.]+):(\w+)[\"']", line)
        if target and "train" in line.lower():
            return f"python -c 'from {target.group(1)} import {target.group(2)}; {target.group(2)}()'"
    return ""


def _plain_command(command: str) -> str:
    """The command as workflow.env holds it: data, so shell variables and placeholders become
    EDIT_ME, and words are unquoted (the steps split a command into words, nothing more)."""
    import shlex

    command = _PLACEHOLDER.sub("EDIT_ME", command)
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return ""
    shown = ["EDIT_ME" if ("$" in w or "`" in w or any(c in w for c in "'\" \t")) else w for w in words]
    return " ".join(shown)


def _runs_training(repo: Path, command: str) -> bool:
    """Whether the command's entry is named for training (train.py, pkg.train, run_training.sh)."""
    return any("train" in Path(entry.target).name.lower() for entry in find_entries(command, "TRAIN_CMD", repo))


def train_command(repo: Path) -> tuple[str, str]:
    """(command, where it came from) or ("", why none). A README walks through data preparation before
    training (nanoGPT: `python data/shakespeare_char/prepare.py`, then `python train.py config/...`): the
    first command whose entry is named for training wins over earlier ones that are not."""
    found = [(command, where) for command, where in ((_plain_command(raw), where) for raw, where in _candidates(repo))
             if command and _exists(repo, command)]
    named = [item for item in found if _runs_training(repo, item[0])]
    if named or found:
        return (named or found)[0]
    command = _from_pyproject(repo)
    return (command, "pyproject.toml [project.scripts]") if command else _from_code(repo)


def _from_code(repo: Path) -> tuple[str, str]:
    """`python FILE` for the one script at the top of the repository that trains when run (model.fit,
    trainer.train, loss.backward: lint's training calls), when nothing names a command. Many a small
    repository says only "model.py trains the model". One named for training wins over the others; with
    several and none so named, the user chooses from the list."""
    from preflight.lint.facts import read

    found: list[tuple[str, int, str]] = []
    for path in sorted(repo.glob("*.py")):
        if path.name in ("setup.py", "conftest.py") or path.name.startswith("test_") or not path.is_file() or \
                path.stat().st_size > MAX_README_BYTES:
            continue
        entries = read(path.name, path.read_text(encoding="utf-8", errors="replace")).entries
        if entries:
            found.append((path.name, *min(entries)))
    named = [item for item in found if "train" in item[0].lower()]
    chosen = named if len(named) == 1 else found if len(found) == 1 else []
    if chosen:
        name, line, call = chosen[0]
        return f"python {name}", f"{name} calls {call} at line {line}; nothing in the repository names a command"
    listed = f"; scripts that train: {', '.join(item[0] for item in found)}" if found else ""
    return "", f"no training command found{listed}"


def _requirements(repo: Path) -> str:
    return next((name for name in REQUIREMENTS if (repo / name).is_file()), "")


def _uses_wandb(repo: Path, requirements: str) -> bool:
    text = (repo / requirements).read_text(encoding="utf-8", errors="replace") if requirements else ""
    return bool(re.search(r"^\s*wandb\b", text, re.M | re.I))


def render(repo: Path, out: Path) -> str:
    command, where = train_command(repo)
    requirements = _requirements(repo)
    repo_dir = Path(_relative(repo.resolve(), out.resolve().parent))
    inputs = [w for e in find_entries(command, "TRAIN_CMD", repo) for w in e.args
              if _looks_like_input(w.partition("=")[2] or w) and "EDIT_ME" not in w] if command else []
    pythonpath = "src" if (repo / "src").is_dir() and not (repo / "src" / "__init__.py").exists() else ""
    wandb = _uses_wandb(repo, requirements)
    lines = [
        f"# spot-preflight config for {repo.resolve().name}, written by `preflight init`. Data only: KEY=VALUE.",
        "# Relative paths here are relative to this file's folder. Reference: docs/config.md.",
        "",
        "# Results go to artifacts/preflight/<PROJECT_NAME>/ in the spot-preflight checkout.",
        f"PROJECT_NAME={_name(repo)}",
        "# The training repository: this folder is copied into the sandbox (local) or onto the instance.",
        f"REPO_DIR={repo_dir}",
        "# Extra import roots inside the repository, colon-separated (src layout: src).",
        f"PROJECT_PYTHONPATH={pythonpath}",
        "# What the deps step installs into the project's own venv.",
        f"REQUIREMENTS_FILE={requirements or 'requirements.txt'}"
        + ("" if requirements else "  # EDIT: no requirements file was found"),
        f"PREFLIGHT_PINS_FILE={requirements or 'requirements.txt'}",
        f"# The training command ({where}). The entrypoint check proves its imports without running it;",
        "# the preflight never runs it. Replace EDIT_ME placeholders with real values.",
        f'TRAIN_CMD="{command}"' if command else "TRAIN_CMD=  # EDIT: e.g. torchrun --nproc_per_node=4 train.py ...",
        "SMOKE_CMD=",
        "# Files, folders or s3:// objects training reads; each must exist.",
        f"PREFLIGHT_PATHS={','.join(dict.fromkeys(inputs))}",
        "# Environment variables training needs (only presence is checked; pass them with PASS_ENV or SECRETS).",
        "PREFLIGHT_REQUIRED_ENV=",
        "# Names of variables of your shell handed to the steps (local transport).",
        "PASS_ENV=" + ("WANDB_API_KEY" if wandb else ""),
        "# W&B credentials: off · optional · required" + (" (wandb is a requirement)." if wandb else "."),
        f"WANDB_CHECK={'required' if wandb else 'off'}",
        "# ArcticDB: set ARCTICDB_URI (lmdb://PATH or s3://...) and ARCTICDB_LIBRARY to check the store.",
        "ARCTICDB_URI=",
        "ARCTICDB_LIBRARY=",
    ]
    return "\n".join(lines) + "\n"


def _relative(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path, start)


def main(repo: Path, out: Path | None) -> int:
    if not repo.is_dir():
        print(f"preflight init: --repo {repo}: not a directory", file=sys.stderr)
        return 2
    out = out or repo / "preflight.env"
    if out.exists() or out.is_symlink():
        print(f"preflight init: {out} exists; not overwriting it (pass --out for another file)", file=sys.stderr)
        return 2
    text = render(repo, out)
    try:
        with open(out, "x", encoding="utf-8") as handle:  # exclusive: never replaces a file made meanwhile
            handle.write(text)
    except OSError as exc:
        print(f"preflight init: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    edits = sum("EDIT" in line for line in text.splitlines() if not line.startswith("#"))  # not the instructions
    print(f"wrote {out}" + (f" ({edits} place{'s' if edits > 1 else ''} marked EDIT)" if edits else ""))
    tool = Path(__file__).resolve().parent.parent
    print(f"next: {tool / 'infra_scripts' / 'spot_train.sh'} --preflight-only --config {out}")
    return 0
