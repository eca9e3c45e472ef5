"""Which Python entry a training command starts, read from the command line as a shell would split it.

Understood: `python[3[.X]] [interpreter options] FILE.py | -m MODULE | -c CODE`, an executable
`./train.py`, the launchers that start a Python script with options of their own (`torchrun`,
`python -m torch.distributed.run` / `.launch`, `accelerate launch`, `deepspeed`), `uv run [options]`,
leading `env K=V` / `K=V` assignments (a `PYTHONPATH=` one is kept: it decides what imports resolve),
`exec`/`nohup`/`time`/`timeout`/`srun`/`mpirun`/`poetry run`/`conda run` and other wrappers in front of
one of those, `cd DIR &&` (and `;`, `(...)`), `bash -c '...'`, and a shell script (`bash
scripts/train.sh`, `./train.sh`) followed into for the same patterns. A target holding a shell
variable (`$ROOT/train.py`) cannot be read and is left out. Anything else is "no entry found", which
the entrypoint check reports as a warning, never as a pass.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_PYTHON = re.compile(r"^(.*/)?python(3(\.\d+)?)?$")
# Interpreter options that take a value (python -X dev, -W ignore); the rest are single flags.
_PY_VALUE_OPTS = {"-X", "-W", "--check-hash-based-pycs"}
# Launcher options that are switches; any other `--opt` without `=` takes the next word as its value.
_LAUNCHER_SWITCHES = {
    "--standalone", "--run-path", "--run_path", "--use_env", "--use-env",
    "--multi_gpu", "--multi-gpu", "--cpu", "--use_deepspeed", "--use_fsdp", "--use_megatron_lm", "--debug",
    "--quiet", "-q", "--tpu", "--no_local_rank", "--no-local-rank", "--force_multi", "--bind_cores_to_rank",
    "--no_ssh_check", "--save_pid", "--enable_cpu_affinity", "--same_network", "--tpu_use_cluster",
    "--dynamo_use_fullgraph", "--dynamo_use_dynamic", "--downcast_bf16", "--use_cpu", "--ipex",
}
_NO_PYTHON = {"--no-python", "--no_python"}
_LAUNCHER_MODULES = {"torch.distributed.run", "torch.distributed.launch", "accelerate.commands.launch",
                     "deepspeed.launcher.runner"}
_UV_SWITCHES = {"--no-sync", "--frozen", "--locked", "--isolated", "--all-extras", "--no-dev", "--no-project",
                "--active", "--offline", "--quiet", "-q", "--verbose", "-v", "--no-cache", "-n", "--exact",
                "--no-editable", "--only-dev", "--script", "--gui-script", "--no-env-file", "--compile-bytecode"}
_SHELLS = {"bash", "sh", "zsh", "dash"}
_PREFIXES = {"exec", "nohup", "time", "command", "builtin"}
# Commands that only ever print or set things: a python word after them is not run.
_NOT_RUNNERS = {"echo", "printf", "cat", "export", "test", "[", "[[", "read", "local", "declare", "alias", "if",
                "for", "while", "case", "function", "return", "source", ".", "eval", "set", "unset", "which"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = {"&&", ";", "||", "|", "&", "(", ")", ";;", "|&"}
# A redirection operator as the lexer splits it (`2>&1` is `2` `>&` `1`; `&> log`, `>| out`, `<<< text`):
# the word after it is its target (a file, an fd, `-`), never an argument of the command.
_REDIRECT = re.compile(r"^&?[<>]+[&|]?$")
MAX_SCRIPT_BYTES = 256 * 1024
MAX_SCRIPT_DEPTH = 3
MAX_SCRIPT_LINES = 5000  # every script line read for one command, all scripts together


@dataclass(frozen=True)
class Entry:
    kind: str  # file · module · code
    target: str  # the script's path, the module's dotted name, or the code itself
    cwd: str  # where the command runs, relative to the project ("" for the project root)
    source: str  # where it was found: "TRAIN_CMD" or "scripts/train.sh:12"
    args: tuple[str, ...] = ()  # the entry's own arguments (script options, data paths)
    pythonpath: tuple[str, ...] = ()  # PYTHONPATH the command sets (relative to cwd)
    certain: bool = True  # False after a `cd "$DIR"`: the script's own folder is the best guess

    def describe(self) -> str:
        shown = {"file": self.target, "module": f"-m {self.target}", "code": "-c <code>"}[self.kind]
        return f"{shown} (from {self.source})"


def _steps(words: list[str]) -> list[list[str]]:
    steps, current = [], []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _SEPARATORS:
            steps.append(current)
            current = []
        elif _REDIRECT.match(word):
            skip = True
            if current and current[-1].isdigit():
                current.pop()  # the fd of `2>` split off by the lexer
        else:
            current.append(word)
    return [*steps, current]


def _pythonpath(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(":") if p and "$" not in p)


def _strip_prefixes(words: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The command without its assignments and wrappers; assignments go into `env`."""
    env = env if env is not None else {}
    while words:
        head = words[0]
        if _ASSIGNMENT.match(head):
            name, _, value = head.partition("=")
            env[name] = value
            words = words[1:]
        elif head in _PREFIXES:
            words = words[1:]
        elif head == "env":
            words = words[1:]
            while words and (words[0].startswith("-") or _ASSIGNMENT.match(words[0])):
                if _ASSIGNMENT.match(words[0]):
                    name, _, value = words[0].partition("=")
                    env[name] = value
                words = words[1:]
        else:
            break
    return words


def _python(words: list[str]) -> tuple[str, str, list[str]] | None:
    """(kind, target, args) for `python [opts] FILE|-m MOD|-c CODE ...` (words without the interpreter)."""
    i = 0
    while i < len(words):
        word = words[i]
        if word in _PY_VALUE_OPTS:
            i += 2
            continue
        if word == "-" or not word.startswith("-"):
            return ("file", word, words[i + 1:]) if word != "-" else None
        if not word.startswith("--"):
            for n, flag in enumerate(word[1:], start=2):  # a cluster of one-letter flags: -u, -um mod, -mmod
                if flag in "mc":
                    kind = "module" if flag == "m" else "code"
                    if word[n:]:
                        return kind, word[n:], words[i + 1:]
                    return (kind, words[i + 1], words[i + 2:]) if i + 1 < len(words) else None
                if flag in "XW":
                    break
        i += 1
    return None


def _launcher(words: list[str]) -> tuple[str, str, list[str]] | str | None:
    """torchrun / accelerate launch / deepspeed: their own options, then a script (or -m MODULE); with
    --no-python, an executable run as a command of its own."""
    module, bare, i = False, False, 0
    while i < len(words):
        word = words[i]
        if word in ("-m", "--module"):
            module = True
            i += 1
        elif word in _NO_PYTHON:
            bare = True
            i += 1
        elif word.startswith("-"):
            takes_value = "=" not in word and word not in _LAUNCHER_SWITCHES
            nxt = words[i + 1] if i + 1 < len(words) else ""
            i += 2 if takes_value and nxt and not nxt.startswith("-") and not nxt.endswith(".py") else 1
        elif bare:
            return parse_step(words[i:])
        else:
            return ("module" if module else "file"), word, words[i + 1:]
    return None


def _uv_run(words: list[str]) -> list[str]:
    """The command after `uv run`'s own options."""
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] not in ("-m", "--module"):
        i += 1 if ("=" in words[i] or words[i] in _UV_SWITCHES) else 2
    rest = words[i:]
    if rest[:1] == ["--module"]:  # uv's spelling; python itself knows only -m
        rest = ["-m", *rest[1:]]
    if rest[:1] == ["-m"]:
        return ["python", *rest]
    return rest


def _runner_at(words: list[str]) -> int | None:
    """Where a python interpreter or launcher starts inside a wrapper command (timeout 600 python ...,
    srun -N1 torchrun ..., poetry run python ..., conda run -n env python ...)."""
    for i, word in enumerate(words[1:], start=1):
        name = PurePosixPath(word).name
        if _PYTHON.match(word) or name in ("torchrun", "deepspeed", "accelerate", "uv") or \
                (word.endswith(".py") and not words[i - 1].startswith("-")):
            return i
    return None


def parse_step(words: list[str]) -> tuple[str, str, list[str]] | str | None:
    """One simple command: an entry (kind, target, args), a shell script path to follow, or None."""
    words = _strip_prefixes(words)
    if not words:
        return None
    head, rest = PurePosixPath(words[0]).name, words[1:]
    if head == "uv" and rest[:1] == ["run"]:
        return parse_step(_uv_run(rest[1:]))
    if head in ("torchrun", "deepspeed") or (head == "accelerate" and rest[:1] == ["launch"]):
        return _launcher(rest[1:] if head == "accelerate" else rest)
    if _PYTHON.match(words[0]):
        found = _python(rest)
        if found and found[0] == "module" and found[1] in _LAUNCHER_MODULES:
            return _launcher(found[2])
        if found and found[0] == "module" and found[1] == "accelerate" and found[2][:1] == ["launch"]:
            return _launcher(found[2][1:])
        return found
    if words[0].endswith(".py"):
        return "file", words[0], rest  # an executable script with a python shebang
    if head in _SHELLS:
        if rest[:1] == ["-c"] and len(rest) > 1:
            return "-c " + rest[1]  # the string is a command line of its own
        return next((w for w in rest if not w.startswith("-")), None)
    if words[0].endswith(".sh") or words[0].startswith("./"):
        return words[0]
    if head in _NOT_RUNNERS:
        return None
    at = _runner_at(words)
    return parse_step(words[at:]) if at is not None else None


def _split(text: str) -> list[str] | None:
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        return list(lexer)
    except ValueError:  # an unbalanced quote: nothing we can read as a command
        return None


def _script_lines(path: Path) -> list[tuple[int, str]]:
    """Logical lines of a shell script (backslash continuations joined), with their first line number."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_SCRIPT_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):  # as bash: the backslash and the newline go, nothing else
            pending += raw[:-1]
            continue
        out.append((start, pending + raw))
        pending = ""
    return out


def _join(cwd: str, target: str) -> str:
    """`cd target` from cwd, resolved as the shell does by default (`cd -L`: `sub/..` is where one was);
    "" for the project root."""
    joined = posixpath.normpath(posixpath.join(cwd or ".", target))  # an absolute target replaces cwd
    return "" if joined == "." else joined


@dataclass
class _Scope:
    """What earlier lines of a script set for the later ones: the directory, PYTHONPATH, and variables
    that name the script's own folder (SCRIPT_DIR=$(dirname "$0"))."""

    cwd: str
    pythonpath: tuple[str, ...] = ()
    certain: bool = True
    places: dict[str, str] = field(default_factory=dict)


# `$(dirname "$0")`, `${BASH_SOURCE[0]%/*}`, `$(cd "$(dirname "$0")" && pwd)`: the script's folder.
_DIRNAME = r"\$\(\s*dirname\s+\$(0|\{?BASH_SOURCE(\[0\])?\}?)\s*\)"
_SCRIPT_DIR = re.compile(rf"{_DIRNAME}|\$\(\s*cd\s+{_DIRNAME}\s*&&\s*pwd\s*\)")
_TOPLEVEL = re.compile(r"\$\(git\s+rev-parse\s+--show-toplevel\)")
_VARIABLE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _place(word: str, scope: _Scope, script_dir: str) -> str | None:
    """Where a `cd` target with shell syntax goes, when it is a form we can read; None otherwise."""
    for pattern, base in ((_SCRIPT_DIR, script_dir), (_TOPLEVEL, "")):
        match = pattern.match(word)
        if match:
            return _join(base or ".", word[match.end():].lstrip("/") or ".")
    variable = _VARIABLE.match(word)
    if variable and variable.group(1) in scope.places:
        return _join(scope.places[variable.group(1)], word[variable.end():].lstrip("/") or ".")
    return None


def _unquoted(text: str) -> str:
    """Quotes dropped: `$(cd "$(dirname "$0")" && pwd)` reads the same with or without them."""
    return text.replace('"', "").replace("'", "")


_CD_LINE = re.compile(r"^\s*cd\s+(.+?)\s*$")
_SUBSTITUTION = re.compile(r"\$\((?:[^()]|\$\([^()]*\))*\)")  # $(...), one level of nesting


def _cd_target(line: str) -> str | None:
    """The target of a line that is one `cd DIR`, quotes dropped; a `$(...)` in it is one word however
    it is quoted (`cd $(git rev-parse --show-toplevel)`: the lexer would split it at its spaces)."""
    match = _CD_LINE.match(line)
    if not match:
        return None
    target = _unquoted(match.group(1))
    return None if re.search(r"[\s;&|<>()#`]", _SUBSTITUTION.sub("", target)) else target


def _scope_line(line: str, scope: _Scope, script_dir: str) -> None:
    """Apply a `cd DIR`, `export PYTHONPATH=...` or `DIR=<the script's folder>` line to the scope.
    `cd "$(dirname "$0")"` and its kin go somewhere only the shell knows: most often the script's
    own folder, which becomes the (uncertain) guess."""
    assigned = re.match(r"^\s*(export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S.*)$", line)
    if assigned:
        place = _place(_unquoted(assigned.group(3)).strip(), scope, script_dir)
        if place is not None:
            scope.places[assigned.group(2)] = place
    target = _cd_target(line)
    if target is not None:
        if "$" in target:
            place = _place(target, scope, script_dir)
            scope.cwd, scope.certain = (place, True) if place is not None else (script_dir, False)
        else:
            scope.cwd = _join(scope.cwd, target)
    words = _split(line) or []
    if words[:1] == ["export"] and len(words) >= 2 and words[1].startswith("PYTHONPATH="):
        scope.pythonpath = _pythonpath(words[1].partition("=")[2]) + scope.pythonpath


def find_entries(command: str, source: str, project: Path, cwd: str = "", depth: int = 0,
                 pythonpath: tuple[str, ...] = (), certain: bool = True,
                 budget: list[int] | None = None, seen: set[tuple[str, str]] | None = None) -> list[Entry]:
    """Every Python entry `command` starts, in order; a shell script is followed into (bounded depth,
    each script once per folder, MAX_SCRIPT_LINES in all)."""
    budget = budget if budget is not None else [MAX_SCRIPT_LINES]
    seen = seen if seen is not None else set()
    words = _split(command)
    if words is None:
        return []
    found: list[Entry] = []
    for step in _steps(words):
        env: dict[str, str] = {}
        stripped = _strip_prefixes(step, env)
        if stripped[:1] == ["cd"] and len(stripped) > 1:
            if "$" in stripped[1]:
                certain = False
            else:
                cwd = _join(cwd, stripped[1])
            continue
        paths = _pythonpath(env.get("PYTHONPATH", "")) + pythonpath
        parsed = parse_step(step)
        if isinstance(parsed, tuple):
            kind, target, args = parsed
            if kind == "file" and "$" in target:
                continue  # `$ROOT/train.py`: which file that is depends on the shell's environment
            found.append(Entry(kind, target, cwd, source, tuple(args), paths, certain))
        elif isinstance(parsed, str) and parsed.startswith("-c ") and depth < MAX_SCRIPT_DEPTH:
            found += find_entries(parsed[3:], source, project, cwd, depth + 1, paths, certain, budget, seen)
        elif isinstance(parsed, str) and "$" not in parsed and depth < MAX_SCRIPT_DEPTH and \
                (parsed, cwd) not in seen:
            seen.add((parsed, cwd))
            script = project / cwd / parsed  # an absolute path replaces the rest
            shown = str(PurePosixPath(cwd) / parsed)
            scope = _Scope(cwd, paths, certain)
            script_dir = str(PurePosixPath(shown).parent)
            for line, text in _script_lines(script):
                budget[0] -= 1
                if budget[0] < 0:
                    break
                _scope_line(text, scope, script_dir)  # `X=$(dirname "$0") python t.py` sets and runs
                found += find_entries(text, f"{shown}:{line}", project, scope.cwd, depth + 1, scope.pythonpath,
                                      scope.certain, budget, seen)
    return found
