"""Measurement helpers: repeated samples with their spread, fresh-process runs, and the row every benchmark
reports."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sample:
    """Repeated measurements of one figure: the median is quoted, min / max / n say how far to trust it."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> Sample:
        values = tuple(values)
        if not values:
            raise ValueError("a sample needs at least one value")
        return cls(values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    def spread(self, unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
        """`min / median / max unit, n=N`; a single run says so instead of inventing a spread."""
        low, mid, high = (f"{v * scale:.{digits}f}" for v in (self.min, self.median, self.max))
        return f"{mid} {unit}, n=1" if self.n == 1 else f"{low} / {mid} / {high} {unit}, n={self.n}"


def spreads(**sides: tuple[Sample, str, float, int] | None) -> str:
    """The spread column of a row: each named side's `min / median / max, n`. A side is
    (sample, unit, scale, digits); None leaves it out."""
    return "; ".join(f"{name}: {s.spread(unit, scale, digits)}" for name, side in sides.items() if side is not None
                     for s, unit, scale, digits in [side])


def ms(sample: Sample) -> tuple[Sample, str, float, int]:
    return sample, "ms", 1000.0, 1


def sec(sample: Sample, digits: int = 2) -> tuple[Sample, str, float, int]:
    return sample, "s", 1.0, digits


@dataclass
class Row:
    name: str
    ours: str
    baseline: str
    ratio: str
    goal: str
    met: bool | None  # None: not judged in this run (smoke sizes)
    notes: str = ""
    spread: str = ""  # timed rows: min / median / max and n of each side; count rows: "count" (no spread)
    kind: str = field(default="time")  # "time" or "count" (machine-independent)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def median_time(fn: Callable[[], object], repeat: int) -> Sample:
    """Time `fn` `repeat` times (at least once); the Sample quotes the median and keeps the spread."""
    times = []
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return Sample.of(times)


def fresh(script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Run a bench child script in a new interpreter; it prints one JSON line last."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True,
                         timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"{script} {args} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_median(script: str, *args: str, repeat: int, keys: tuple[str, ...],
                 env: dict[str, str] | None = None) -> dict[str, Sample]:
    """Each key's Sample over `repeat` fresh runs of a child script."""
    runs = [fresh(script, *args, env=env) for _ in range(max(repeat, 1))]
    return {key: Sample.of(run[key] for run in runs) for key in keys}
