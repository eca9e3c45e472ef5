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

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
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


def _lines(log: str) -> list[str]:
    try:
        with open(log, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def read_log(log: str) -> tuple[list[str], int]:
    """(refused operations, number of guarded child processes) from a guard log."""
    lines = _lines(log)
    refused = [line.split(" ", 2)[2] for line in lines if line.startswith("refused ") and line.count(" ") >= 2]
    return refused, sum(1 for line in lines if line.startswith("guarded "))


# --- what was spawned, against what reported in -------------------------------------------------------
# Guarded processes log one line per process they start (an audit hook: it sees subprocess, os.exec*,
# os.posix_spawn, os.system and multiprocessing's spawn, and cannot be removed), and every process that
# installs the guard logs `guarded PID PPID`. A start that no guarded process answers ran without the
# guard: a child given its own PYTHONPATH or a reduced environment, one started after the guard's variable
# was popped, one whose venv has a .pth that unsets it, or any program that is not Python.
LAUNCH_EVENTS = frozenset({"subprocess.Popen", "os.exec", "os.posix_spawn", "os.system", "os.spawn"})


@dataclass
class Coverage:
    guarded: int = 0  # processes that installed the guard and reported in
    launched: int = 0  # processes started for project code (by the probe or by a guarded process)
    unguarded: list[str] = field(default_factory=list)  # the program of each start no guarded process answered
    removed: list[str] = field(default_factory=list)  # "pid: why" where the guard was gone at the end
    unverified: int = 0  # guarded processes that ended without the end-of-process check (killed, os._exit)


def coverage(log: str) -> Coverage:
    """Match each recorded start with the guarded process it became: for an exec, the same pid reporting
    after it; for any other start, a process reporting with the starter as its parent."""
    out = Coverage()
    starts: list[tuple[str, str, str]] = []  # (starter pid, kind, program)
    reports: list[tuple[str, str]] = []  # (pid, parent pid), in log order after the starts they answer
    ended: dict[str, str] = {}
    answered: list[bool] = []
    for line in _lines(log):
        word, _, rest = line.partition(" ")
        parts = rest.split(" ", 2)
        if word == "spawn" and len(parts) == 3:
            starts.append((parts[0], parts[1], parts[2]))
            answered.append(False)
        elif word == "guarded" and len(parts) >= 2:
            reports.append((parts[0], parts[1]))
            out.guarded += 1
            for n in range(len(starts) - 1, -1, -1):  # the latest unanswered start this report can answer
                starter, kind, _ = starts[n]
                if not answered[n] and (parts[0] == starter if kind == "os.exec" else parts[1] == starter):
                    answered[n] = True
                    break
        elif word == "ended" and parts:
            ended[parts[0]] = rest.partition(" ")[2]
    out.launched = len(starts)
    out.unguarded = [program for (_, _, program), done in zip(starts, answered) if not done]
    for pid, _ in reports:
        state = ended.get(pid)
        if state is None:
            out.unverified += 1
        elif state != "intact":
            out.removed.append(f"{pid}: {state}")
    return out


def _program(event: str, args: tuple) -> str:  # type: ignore[type-arg]
    """The program a start runs, as a short name (`python3.11`, `git`, `sh`)."""
    if event == "os.system":
        return "sh"
    if event == "subprocess.Popen":
        target = args[0] or (args[1] if isinstance(args[1], (str, bytes)) else (list(args[1]) or [""])[0])
    elif event == "os.spawn":
        target = args[1]
    else:
        target = args[0]
    if isinstance(target, bytes):
        target = target.decode("utf-8", "replace")
    target = str(target).split()[0] if str(target).strip() else "?"
    return os.path.basename(target)[:60] or "?"


def watch(guard: ReadOnlyGuard, log: str | None) -> None:
    """In a guarded process: record every process it starts, and at its end whether the guard is still
    installed. Audit hooks cannot be removed; a start through _posixsubprocess.fork_exec without Popen
    (multiprocessing's spawn) is recorded by a wrapper around it."""
    import atexit

    state = threading.local()

    def hook(event: str, args: tuple) -> None:  # type: ignore[type-arg]
        if event not in LAUNCH_EVENTS:
            return
        if event == "subprocess.Popen":
            state.in_popen = True
        with contextlib.suppress(Exception):  # recording must never break the process it watches
            note(log, f"spawn {os.getpid()} {event} {_program(event, args)}")

    sys.addaudithook(hook)
    try:
        import _posixsubprocess

        real = _posixsubprocess.fork_exec

        def fork_exec(*args: Any, **kwargs: Any) -> Any:
            if getattr(state, "in_popen", False):
                state.in_popen = False
            else:
                argv = args[0] if args else None
                note(log, f"spawn {os.getpid()} fork_exec {_program('os.exec', (argv[0] if argv else '?',))}")
            return real(*args, **kwargs)

        _posixsubprocess.fork_exec = fork_exec
    except (ImportError, AttributeError):
        pass
    atexit.register(lambda: note(log, f"ended {os.getpid()} {guard.intact() or 'intact'}"))


class ReadOnlyGuard:
    def __init__(self, log: str | None = None) -> None:
        self.log = log
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._restore: tuple[Any, Any] | None = None
        self._finder: _PatchOnImport | None = None
        self._sessions: list[weakref.ref[Any]] = []
        self._guarded_init: Any = None

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
        self._guarded_init = guarded_init
        boto3 = sys.modules.get("boto3")
        if boto3 is not None and getattr(boto3, "DEFAULT_SESSION", None) is not None:
            self._watch(boto3.DEFAULT_SESSION._session)

    def intact(self) -> str:
        """"" while the guard is as installed; else what was undone (checked at the end of a guarded process)."""
        if self._restore is not None:
            session_class, _ = self._restore
            if session_class.__init__ is not self._guarded_init:
                return "removed: botocore's Session.__init__ was replaced"
            return ""
        if self._finder is not None and self._finder not in sys.meta_path:
            if _TARGET in sys.modules:
                return "removed: botocore was imported after the guard's import hook was taken out"
            return "removed: the guard's import hook was taken out of sys.meta_path"
        return ""

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
