"""Paths the entry script reads, as its own code names them: `pd.read_csv("voice.csv")` in a top-level
train.py is a file training cannot start without, whether or not anyone listed it in PREFLIGHT_PATHS.

Read from the entry's source (ast), never run. A read in a statement that runs whenever the script starts
(the top level, or the body of `if __name__ == "__main__":`) is `certain`: absent, training stops with
FileNotFoundError. One inside a function, a branch or a try is not: absent, it is worth a warning only.
A path the same file also writes (`to_csv`, `open(..., "w")`, `np.save`) is the script's own output.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from preflight.entry.command import Entry

MAX_SOURCE_BYTES = 2 << 20
# Calls whose first argument (or `path`-like keyword) is a file the call reads.
_READERS = {"read_csv", "read_parquet", "read_json", "read_feather", "read_pickle", "read_excel", "read_table",
            "read_hdf", "read_orc", "loadtxt", "genfromtxt", "memmap", "load_from_disk", "read_text", "read_bytes"}
_READ_MODULES = {"np.load", "numpy.load", "torch.load", "joblib.load", "pickle.load", "Image.open", "PIL.Image.open"}
_WRITERS = {"to_csv", "to_parquet", "to_json", "to_feather", "to_pickle", "to_excel", "save", "savez", "savetxt",
            "dump", "write_text", "write_bytes", "save_to_disk", "savefig"}
_PATH_KEYWORDS = ("filepath_or_buffer", "path", "file", "fname", "filename", "f", "path_or_buf")


@dataclass(frozen=True)
class CodePath:
    shown: str  # "train.py:12 pd.read_csv('voice.csv')"
    path: Path
    certain: bool  # runs whenever the script starts


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    if isinstance(node, ast.Call):  # Path("x").read_text()
        return _name(node.func)
    return ""


def _literal(node: ast.AST | None) -> str:
    if isinstance(node, ast.Call) and _name(node.func).rsplit(".", 1)[-1] in ("Path", "PurePath") and node.args:
        return _literal(node.args[0])
    value = node.value if isinstance(node, ast.Constant) else None
    if not isinstance(value, str) or not value.strip() or "://" in value or any(c in value for c in "{}%*?$\n"):
        return ""
    return value


def _mode(call: ast.Call) -> str:
    node = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "r"


def _target(call: ast.Call) -> ast.AST | None:
    if isinstance(call.func, ast.Attribute) and call.func.attr in ("read_text", "read_bytes", "write_text",
                                                                  "write_bytes"):
        return call.func.value  # Path("x").read_text()
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg in _PATH_KEYWORDS), None)


def _read(call: ast.Call) -> str:
    name = _name(call.func)
    last = name.rsplit(".", 1)[-1]
    if name == "open" or name in ("io.open", "gzip.open", "bz2.open"):
        mode = _mode(call)
        return _literal(_target(call)) if not any(c in mode for c in "wax+") else ""
    if last in _READERS or name in _READ_MODULES:
        return _literal(_target(call))
    return ""


def _written(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name.rsplit(".", 1)[-1] in _WRITERS or (name == "open" and any(c in _mode(node) for c in "wax+")):
            out.add(_literal(_target(node)))
            out.update(_literal(a) for a in node.args[1:2])  # joblib.dump(obj, "x"), np.save("x", a)
    return out


def _is_main_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Compare) and _name(test.left) == "__name__" and \
        any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)


def _certain_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements that run whenever the script starts: not a def, a class, a branch, a loop or a try."""
    out: list[ast.stmt] = []
    for node in body:
        if _is_main_guard(node):
            out += _certain_statements(node.body)  # type: ignore[attr-defined]
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.Try, ast.For,
                                   ast.While, ast.AsyncFor)) and type(node).__name__ not in ("Match", "TryStar"):
            out.append(node)
    return out


def reads(source: str, shown: str, base: Path) -> list[CodePath]:
    """Each literal path the script reads and does not write itself, resolved against `base` (where the
    command runs)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the entrypoint check says what is wrong with the file
    certain = {id(n) for stmt in _certain_statements(tree.body) for n in ast.walk(stmt)}
    written = _written(tree)
    found: dict[tuple[str, bool], CodePath] = {}
    for node in ast.walk(tree):
        literal = _read(node) if isinstance(node, ast.Call) else ""
        if literal and literal not in written:
            path = Path(literal).expanduser()
            key = (literal, id(node) in certain)
            call = ast.unparse(node)
            call = call if len(call) <= 80 else f"{call[:76]} …)"
            found.setdefault(key, CodePath(f"{shown}:{node.lineno} {call}", path if path.is_absolute() else base / path,
                                           id(node) in certain))
    return sorted(found.values(), key=lambda p: (not p.certain, p.shown))


def entry_reads(entries: list[Entry], project: Path) -> list[CodePath]:
    """What the entry scripts of TRAIN_CMD / SMOKE_CMD read (script entries: the file is known exactly)."""
    out: list[CodePath] = []
    for entry in entries:
        script = project / entry.cwd / entry.target
        if entry.kind != "file" or not script.is_file() or script.suffix != ".py" or \
                script.stat().st_size > MAX_SOURCE_BYTES:
            continue
        out += reads(script.read_text(encoding="utf-8", errors="replace"), entry.target, project / entry.cwd)
    return out
