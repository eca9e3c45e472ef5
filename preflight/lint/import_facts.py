"""What a file imports and what it defines at module level, read from the AST lint already parsed.

The entry-point closure (preflight/entry/closure.py) follows these facts through the project, so one
parse (and one facts-cache entry) serves lint and the closure. Imports are found everywhere, function
bodies included: a helper imported lazily inside a function breaks training as surely as a top-level
one, only later. Imports under `if TYPE_CHECKING:` never run and are left out; imports inside
`try: ... except ImportError` (or `contextlib.suppress(ImportError)`) are optional and marked so.
"""

from __future__ import annotations

import ast

# (line, module, name, level, bound name, guarded, in a function body, under a condition):
#   `import a.b`            -> (n, "a.b", "", 0, "a", ...)
#   `import a.b as x`       -> (n, "a.b", "", 0, "x", ...)
#   `from ..m import y as z` -> (n, "m", "y", 2, "z", ...)   (`*` for a star import)
# guarded: inside `try` whose handler catches ImportError (and does not re-raise), or
# contextlib.suppress(ImportError): the code expects it may be missing. Under a condition: inside an
# `if` (a version, platform or "is X available" branch) — it runs only when that branch does.
ImportFact = tuple[int, str, str, int, str, bool, bool, bool]
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
_BLOCKS = ("body", "orelse", "finalbody")


def _names(node: ast.AST | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node, (ast.Tuple, ast.List)):
        return [n.id for n in node.elts if isinstance(n, ast.Name)]
    return [node.id] if isinstance(node, ast.Name) else []


def _catches_import_error(handlers: list[ast.ExceptHandler]) -> bool:
    """A handler that catches ImportError and carries on (one that re-raises is no guard at all)."""
    for handler in handlers:
        types = [] if handler.type is None else \
            (handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type])
        catches = handler.type is None or any(getattr(t, "id", getattr(t, "attr", "")) in _IMPORT_ERRORS
                                              for t in types)
        if catches and not (handler.body and isinstance(handler.body[-1], ast.Raise)):
            return True
    return False


def _suppresses_import_error(items: list[ast.withitem]) -> bool:
    for item in items:
        call = item.context_expr
        suppress = isinstance(call, ast.Call) and getattr(call.func, "attr", getattr(call.func, "id", "")) == "suppress"
        if suppress and any(getattr(a, "id", getattr(a, "attr", "")) in _IMPORT_ERRORS for a in call.args):
            return True
    return False


def main_guard(test: ast.AST) -> bool:
    """`__name__ == "__main__"`, either way round: the body runs whenever the file is the entry, so it is
    no condition that matters. `!=`, `in` or a chain is a condition like any other."""
    if not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, *test.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and \
        any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)


def _type_checking(test: ast.AST) -> bool:
    return getattr(test, "id", getattr(test, "attr", "")) == "TYPE_CHECKING"


class _ImportReader:
    def __init__(self) -> None:
        self.found: list[ImportFact] = []

    def block(self, body: list[ast.stmt], guarded: bool, in_function: bool, conditional: bool) -> None:
        for stmt in body:
            self.statement(stmt, guarded, in_function, conditional)

    def statement(self, stmt: ast.stmt, guarded: bool, in_function: bool, conditional: bool) -> None:
        kind, flags = type(stmt), (guarded, in_function, conditional)
        if kind is ast.Import:
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                self.found.append((stmt.lineno, alias.name, "", 0, bound, *flags))
        elif kind is ast.ImportFrom:
            for alias in stmt.names:
                self.found.append((stmt.lineno, stmt.module or "", alias.name, stmt.level or 0,
                                   alias.asname or alias.name, *flags))
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            self.block(stmt.body, guarded, True, conditional)
        elif kind is ast.If:
            if not _type_checking(stmt.test):
                self.block(stmt.body, guarded, in_function, conditional or not main_guard(stmt.test))
            self.block(stmt.orelse, guarded, in_function, True)
        elif hasattr(stmt, "handlers"):  # try / try*
            inner = guarded or _catches_import_error(stmt.handlers)
            self.block(stmt.body, inner, in_function, conditional)
            for handler in stmt.handlers:  # the fallback of an optional import is an alternative too
                self.block(handler.body, inner, in_function, conditional)
            self.block(stmt.orelse, guarded, in_function, conditional)
            self.block(stmt.finalbody, guarded, in_function, conditional)
        elif kind in (ast.With, ast.AsyncWith):
            self.block(stmt.body, guarded or _suppresses_import_error(stmt.items), in_function, conditional)
        else:
            for name in _BLOCKS:
                self.block(getattr(stmt, name, []) or [], guarded, in_function, conditional)
            for case in getattr(stmt, "cases", []) or []:  # match (3.10+)
                self.block(case.body, guarded, in_function, True)


def imports(tree: ast.Module) -> list[ImportFact]:
    reader = _ImportReader()
    reader.block(tree.body, False, False, False)
    return reader.found


def _bind(defined: dict, names: list[str], line: int) -> None:
    for name in names:
        defined.setdefault(name, line)


def _define(stmt: ast.stmt, defined: dict) -> None:
    kind = type(stmt)
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        _bind(defined, [stmt.name], stmt.lineno)
    elif kind is ast.Assign:
        for target in stmt.targets:
            _bind(defined, _names(target), stmt.lineno)
    elif kind in (ast.AnnAssign, ast.AugAssign):
        _bind(defined, _names(stmt.target), stmt.lineno)
    elif kind is ast.Import:
        _bind(defined, [a.asname or a.name.split(".")[0] for a in stmt.names], stmt.lineno)
    elif kind is ast.ImportFrom:
        _bind(defined, [a.asname or a.name for a in stmt.names if a.name != "*"], stmt.lineno)
    elif kind in (ast.For, ast.AsyncFor):
        _bind(defined, _names(stmt.target), stmt.lineno)
    elif kind in (ast.With, ast.AsyncWith):
        for item in stmt.items:
            _bind(defined, _names(item.optional_vars), stmt.lineno)
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return
    if kind is ast.If and _type_checking(stmt.test):  # names bound for type checkers only do not exist
        for inner in stmt.orelse:
            _define(inner, defined)
        return
    for name in _BLOCKS:
        for inner in getattr(stmt, name, []) or []:
            _define(inner, defined)
    for handler in getattr(stmt, "handlers", []) or []:
        for inner in handler.body:
            _define(inner, defined)
    for case in getattr(stmt, "cases", []) or []:
        for inner in case.body:
            _define(inner, defined)


def definitions(tree: ast.Module) -> dict:
    """Module-level names and the line that first binds each (facts.py adds `global` names, which it
    meets on its one walk of every node)."""
    defined: dict = {}
    for stmt in tree.body:
        _define(stmt, defined)
    return defined
