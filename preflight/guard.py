"""Refuse every AWS call that is not a read while the probe runs, before it leaves the process.

Uses botocore's own event system: each botocore Session created while the guard is active (and the
boto3 default session, if one exists) gets a `before-call` handler that raises for any operation
whose name does not start with a read verb. Clients created by a check, by the training package at
import time or by a library all go through a Session, so none of them can write.
"""

from __future__ import annotations

import importlib.util
import threading
import weakref
from typing import Any

READ_PREFIXES = ("Get", "Head", "List", "Describe")


class WriteRefused(PermissionError):
    """Raised inside botocore instead of sending a non-read request."""


class ReadOnlyGuard:
    def __init__(self) -> None:
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._restore: Any = None
        self._sessions: list[weakref.ref[Any]] = []

    def _before_call(self, model: Any, **_: Any) -> None:
        if model.name.startswith(READ_PREFIXES):
            return
        operation = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self.refused.append(operation)
        raise WriteRefused(f"preflight is read-only: refused {operation} before sending it")

    def __enter__(self) -> ReadOnlyGuard:
        if importlib.util.find_spec("botocore") is None:
            return self
        import sys

        import botocore.session

        session_class = botocore.session.Session
        original_init = session_class.__init__
        guard = self

        def guarded_init(session: Any, *args: Any, **kwargs: Any) -> None:
            original_init(session, *args, **kwargs)
            guard._watch(session)

        session_class.__init__ = guarded_init  # type: ignore[method-assign]
        self._restore = (session_class, original_init)
        boto3 = sys.modules.get("boto3")
        if boto3 is not None and getattr(boto3, "DEFAULT_SESSION", None) is not None:
            self._watch(boto3.DEFAULT_SESSION._session)
        return self

    def _watch(self, session: Any) -> None:
        session.register("before-call", self._before_call)
        with self._lock:
            self._sessions.append(weakref.ref(session))

    def __exit__(self, *exc: object) -> None:
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
