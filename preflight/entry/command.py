"""Which Python entry a training command starts, read from the command line as a shell would split it.

Understood: `python[3[.X]] [interpreter options] FILE.py | -m MODULE | -c CODE`, the launchers that
start a Python script with options of their own (`torchrun`, `python -m torch.distributed.run` /
`.launch`, `accelerate launch`, `deepspeed`), `uv run [options] ...`, leading `env K=V` / `K=V`
assignments, `exec`/`nohup`/`time`, `cd DIR &&` (and `;`-separated steps), and a shell script
(`bash scripts/train.sh`, `./train.sh`) followed into for the same patterns. Anything else is "no
entry found", which the entrypoint check reports as a warning, never as a pass.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

_PYTHON = re.compile(r"^(.*/)?python(3(\.\d+)?)?$")
# Interpreter options that take a value (python -X dev, -W ignore); the rest are single flags.
_PY_VALUE_OPTS = {"-X", "-W", "--check-hash-based-pycs"}
# Launcher options that are switches; any other `--opt` without `=` takes the next word as its value.
_LAUNCHER_SWITCHES = {
    "--standalone", "--no-python", "--no_python", "--run-path", "--run_path", "--module", "-m",
    "--multi_gpu", "--multi-gpu", "--cpu", "--use_deepspeed", "--use_fsdp", "--use_megatron_lm", "--debug",
    "--quiet", "-q", "--tpu", "--no_local_rank", "--no-local-rank", "--force_multi", "--bind_cores_to_rank",
    "--no_ssh_check", "--save_pid", "--enable_cpu_affinity", "--same_network", "--tpu_use_cluster",
    "--dynamo_use_fullgraph", "--dynamo_use_dynamic", "--downcast_bf16", "--use_cpu", "--ipex",
}
_LAUNCHER_MODULES = {"torch.distributed.run", "torch.distributed.launch", "accelerate.commands.launch",
                     "deepspeed.launcher.runner"}
_UV_SWITCHES = {"--no-sync", "--frozen", "--locked", "--isolated", "--all-extras", "--no-dev", "--no-project",
                "--active", "--offline", "--quiet", "-q", "--verbose", "-v", "--no-cache", "-n", "--exact",
                "--no-editable", "--only-dev", "--script", "--gui-script", "--no-env-file", "--compile-bytecode"}
_SHELLS = {"bash", "sh", "zsh", "dash"}
_PREFIXES = {"exec", "nohup", "time", "command", "srun", "stdbuf", "nice"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = {"&&", ";", "||", "|", "&"}
MAX_SCRIPT_BYTES = 256 * 1024
MAX_SCRIPT_DEPTH = 3


@dataclass(frozen=True)
class Entry:
    kind: str  # file · module · code
    target: str  # the script's path, the module's dotted name, or the code itself
    cwd: str  # where the command runs, relative to the project ("" for the project root)
    source: str  # where it was found: "TRAIN_CMD" or "scripts/train.sh:12"
    args: tuple[str, ...] = ()  # the entry's own arguments (script options, data paths)

    def describe(self) -> str:
        shown = {"file": self.target, "module": f"-m {self.target}", "code": "-c <code>"}[self.kind]
        return f"{shown} (from {self.source})"


def _steps(words: list[str]) -> list[list[str]]:
    steps, current = [], []
    for word in words:
        if word in _SEPARATORS:
            steps.append(current)
            current = []
        else:
            current.append(word)
    return [*steps, current]


def _strip_prefixes(words: list[str]) -> list[str]:
    while words:
        head = words[0]
        if _ASSIGNMENT.match(head) or head in _PREFIXES:
            words = words[1:]
        elif head == "env":
            words = words[1:]
            while words and (words[0].startswith("-") or _ASSIGNMENT.match(words[0])):
                words = words[1:]
        else:
            break
    return words


def _python(words: list[str]) -> tuple[str, str, list[str]] | None:
    """(kind, target, args) for `python [opts] FILE|-m MOD|-c CODE ...` (words without the interpreter)."""
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-m" or word == "-c":
            if i + 1 >= len(words):
                return None
            return ("module" if word == "-m" else "code"), words[i + 1], words[i + 2:]
        if word.startswith("-m") and len(word) > 2:
            return "module", word[2:], words[i + 1:]
        if word.startswith("-c") and len(word) > 2:
            return "code", word[2:], words[i + 1:]
        if word in _PY_VALUE_OPTS:
            i += 2
            continue
        if word == "-" or not word.startswith("-"):
            return ("file", word, words[i + 1:]) if word != "-" else None
        i += 1
    return None


def _launcher(words: list[str]) -> tuple[str, str, list[str]] | None:
    """torchrun / accelerate launch / deepspeed: their own options, then a script (or -m MODULE)."""
    module, i = False, 0
    while i < len(words):
        word = words[i]
        if word in ("-m", "--module"):
            module = True
            i += 1
        elif word.startswith("-"):
            takes_value = "=" not in word and word not in _LAUNCHER_SWITCHES
            nxt = words[i + 1] if i + 1 < len(words) else ""
            i += 2 if takes_value and nxt and not nxt.endswith(".py") else 1
        else:
            return ("module" if module else "file"), word, words[i + 1:]
    return None


def _uv_run(words: list[str]) -> list[str]:
    """The command after `uv run`'s own options."""
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] not in ("-m", "--module"):
        i += 1 if ("=" in words[i] or words[i] in _UV_SWITCHES) else 2
    rest = words[i:]
    if rest and rest[0] in ("-m", "--module"):
        return ["python", *rest]
    if rest and rest[0].endswith(".py"):
        return ["python", *rest]
    return rest


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
    if head in _SHELLS:
        script = next((w for w in rest if not w.startswith("-")), "")
        return script or None
    if words[0].endswith(".sh") or words[0].startswith("./"):
        return words[0]
    return None


def _split(text: str) -> list[str] | None:
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
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
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        out.append((start, pending + raw))
        pending = ""
    return out


def find_entries(command: str, source: str, project: Path, cwd: str = "", depth: int = 0) -> list[Entry]:
    """Every Python entry `command` starts, in order; a shell script is followed into (bounded depth)."""
    words = _split(command)
    if words is None:
        return []
    found: list[Entry] = []
    for step in _steps(words):
        stripped = _strip_prefixes(step)
        if stripped[:1] == ["cd"] and len(stripped) > 1:
            cwd = _join(cwd, stripped[1])
            continue
        parsed = parse_step(step)
        if isinstance(parsed, tuple):
            kind, target, args = parsed
            found.append(Entry(kind, target, cwd, source, tuple(args)))
        elif isinstance(parsed, str) and depth < MAX_SCRIPT_DEPTH:
            script = (project / cwd / parsed) if not parsed.startswith("/") else Path(parsed)
            shown = str(PurePosixPath(cwd) / parsed) if cwd else parsed
            inner_cwd = cwd
            for line, text in _script_lines(script):
                moved = _cd(text)
                if moved is not None:  # a `cd DIR` line moves every later line of the script
                    inner_cwd = _join(inner_cwd, moved)
                    continue
                found += find_entries(text, f"{shown}:{line}", project, inner_cwd, depth + 1)
    return found


def _join(cwd: str, target: str) -> str:
    return target if target.startswith("/") else str(PurePosixPath(cwd or ".") / target)


def _cd(line: str) -> str | None:
    words = _split(line)
    if words and len(words) == 2 and words[0] == "cd" and "$" not in words[1]:
        return words[1]
    return None
