"""Refuse every AWS call that is not a read while the probe runs, before it leaves the process.

Uses botocore's own event system: each botocore Session created while the guard is active (and the
boto3 default session, if one exists) gets a `before-call` handler that raises for any operation
whose name does not start with a read verb. Clients created by a check, by the training package at
import time or by a library all go through a Session, so none of them can write.

botocore is patched when it is imported, not before: a probe whose checks never touch AWS never pays
for importing it. The guard covers one Python process: user code runs in child processes that install
it themselves (preflight/guard_site/sitecustomize.py) and append what they refused to a shared log.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
import weakref
from types import ModuleType
from typing import Any

READ_PREFIXES = ("Get", "Head", "List", "Describe")
_TARGET = "botocore.session"


class WriteRefused(PermissionError):
    """Raised inside botocore instead of sending a non-read request."""


class _PatchOnImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds botocore.session with the other finders and patches it right after it executes."""

    def __init__(self, guard: ReadOnlyGuard) -> None:
        self.guard = guard
        self.real: importlib.abc.Loader | None = None

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                self.real, spec.loader = spec.loader, self
                return spec
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        assert self.real is not None
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        assert self.real is not None
        self.real.exec_module(module)
        self.guard._patch(module)


def note(log: str | None, line: str) -> None:
    """One line appended to the guard log shared by the probe and its children (O_APPEND: whole lines)."""
    if not log:
        return
    try:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{line}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        pass  # the refusal itself still happened: the request was never sent


def read_log(log: str) -> tuple[list[str], int]:
    """(refused operations, number of guarded child processes) from a guard log."""
    try:
        with open(log, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return [], 0
    refused = [line.split(" ", 2)[2] for line in lines if line.startswith("refused ")]
    return refused, sum(1 for line in lines if line.startswith("guarded "))


class ReadOnlyGuard:
    def __init__(self, log: str | None = None) -> None:
        self.log = log
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._restore: tuple[Any, Any] | None = None
        self._finder: _PatchOnImport | None = None
        self._sessions: list[weakref.ref[Any]] = []

    def _before_call(self, model: Any, **_: Any) -> None:
        if model.name.startswith(READ_PREFIXES):
            return
        operation = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.refused.append(operation)
        note(self.log, f"refused {os.getpid()} {operation}")
        raise WriteRefused(f"preflight is read-only: refused {operation} before sending it")

    def _watch(self, session: Any) -> None:
        session.register("before-call", self._before_call)
        with self._lock:
            self._sessions.append(weakref.ref(session))

    def _patch(self, botocore_session: ModuleType) -> None:
        session_class = botocore_session.Session
        original_init = session_class.__init__
        guard = self

        def guarded_init(session: Any, *args: Any, **kwargs: Any) -> None:
            original_init(session, *args, **kwargs)
            guard._watch(session)

        session_class.__init__ = guarded_init
        self._restore = (session_class, original_init)
        boto3 = sys.modules.get("boto3")
        if boto3 is not None and getattr(boto3, "DEFAULT_SESSION", None) is not None:
            self._watch(boto3.DEFAULT_SESSION._session)

    def __enter__(self) -> ReadOnlyGuard:
        if _TARGET in sys.modules:
            self._patch(sys.modules[_TARGET])
        else:
            self._finder = _PatchOnImport(self)
            sys.meta_path.insert(0, self._finder)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        if self._restore is not None:
            session_class, original_init = self._restore
            session_class.__init__ = original_init
            self._restore = None
        # Sessions made during the probe outlive it (boto3's default one does); they may write again.
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for ref in sessions:
            if (session := ref()) is not None:
                session.unregister("before-call", self._before_call)
