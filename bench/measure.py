"""Measurement helpers: medians, fresh-process runs, and the row every benchmark reports."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    name: str
    ours: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None  # None: not judged in this run (smoke sizes)
    notes: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fresh(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Run a bench child script in a new interpreter; it prints one JSON line last."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"{script} {args} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_median(script: str, *args: str, repeat: int, keys: tuple[str, ...]) -> dict[str, float]:
    runs = [fresh(script, *args) for _ in range(repeat)]
    return {key: statistics.median(run[key] for run in runs) for key in keys}
