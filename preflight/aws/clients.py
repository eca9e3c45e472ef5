"""Clients with short, explicit timeouts; AWS_ENDPOINT_URL (tests: moto) is honoured by boto3 itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any


def client(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 4, "mode": "standard"})
    return boto3.session.Session(region_name=region).client(service, config=config)


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
