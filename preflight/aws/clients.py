"""Clients with short, explicit timeouts; AWS_ENDPOINT_URL (tests: moto) is honoured by boto3 itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

# The tool names itself in every request's User-Agent ("app/spot-preflight.launcher"), which CloudTrail
# records as userAgent: an account can tell the tool's calls apart, and the tests record them by it.
LAUNCHER, PROBE = "spot-preflight.launcher", "spot-preflight.probe"
# The local transport's own reads (SECRETS) with the user's credentials: no stack policy governs them.
LOCAL = "spot-preflight.local"


def named(config: Any, component: str) -> Any:
    """`config` (a botocore Config, or None) that names the component in the User-Agent."""
    from botocore.config import Config

    try:
        extra = Config(user_agent_appid=component)
    except TypeError:  # botocore before 1.31 (an old host venv) has no app id; the extra part is the same text
        extra = Config(user_agent_extra=f"app/{component}")
    return extra if config is None else config.merge(extra)


def client(service: str, region: str, component: str = LAUNCHER) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 4, "mode": "standard"})
    return boto3.session.Session(region_name=region).client(service, config=named(config, component))


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", type(exc).__name__))


def backoff(deadline: float, start: float = 1.0, cap: float = 5.0) -> Iterator[float]:
    """Yields the seconds left before each poll, sleeping with backoff in between; stops at deadline."""
    delay = start
    while (left := deadline - time.monotonic()) > 0:
        yield left
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(cap, delay * 1.6)


class SharedSession:
    """One boto3 session per probe, created on first use.

    A new session reloads botocore's service models (~0.15 s of CPU per client); checks running
    concurrently would spend that in parallel under the GIL. Sessions are not thread-safe, so client
    creation is serialized; the clients themselves are safe to use from any thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str, region: str, config: Any = None) -> Any:
        with self._lock:
            if self._session is None:
                import boto3

                self._session = boto3.session.Session()
            return self._session.client(service, region_name=region, config=named(config, PROBE))
