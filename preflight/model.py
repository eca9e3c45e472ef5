"""What a check is and what it returns."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Context:
    """What every check may read: the resolved config, the environment, the base directory, and the
    probe's one AWS session."""

    config: Any  # preflight.config.Config; Any keeps this module free of imports
    environ: dict[str, str]
    base_dir: str
    aws: Any = field(default_factory=lambda: _shared_session())
    guard_log: str = ""  # where guarded child processes record what they refused


def _shared_session() -> Any:
    from preflight.aws.clients import SharedSession

    return SharedSession()
