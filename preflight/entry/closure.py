"""The static import closure of a training entry inside the project: every project module it reaches
by an import (function bodies included), and every name it takes from one, checked against what that
module defines. Nothing is executed: files are parsed (through lint's facts cache, so lint and the
closure share one parse per file) and resolved the way Python's path finder would resolve them.

What leaves the project (third-party and standard-library modules) is collected for the guarded
child that looks for it in the project venv (third_party_child.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from preflight.entry.command import Entry
from preflight.lint.cache import FactsCache, key
from preflight.lint.facts import Facts, read
from preflight.lint.files import python_files

MAX_MODULES = 5000  # a bound on what one closure may visit (a vendored monorepo, a generated tree)
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Found:
    """A project module on disk: a file, or a namespace package (directories, no file)."""

    name: str
    path: Path | None
    is_package: bool
    portions: tuple[Path, ...] = ()  # where its submodules live


@dataclass
class Closure:
    modules: dict[str, Path] = field(default_factory=dict)  # name -> file, in visiting order
    problems: list[dict] = field(default_factory=list)  # file, line, module, name, message
    unknown: list[str] = field(default_factory=list)  # names that cannot be told statically
    optional: list[str] = field(default_factory=list)  # guarded imports left to the child's info
    third_party: dict[str, str] = field(default_factory=dict)  # top-level module -> first "file:line"
    third_party_names: dict[str, dict[str, str]] = field(default_factory=dict)  # module -> name -> where
    parsed: int = 0
    truncated: bool = False


class Finder:
    """Python's path finder over the project's own roots: a regular package or a module in an earlier
    root wins; directories without __init__.py are namespace portions (only when they hold Python)."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots = [r for r in dict.fromkeys(roots) if r.is_dir()]
        self._memo: dict[str, Found | None] = {}

    def find(self, name: str) -> Found | None:
        if name not in self._memo:
            self._memo[name] = self._find(name)
        return self._memo[name]

    def _find(self, name: str) -> Found | None:
        head, _, rest = name.rpartition(".")
        if head:
            parent = self.find(head)
            if parent is None or not parent.is_package:
                return None
            return _in_dirs(name, rest, parent.portions)
        return _in_dirs(name, name, tuple(self.roots))


def _in_dirs(name: str, last: str, dirs: tuple[Path, ...]) -> Found | None:
    portions = []
    for folder in dirs:
        package = folder / last
        if (package / "__init__.py").is_file():
            return Found(name, package / "__init__.py", True, (package,))
        if (folder / f"{last}.py").is_file():
            return Found(name, folder / f"{last}.py", False)
        if package.is_dir() and (any(package.glob("*.py")) or any(package.glob("*/__init__.py"))):
            portions.append(package)  # a directory of data files is not a namespace package of ours
    return Found(name, None, True, tuple(portions)) if portions else None


class FileFacts:
    """Each file's facts once per probe: from lint's cache when its text is unchanged, else parsed."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.cache = FactsCache.open(project)
        self.memo: dict[Path, Facts] = {}
        self.parsed = 0

    def shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.project))
        except ValueError:
            return str(path)

    def of(self, path: Path) -> Facts:
        if path not in self.memo:
            shown = self.shown(path)
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise OSError(f"larger than {MAX_FILE_BYTES} bytes")
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                self.memo[path] = Facts(shown, syntax_error=f"unreadable: {exc}")
                return self.memo[path]
            digest = key(shown, text)
            facts = self.cache.get(digest)
            if facts is None:
                facts = read(shown, text)
                self.cache.put(digest, facts)
                self.parsed += 1
            self.memo[path] = facts
        return self.memo[path]

    def code(self, text: str) -> Facts:
        return read("<-c>", text)

    def save(self) -> None:
        self.cache.save(set(self.cache.entries))


def _absolute(module: str, level: int, package: str) -> str | None:
    if not level:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts) or not package:
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


class _Walk:
    def __init__(self, finder: Finder, files: FileFacts, closure: Closure) -> None:
        self.finder, self.files, self.closure = finder, files, closure
        self.queue: list[tuple[str, Path, str]] = []  # (module name, file, package)

    def where(self, facts: Facts, line: int) -> str:
        return f"{facts.path}:{line}"

    def problem(self, facts: Facts, line: int, module: str, name: str, message: str) -> None:
        self.closure.problems.append({"file": facts.path, "line": line, "module": module, "name": name,
                                      "message": f"{self.where(facts, line)}: {message}"})

    def visit(self, name: str) -> Found | None:
        """Queue a project module and its parent packages (importing a.b.c runs a and a.b first)."""
        parts = name.split(".")
        found = None
        for i in range(1, len(parts) + 1):
            found = self.finder.find(".".join(parts[:i]))
            if found is None:
                return None
            if found.path is not None and found.name not in self.closure.modules:
                if len(self.closure.modules) >= MAX_MODULES:
                    self.closure.truncated = True
                    return found
                self.closure.modules[found.name] = found.path
                package = found.name if found.is_package else found.name.rpartition(".")[0]
                self.queue.append((found.name, found.path, package))
        return found

    def is_project(self, name: str) -> bool:
        return self.finder.find(name.split(".")[0]) is not None

    def names_of(self, found: Found) -> tuple[dict[str, int], bool]:
        """What a project module defines, and whether that cannot be told (module __getattr__, star import)."""
        if found.path is None:
            return {}, False
        facts = self.files.of(found.path)
        dynamic = "__getattr__" in facts.defines or any(i[2] == "*" for i in facts.imports) or \
            bool(facts.syntax_error)
        return facts.defines, dynamic

    def has_name(self, module: str, name: str, facts: Facts, line: int) -> bool:
        found = self.finder.find(module)
        if found is None:
            return True  # reported as a missing module already
        defined, dynamic = self.names_of(found)
        if name in defined or self.visit(f"{module}.{name}") is not None:
            return True
        if dynamic:
            self.closure.unknown.append(f"{self.where(facts, line)}: {module}.{name} (module resolves names "
                                        "at run time: __getattr__ or a star import)")
            return True
        return False

    def run(self, facts: Facts, package: str) -> None:
        bound: dict[str, str] = {}  # alias -> project module it names
        for line, module, name, level, alias, guarded, _in_function in facts.imports:
            target = _absolute(module, level, package)
            shown = ("." * level) + module
            if target is None:
                self.problem(facts, line, shown, name, f"relative import `from {shown} import {name}` "
                             "has no parent package here (a script run by path is not in a package)")
                continue
            if not target or not self.is_project(target):
                self.third_party(facts, line, target, name, guarded)
                continue
            if self.visit(target) is None:
                statement = f"from {shown} import {name}" if name else f"import {target}"
                if guarded:
                    self.closure.optional.append(f"{self.where(facts, line)}: {target} (optional, not found)")
                else:
                    self.problem(facts, line, target, name, f"module {target} is not in the project (`{statement}`)")
                continue
            if name == "*":
                continue
            if not name:  # `import a.b` binds a; `import a.b as x` binds x to a.b
                bound[alias] = target.split(".")[0] if alias == target.split(".")[0] else target
                continue
            if self.has_name(target, name, facts, line):
                if self.finder.find(f"{target}.{name}") is not None:
                    bound[alias] = f"{target}.{name}"
            elif not guarded:
                self.problem(facts, line, target, name, f"`from {shown} import {name}`: {name} is not defined "
                             f"in {target}")
        self.attributes(facts, bound)

    def attributes(self, facts: Facts, bound: dict[str, str]) -> None:
        for line, alias, attr in facts.attrs:
            module = bound.get(alias)
            if module is None or alias in facts.shadowed:
                continue
            if not self.has_name(module, attr, facts, line):
                self.problem(facts, line, module, attr, f"`{alias}.{attr}`: {attr} is not defined in {module}")

    def third_party(self, facts: Facts, line: int, target: str, name: str, guarded: bool) -> None:
        where = self.where(facts, line)
        if guarded:
            self.closure.optional.append(f"{where}: {target} (optional)")
            return
        top = target.split(".")[0]
        self.closure.third_party.setdefault(top, where)
        if name and name != "*":
            self.closure.third_party_names.setdefault(target, {}).setdefault(name, where)
        elif "." in target:
            self.closure.third_party_names.setdefault(target, {})

    def drain(self) -> None:
        while self.queue:
            _name, path, package = self.queue.pop(0)
            self.run(self.files.of(path), package)


def closure_of(entries: list[Entry], project: Path, pythonpath: list[Path], files: FileFacts) -> Closure:
    """The closure of every entry (TRAIN_CMD and SMOKE_CMD may share most of it)."""
    closure = Closure()
    for entry in entries:
        cwd = project / entry.cwd
        if entry.kind == "file":
            script = (cwd / entry.target).resolve() if not entry.target.startswith("/") else Path(entry.target)
            walk = _Walk(Finder([script.parent, *pythonpath]), files, closure)
            if not script.is_file():
                closure.problems.append({"file": entry.source, "line": 0, "module": entry.target, "name": "",
                                         "message": f"{entry.source} runs {entry.target}, which does not exist "
                                                    f"(looked in {files.shown(cwd) or '.'})"})
                continue
            closure.modules.setdefault("__main__" if len(entries) == 1 else entry.target, script)
            walk.run(files.of(script), "")
        elif entry.kind == "code":
            walk = _Walk(Finder([cwd, *pythonpath]), files, closure)
            walk.run(files.code(entry.target), "")
        else:
            walk = _Walk(Finder([cwd, *pythonpath]), files, closure)
            if not walk.is_project(entry.target):
                walk.closure.third_party.setdefault(entry.target.split(".")[0], entry.source)
                walk.closure.third_party_names.setdefault(entry.target, {})
                continue
            found = walk.visit(entry.target)
            if found is None:
                closure.problems.append({"file": entry.source, "line": 0, "module": entry.target, "name": "",
                                         "message": f"{entry.source} runs -m {entry.target}, which is not in "
                                                    "the project"})
                continue
            if found.is_package and walk.visit(f"{entry.target}.__main__") is None:
                closure.problems.append({"file": entry.source, "line": 0, "module": entry.target, "name": "",
                                         "message": f"{entry.source} runs -m {entry.target}, a package "
                                                    "without __main__.py"})
        walk.drain()
    closure.parsed = files.parsed
    return closure


def where_defined(name: str, roots: list[Path], files: FileFacts, limit: int = MAX_MODULES) -> list[str]:
    """`file:line` of each top-level definition of `name` in the project (for "moved to" hints)."""
    hits: list[str] = []
    seen: set[Path] = set()
    for root in roots:
        for count, path in enumerate(python_files(root, [])):
            if count >= limit or path in seen:
                break
            seen.add(path)
            facts = files.of(path)
            line = facts.defines.get(name)
            if line is not None and not any(i[4] == name and i[0] == line for i in facts.imports):
                hits.append(f"{facts.path}:{line}")
    return hits
