"""The static import closure of a training entry inside the project: every project module it reaches
by an import (function bodies included), and every name it takes from one, checked against what that
module defines. Nothing is executed: files are parsed (through lint's facts cache, so lint and the
closure share one parse per file) and resolved the way Python's path finder would resolve them.

Which problems fail: a module reached only through guarded imports (`try: ... except ImportError`)
may be missing or broken by design, so what is wrong inside it is optional. What leaves the project
is collected for the guarded child that looks for it in the project venv (third_party_child.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from preflight.bounded import NotRegular, read_regular
from preflight.entry.command import Entry
from preflight.lint.cache import FactsCache, key
from preflight.lint.facts import Facts, read
from preflight.lint.files import MAX_FILE_BYTES, python_files

MAX_MODULES = 5000  # a bound on what one closure may visit (a vendored monorepo, a generated tree)
MAX_NAMESPACE_SCAN = 2000  # directory entries looked at to tell a namespace package from a data folder
MAX_STAR_DEPTH = 8


@dataclass(frozen=True)
class Found:
    """A project module on disk: a file, an extension module (no source), or a namespace package."""

    name: str
    path: Path | None
    is_package: bool
    portions: tuple[Path, ...] = ()  # where its submodules live
    compiled: bool = False  # an extension module built in place: its names cannot be read


@dataclass
class Problem:
    owner: str  # the module whose file has the problem (decides whether it is required)
    where: str  # file:line
    text: str  # what is wrong, without the place
    module: str = ""
    name: str = ""


@dataclass
class Outside:
    """An import that leaves the project: looked up (and its names imported) in the project venv."""

    owner: str
    top: str
    target: str
    name: str
    where: str
    lazy: bool  # inside a function body or under an `if`: it runs only when that code does
    guarded: bool


@dataclass
class Closure:
    modules: dict[str, Path] = field(default_factory=dict)  # name -> file, in visiting order
    problems: list[Problem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # names that cannot be told statically
    outside: list[Outside] = field(default_factory=list)
    entry_lookups: dict[str, str] = field(default_factory=dict)  # -m targets not in the project -> source
    # Submodules of project packages missing from the project: a package extended from the venv
    # (pkgutil.extend_path, a namespace split across the project and site-packages) may hold them.
    elsewhere: dict[str, str] = field(default_factory=dict)  # dotted name -> first file:line
    namespace_tops: set[str] = field(default_factory=set)  # resolved only to namespace portions here
    edges: dict[str, list[tuple[str, bool, bool]]] = field(default_factory=dict)  # owner -> (module, guarded, lazy)
    roots: list[str] = field(default_factory=list)  # the entries' owners
    unlocated: list[str] = field(default_factory=list)  # entries a script cd'ed away from, not found
    parsed: int = 0
    truncated: bool = False

    def required(self, eager: bool = False) -> set[str]:
        """Modules reached from an entry through at least one chain of unguarded imports (eager: and
        none of them inside a function body or under a condition, i.e. imported as training starts)."""
        seen, queue = set(self.roots), list(self.roots)
        while queue:
            for child, guarded, lazy in self.edges.get(queue.pop(), []):
                if not guarded and not (eager and lazy) and child not in seen:
                    seen.add(child)
                    queue.append(child)
        return seen


def _holds_python(folder: Path) -> bool:
    """A directory without __init__.py is a namespace package of ours only if Python lives below it."""
    seen = 0
    for _dir, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("site-packages", "node_modules")]
        if any(n.endswith(".py") for n in names):
            return True
        seen += len(names) + len(dirs)
        if seen > MAX_NAMESPACE_SCAN:
            return False
    return False


def _compiled(folder: Path, last: str) -> bool:
    return any((folder / f"{last}{suffix}").is_file() for suffix in EXTENSION_SUFFIXES) or \
        any(folder.glob(f"{last}.*.so"))


class Finder:
    """Python's path finder over the project's own roots: a regular package or a module in an earlier
    root wins; directories without __init__.py are namespace portions (only when they hold Python)."""

    def __init__(self, roots: list[Path], exclude: frozenset[str] = frozenset()) -> None:
        self.roots = [r for r in dict.fromkeys(roots) if r.is_dir()]
        self.exclude = exclude  # top-level names an installed regular package wins (see namespace_tops)
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
        if name in self.exclude:
            return None
        return _in_dirs(name, name, tuple(self.roots))


def _in_dirs(name: str, last: str, dirs: tuple[Path, ...]) -> Found | None:
    portions = []
    for folder in dirs:
        package = folder / last
        if (package / "__init__.py").is_file():
            return Found(name, package / "__init__.py", True, (package,))
        if (folder / f"{last}.py").is_file():
            return Found(name, folder / f"{last}.py", False)
        if _compiled(folder, last):
            return Found(name, None, False, compiled=True)
        if package.is_dir() and _holds_python(package):
            portions.append(package)
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
                text = read_regular(path, MAX_FILE_BYTES, "a module").decode("utf-8", errors="replace")
            except (OSError, NotRegular) as exc:
                self.memo[path] = Facts(shown, syntax_error=f"unreadable: {exc}")
                return self.memo[path]
            digest = key(shown, text)
            facts = self.cache.get(digest, shown)
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
    if not package or level - 1 >= len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


class _Walk:
    def __init__(self, finder: Finder, files: FileFacts, closure: Closure) -> None:
        self.finder, self.files, self.closure = finder, files, closure
        self.queue: list[tuple[str, Path, str]] = []  # (module name, file, package)
        self.owner = ""
        self._names: dict[str, tuple[set[str], bool]] = {}

    def problem(self, facts: Facts, line: int, text: str, module: str = "", name: str = "") -> None:
        self.closure.problems.append(Problem(self.owner, f"{facts.path}:{line}", text, module, name))

    def visit(self, name: str, guarded: bool = False, lazy: bool = False) -> Found | None:
        """Queue a project module and its parent packages (importing a.b.c runs a and a.b first)."""
        parts = name.split(".")
        found = None
        for i in range(1, len(parts) + 1):
            found = self.finder.find(".".join(parts[:i]))
            if found is None:
                return None
            if i == 1 and found.path is None and found.is_package:
                self.closure.namespace_tops.add(found.name)
            self.closure.edges.setdefault(self.owner, []).append((found.name, guarded, lazy))
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

    def names_of(self, module: str, depth: int = 0) -> tuple[set[str], bool]:
        """What a project module defines (star imports from project modules followed), and whether
        that cannot be told: a module __getattr__, a star import from outside, source we cannot read."""
        if module in self._names:
            return self._names[module]
        found = self.finder.find(module)
        if found is None or found.compiled or found.path is None or depth > MAX_STAR_DEPTH:
            return set(), bool(found is not None and (found.compiled or depth > MAX_STAR_DEPTH))
        self._names[module] = (set(), True)  # a star-import cycle cannot tell
        facts = self.files.of(found.path)
        names, dynamic = set(facts.defines), "__getattr__" in facts.defines or bool(facts.syntax_error or
                                                                                  facts.unreadable)
        package = module if found.is_package else module.rpartition(".")[0]
        for imp in facts.imports:
            if imp[2] != "*":
                continue
            source = _absolute(imp[1], imp[3], package)
            if source and self.is_project(source):
                more, unknown = self.names_of(source, depth + 1)
                names |= more
                dynamic = dynamic or unknown
            else:
                dynamic = True
        self._names[module] = (names, dynamic)
        return names, dynamic

    def has_name(self, module: str, name: str, where: str, guarded: bool, lazy: bool = False) -> bool:
        found = self.finder.find(module)
        if found is None:
            return True  # reported as a missing module already
        names, dynamic = self.names_of(module)
        if name in names or self.visit(f"{module}.{name}", guarded, lazy) is not None:
            return True
        if dynamic:
            why = "an extension module" if found.compiled else \
                "__getattr__, a star import from outside, or a parse error"
            self.closure.unknown.append(f"{where}: {module}.{name} ({why})")
            return True
        return False

    def run(self, facts: Facts, package: str) -> None:
        if facts.syntax_error:
            at = re.search(r"\(line (\d+)\)", facts.syntax_error)
            self.problem(facts, int(at.group(1)) if at else 1, f"cannot be parsed: {facts.syntax_error}")
        if facts.unreadable:  # nested deeper than this reader follows: its imports cannot be told
            self.closure.unknown.append(f"{facts.path}: {facts.unreadable}")
        bound: dict[str, set[str]] = {}  # alias -> every module it is bound to in this file
        outside: dict[str, str] = {}  # alias -> the module outside the project it names
        entry = self.owner in self.closure.roots
        for line, module, name, level, alias, guarded, in_function, conditional in facts.imports:
            target = _absolute(module, level, package)
            shown = ("." * level) + module
            where = f"{facts.path}:{line}"
            # The entry's own functions run (main()); elsewhere a function body runs only if called.
            lazy = conditional or (in_function and not entry)
            if target is None:
                if not guarded:
                    self.problem(facts, line, f"`from {shown} import {name}` is a relative import with no "
                                 "parent package here (a script run by path is not in a package)", shown, name)
                continue
            if not target or not self.is_project(target):
                self.closure.outside.append(Outside(self.owner, target.split(".")[0], target, name, where,
                                                    lazy, guarded))
                bound.setdefault(alias, set()).add("")
                if not name and not guarded:
                    outside[alias] = target if alias != target.split(".")[0] else alias
                continue
            statement = f"from {shown} import {name}" if name else f"import {target}"
            if self.visit(target, guarded, lazy) is None:
                if not guarded:
                    self.problem(facts, line, f"module {target} is not in the project (`{statement}`)", target, name)
                    self.closure.elsewhere.setdefault(target, where)
                continue
            if name == "*":
                continue
            if not name:  # `import a.b` binds a; `import a.b as x` binds x to a.b
                bound.setdefault(alias, set()).add(target.split(".")[0] if alias == target.split(".")[0] else target)
                continue
            if not self.has_name(target, name, where, guarded, lazy):
                if not guarded:
                    self.problem(facts, line, f"`{statement}`: {name} is not defined in {target}", target, name)
            elif self.finder.find(f"{target}.{name}") is not None:
                bound.setdefault(alias, set()).add(f"{target}.{name}")
            else:
                bound.setdefault(alias, set()).add("")
        self.attributes(facts, bound, outside)

    def attributes(self, facts: Facts, bound: dict[str, set[str]], outside: dict[str, str]) -> None:
        for line, alias, attr in facts.attrs:
            targets = bound.get(alias, set())
            if alias in outside and len(targets) == 1 and alias not in facts.shadowed:
                module = outside[alias]  # `transformers.AdamW`: asked of the venv (a use may sit in a function)
                self.closure.outside.append(Outside(self.owner, module.split(".")[0], module, attr,
                                                    f"{facts.path}:{line}", True, False))
                continue
            if len(targets) != 1 or "" in targets or alias in facts.shadowed:
                continue  # bound to something else too (another import, an assignment): cannot tell
            module = next(iter(targets))
            where = f"{facts.path}:{line}"
            if not self.has_name(module, attr, where, False):
                self.problem(facts, line, f"`{alias}.{attr}`: {attr} is not defined in {module}", module, attr)

    def drain(self) -> None:
        while self.queue:
            name, path, package = self.queue.pop(0)
            self.owner = name
            self.run(self.files.of(path), package)


def _entry_problem(closure: Closure, entry: Entry, text: str) -> None:
    closure.problems.append(Problem(entry.source, entry.source, text, entry.target))
    closure.roots.append(entry.source)


def closure_of(entries: list[Entry], project: Path, pythonpath: list[Path], files: FileFacts,
               exclude: frozenset[str] = frozenset()) -> Closure:
    """The closure of every entry (TRAIN_CMD and SMOKE_CMD may share most of it)."""
    closure = Closure()
    for entry in entries:
        cwd = project / entry.cwd
        extra = [cwd / p for p in entry.pythonpath]
        if entry.kind == "file":
            script = cwd / os.path.expanduser(entry.target)  # an absolute target replaces cwd
            if not script.is_file() and not entry.certain and (project / entry.target).is_file():
                script = project / entry.target  # the script cd'ed somewhere only its shell knows: the root
            if not script.is_file() and entry.certain:
                _entry_problem(closure, entry, f"runs {entry.target}, which does not exist (looked in "
                                               f"{files.shown(cwd)})")
                continue
            if not script.is_file():
                closure.unlocated.append(f"{entry.source}: {entry.target} (after a cd into a shell variable)")
                continue
            script = script.resolve()  # Python puts the real file's folder on sys.path, not a link's
            walk = _Walk(Finder([script.parent, *extra, *pythonpath], exclude), files, closure)
            walk.owner = f"{entry.source}:{entry.target}"
            closure.roots.append(walk.owner)
            closure.modules.setdefault(walk.owner, script)
            walk.run(files.of(script), "")
        elif entry.kind == "code":
            walk = _Walk(Finder([cwd, *extra, *pythonpath], exclude), files, closure)
            walk.owner = f"{entry.source}:-c"
            closure.roots.append(walk.owner)
            walk.run(files.code(entry.target), "")
        else:
            walk = _Walk(Finder([cwd, *extra, *pythonpath], exclude), files, closure)
            walk.owner = f"{entry.source}:-m"
            closure.roots.append(walk.owner)
            if not walk.is_project(entry.target):
                closure.entry_lookups.setdefault(entry.target, entry.source)  # looked up, never imported
                continue
            found = walk.visit(entry.target)
            if found is None:
                _entry_problem(closure, entry, f"runs -m {entry.target}, which is not in the project")
            elif found.is_package and walk.visit(f"{entry.target}.__main__") is None:
                _entry_problem(closure, entry, f"runs -m {entry.target}, a package without __main__.py")
        walk.drain()
    closure.parsed = files.parsed
    return closure


def definitions_index(names: set[str], roots: list[Path], files: FileFacts, seconds: float = 2.0,
                      limit: int = MAX_MODULES) -> dict[str, list[str]]:
    """`file:line` of each top-level definition of each of `names` in the project (for "now defined
    in" hints): one pass over the project's files, bounded in files and time, shortest paths first
    (the library module before an example script that copies the name)."""
    import time

    ends, hits = time.monotonic() + seconds, {name: [] for name in names}
    seen: set[Path] = set()
    for root in roots:
        for count, path in enumerate(python_files(root, [])):
            if count >= limit or time.monotonic() > ends:
                break
            if path in seen:
                continue
            seen.add(path)
            facts = files.of(path)
            for name in names & facts.defines.keys():
                line = facts.defines[name]
                if not any(i[4] == name and i[0] == line for i in facts.imports):
                    hits[name].append(f"{facts.path}:{line}")
    return {name: sorted(found, key=lambda h: (h.count("/"), "example" in h, h)) for name, found in hits.items()}
