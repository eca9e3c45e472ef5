"""Refuse every AWS call that is not a read while the probe runs, before it leaves the process.

Uses botocore's own event system: each botocore Session created while the guard is active (and the
boto3 default session, if one exists) gets a `before-call` handler that raises for any operation
whose name does not start with a read verb. Clients created by a check, by the training package at
import time or by a library all go through a Session, so none of them can write.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

READ_PREFIXES = ("Get", "Head", "List", "Describe")


class WriteRefused(PermissionError):
    """Raised inside botocore instead of sending a non-read request."""


class ReadOnlyGuard:
    def __init__(self) -> None:
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._restore: Any = None

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
            session.register("before-call", guard._before_call)

        session_class.__init__ = guarded_init  # type: ignore[method-assign]
        self._restore = (session_class, original_init)
        boto3 = sys.modules.get("boto3")
        if boto3 is not None and getattr(boto3, "DEFAULT_SESSION", None) is not None:
            boto3.DEFAULT_SESSION._session.register("before-call", self._before_call)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._restore is not None:
            session_class, original_init = self._restore
            session_class.__init__ = original_init
            self._restore = None
