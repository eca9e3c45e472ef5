"""Paths the entry script reads, as its own code names them: `pd.read_csv("voice.csv")` in a top-level
train.py is a file training cannot start without, whether or not anyone listed it in PREFLIGHT_PATHS.

Read from the entry's source (ast), never run. A false failure blocks a team's training, so a read is
`certain` (absent: the paths check fails) only when nothing in the file could make it absent-and-fine:
- it runs whenever the script starts: top level, `with` bodies (not `suppress`), a class body, the
  `if __name__ == "__main__":` block; not a function, branch, loop or try, nor the far side of an
  `x if c else y`, an `a or b`, a lambda or a comprehension; nothing after a `sys.exit`;
- its path appears nowhere else in the file (a download, `shutil.copy`, `wget -O data.csv`, an
  `os.path.exists` test, a variable), and the file calls nothing that makes files or moves the
  working directory (urlretrieve, *download*, extractall, subprocess, os.system, shutil, chdir, …).
Any other read of an absent file is a warning. A path the file writes itself is its own output.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from preflight.entry.command import Entry
from preflight.lint.facts import dotted
from preflight.lint.files import MAX_FILE_BYTES
from preflight.lint.import_facts import main_guard

# Calls whose first argument (or a path keyword) is a file the call reads.
_READERS = {"read_csv", "read_parquet", "read_json", "read_feather", "read_pickle", "read_excel", "read_table",
            "read_hdf", "read_orc", "loadtxt", "genfromtxt", "load_from_disk", "read_text", "read_bytes"}
_READ_MODULES = {"np.load", "numpy.load", "torch.load", "joblib.load", "pickle.load", "Image.open", "PIL.Image.open"}
_OPENERS = {"open", "io.open", "gzip.open", "bz2.open", "lzma.open", "codecs.open"}
_WRITERS = re.compile(r"^(to_\w+|save\w*|savez\w*|savetxt|dump|write_text|write_bytes|save_to_disk|savefig)$")
_SUFFIX = {"save": ".npy", "savez": ".npz", "savez_compressed": ".npz"}  # numpy adds them
_PATH_KEYWORDS = ("filepath_or_buffer", "path", "file", "fname", "filename", "f", "path_or_buf")
# Calls after which a file may exist that the source never names as written, or `.` is elsewhere.
# Names common in other senses (str.replace, df.copy, df.rename) are matched on os and shutil only.
_MAKES_FILES = re.compile(r"(^|\.)(urlretrieve|\w*download\w*|get_file|extractall|unpack_archive|system|Popen|"
                          r"chdir|touch|symlink_to)$|^(subprocess|shutil|sh|plumbum)\.|^os\.(popen|rename|replace|"
                          r"symlink|link)$")


@dataclass(frozen=True)
class CodePath:
    shown: str  # "train.py:12 pd.read_csv('voice.csv')"
    path: Path
    certain: bool  # runs whenever the script starts, and nothing else in the file names or makes it


def _literal(node: ast.AST | None) -> str:
    if isinstance(node, ast.Call) and dotted(node.func).rsplit(".", 1)[-1] in ("Path", "PurePath") and node.args:
        return _literal(node.args[0])
    value = node.value if isinstance(node, ast.Constant) else None
    if not isinstance(value, str) or not value.strip() or "://" in value or value.lstrip().startswith("[") or \
            any(c in value for c in "{}%*?$\n"):
        return ""
    return value


def _mode(call: ast.Call, default: str = "r") -> str | None:
    """The mode a literal names; None when code decides it (`"a" if resume else "w"`)."""
    node = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    if node is None:
        return default
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _target(call: ast.Call) -> ast.AST | None:
    if isinstance(call.func, ast.Attribute) and call.func.attr in ("read_text", "read_bytes", "write_text",
                                                                  "write_bytes", "open", "touch"):
        receiver = call.func.value  # Path("x").read_text(), Path("x").open("w")
        if isinstance(receiver, ast.Call) and dotted(receiver.func).rsplit(".", 1)[-1] in ("Path", "PurePath"):
            return receiver
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg in _PATH_KEYWORDS), None)


def _read(call: ast.Call) -> ast.AST | None:
    """The path argument of a call that reads a file, else None."""
    name = dotted(call.func)
    last = name.rsplit(".", 1)[-1]
    if name in _OPENERS or (last == "open" and isinstance(_target(call), ast.Call)):
        mode = _mode(call)
        return _target(call) if mode is not None and not any(c in mode for c in "wax") else None
    if last == "memmap":  # numpy's default mode r+ needs the file; w+ makes it
        mode = _mode(call, "r+") if len(call.args) < 3 else None
        return _target(call) if mode is not None and "w" not in mode else None
    if last in _READERS or name in _READ_MODULES:
        return _target(call)
    return None


def _written(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        mode = _mode(node) if name in _OPENERS or last in ("open", "memmap") else "r"
        if _WRITERS.match(last) or mode is None or any(c in mode for c in "wax"):
            for literal in (_literal(_target(node)), *(_literal(a) for a in node.args[1:2])):
                if literal:
                    out.add(os.path.normpath(literal))
                    out.add(os.path.normpath(literal + _SUFFIX.get(last, "")))
    return out


def _exits(node: ast.stmt) -> bool:
    return isinstance(node, ast.Raise) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and
                                           dotted(node.value.func) in ("sys.exit", "exit", "quit", "os._exit"))


def _certain_roots(body: list[ast.stmt]) -> Iterator[ast.AST]:
    """The expressions that are evaluated whenever the script starts."""
    for node in body:
        if isinstance(node, ast.If) and main_guard(node.test):
            yield from _certain_roots(node.body)  # type: ignore[attr-defined]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            if any(dotted(item.context_expr).endswith("suppress") for item in node.items):
                continue
            yield from (item.context_expr for item in node.items)
            yield from _certain_roots(node.body)
        elif isinstance(node, ast.ClassDef):  # a class body runs at import
            yield from node.decorator_list
            yield from _certain_roots(node.body)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):  # decorators and defaults run
            yield from node.decorator_list
            yield from (d for d in (*node.args.defaults, *node.args.kw_defaults) if d is not None)
        elif isinstance(node, (ast.expr, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)) or \
                type(node).__name__ in ("Assert", "Delete"):
            yield node
        if _exits(node):
            return  # what follows never runs


def _evaluated(node: ast.AST) -> Iterator[ast.AST]:
    """`node` and what evaluating it always evaluates: not the far side of `a if c else b` or `a or b`,
    nor a lambda's or a comprehension's body."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, ast.Lambda):
            continue
        if isinstance(current, ast.IfExp):
            stack.append(current.test)
        elif isinstance(current, ast.BoolOp):
            stack.append(current.values[0])
        elif isinstance(current, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            stack.append(current.generators[0].iter)
        else:
            stack.extend(ast.iter_child_nodes(current))


def _make_files(calls: list[ast.Call]) -> bool:
    return any(_MAKES_FILES.search(dotted(call.func)) for call in calls)


def _strings(tree: ast.AST) -> list[ast.Constant]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def reads(source: str | bytes, shown: str, base: Path) -> list[CodePath]:
    """Each literal path the script reads and does not write itself, resolved against `base` (where the
    command runs)."""
    try:
        tree = ast.parse(source)  # bytes: the coding cookie and a BOM are honoured
        certain = {id(n) for root in _certain_roots(tree.body) for n in _evaluated(root)}
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        makes_files = _make_files(calls)
        written, strings = _written(tree), _strings(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the entrypoint check says what is wrong with the file
    try:
        return _found(calls, certain, makes_files, written, strings, shown, base)
    except (RecursionError, MemoryError):
        return []


def _found(calls: list[ast.Call], certain: set[int], makes_files: bool, written: set[str],
           strings: list[ast.Constant], shown: str, base: Path) -> list[CodePath]:
    found: dict[tuple[str, bool], CodePath] = {}
    for call in calls:
        argument = _read(call)
        literal = _literal(argument)
        normal = os.path.normpath(literal) if literal else ""
        if not literal or normal in written or any(normal.startswith(w + os.sep) for w in written):
            continue  # the script's own output, or inside a folder it writes (save_pretrained("tok"))
        argument_ids = {id(n) for n in ast.walk(argument)} if argument is not None else set()
        elsewhere = any(id(s) not in argument_ids and (os.path.normpath(s.value) == normal or
                                                        (s.value != literal and literal in s.value)) for s in strings)
        sure = id(call) in certain and not makes_files and not elsewhere
        path = Path(os.path.expanduser(literal))
        text = ast.unparse(call)
        text = text if len(text) <= 80 else f"{text[:76]} …)"
        found.setdefault((literal, sure), CodePath(f"{shown}:{call.lineno} {text}",
                                                   path if path.is_absolute() else base / path, sure))
    return sorted(found.values(), key=lambda p: (not p.certain, p.shown))


def _makes_files(init: Path) -> bool:
    try:
        if init.stat().st_size > MAX_FILE_BYTES:
            return True
        tree = ast.parse(init.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return True  # unreadable: nothing about it is certain
    return _make_files([n for n in ast.walk(tree) if isinstance(n, ast.Call)])


def _module_file(target: str, roots: list[Path]) -> tuple[Path | None, bool]:
    """(the file `python -m target` runs, whether that is certain), searching `roots` as CPython's path
    finder does: in each folder a regular package, then a module, and a folder without __init__.py only
    as a namespace portion when no root has either. A top-level namespace package is not certain (an
    installed package of that name would win), nor is anything under a package whose __init__.py, which
    runs first, could make files or change directory."""
    parts, folders, certain = target.split("."), roots, True
    for depth, name in enumerate(parts):
        last, portions, found = depth == len(parts) - 1, [], None
        for folder in folders:
            if (folder / name / "__init__.py").is_file() or (folder / f"{name}.py").is_file():
                found = folder / name if (folder / name / "__init__.py").is_file() else folder / f"{name}.py"
                break
            if (folder / name).is_dir():
                portions.append(folder / name)
        if found is None and not portions:
            return None, False
        if found is not None and found.suffix == ".py":  # a module: the end of the name, or nothing to run
            return (found, certain) if last else (None, False)
        # a regular package's __init__.py runs first; a top-level namespace may lose to an installed package
        safe = not _makes_files(found / "__init__.py") if found is not None else depth > 0
        certain = certain and safe
        folders = [found] if found is not None else portions
        if last:
            main = next((f / "__main__.py" for f in folders if (f / "__main__.py").is_file()), None)
            return main, certain and main is not None
    return None, False


def entry_reads(entries: list[Entry], project: Path, pythonpath: list[Path]) -> list[CodePath]:
    """What the entries of TRAIN_CMD / SMOKE_CMD read: a script, or the module `-m` runs (found from where
    the command runs, then its own PYTHONPATH, then the project's). Relative paths resolve where the
    command runs. After a `cd` into a variable the folder is a guess: nothing read there is certain."""
    out: dict[tuple[str, Path], CodePath] = {}
    for entry in entries:
        cwd, sure = project / entry.cwd, entry.certain
        if entry.kind == "file":
            script: Path | None = cwd / entry.target
        elif entry.kind == "module":
            script, found_sure = _module_file(entry.target, [cwd, *(cwd / p for p in entry.pythonpath), *pythonpath])
            sure = sure and found_sure
        else:
            continue
        if script is None or not script.is_file() or script.suffix != ".py" or \
                script.stat().st_size > MAX_FILE_BYTES:
            continue
        shown = entry.target if entry.kind == "file" else os.path.relpath(script, project)
        for read in reads(script.read_bytes(), shown, cwd):
            read = read if sure else replace(read, certain=False)
            key = (read.shown, read.path)  # two commands running one file: its reads once, certain if either is
            if key not in out or (read.certain and not out[key].certain):
                out[key] = read
    return sorted(out.values(), key=lambda p: (not p.certain, p.shown))
