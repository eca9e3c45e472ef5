"""What a check is and what it returns."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

STATUSES = ("pass", "fail", "warn", "skip", "bootstrapped")


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner adds id, category and timing."""

    status: str
    message: str
    remediation: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One precondition: an id for people and ignore lists, a category, a deadline, a function."""

    id: str
    category: str
    deadline_s: float
    run: Callable[[], Outcome]
    advisory: bool = False  # never a failure: what would fail it (a raise, its deadline) is a warning


@dataclass
class CheckResult:
    id: str
    category: str
    status: str
    message: str
    remediation: str
    duration_s: float
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(message: str, **details: Any) -> Outcome:
    return Outcome("pass", message, details=details)


def failed(message: str, remediation: str, **details: Any) -> Outcome:
    return Outcome("fail", message, remediation, details)


def warned(message: str, remediation: str = "", **details: Any) -> Outcome:
    return Outcome("warn", message, remediation, details)


def skipped(message: str) -> Outcome:
    return Outcome("skip", message)


class Once:
    """The result, or the error, of one call made on behalf of every check of a probe that asks for it:
    e.g. the ArcticDB library, which the library and freshness checks must not open twice (LMDB
    refuses a second open of one path in a process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def get(self, make: Callable[[], Any]) -> Any:
        with self._lock:
            if not self._done:
                try:
                    self._value = make()
                except Exception as exc:  # every asker gets the same failure, not a second attempt
                    self._error = exc
                self._done = True
        if self._error is not None:
            raise self._error
        return self._value


@dataclass(frozen=True)
class Context:
    """What every check may read: the resolved config, the environment, the base directory, and the
    probe's one AWS session."""

    config: Any  # preflight.config.Config; Any keeps this module free of imports
    environ: dict[str, str]
    base_dir: str
    aws: Any = field(default_factory=lambda: _shared_session())
    guard_log: str = ""  # where guarded child processes record what they refused
    library: Once = field(default_factory=Once)  # the ArcticDB library, opened once per probe
    closure: Once = field(default_factory=Once)  # the entry's static import closure, read once per probe
    project_venv: Once = field(default_factory=Once)  # what the project venv holds, read once per probe


def _shared_session() -> Any:
    from preflight.aws.clients import SharedSession

    return SharedSession()
