"""Independent calls at once, each answer (or its exception) with its duration, none waited on past a
deadline: the launch plan's AWS calls and campaign mode's backend checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any


def timed(function: Callable[[], Any]) -> Callable[[], tuple[Any, float]]:
    def run() -> tuple[Any, float]:
        started = time.monotonic()
        try:
            return function(), time.monotonic() - started
        except Exception as exc:  # noqa: BLE001 - each answer, error or not, is the caller's to judge
            return exc, time.monotonic() - started
    return run


def concurrently(work: dict[str, Callable[[], Any]], deadline_s: float) -> dict[str, tuple[Any, float]]:
    """name -> (answer or exception, seconds), in the order given; a call still running at the deadline
    answers TimeoutError (its thread is left behind, never joined)."""
    pool = ThreadPoolExecutor(max_workers=max(1, len(work)), thread_name_prefix="parallel")
    futures = {name: pool.submit(timed(call)) for name, call in work.items()}
    started, out = time.monotonic(), {}
    for name, future in futures.items():
        try:
            out[name] = future.result(timeout=max(0.0, deadline_s - (time.monotonic() - started)))
        except FutureTimeout:
            out[name] = (TimeoutError(f"no answer within {deadline_s:.0f}s"), deadline_s)
    pool.shutdown(wait=False)
    return out
