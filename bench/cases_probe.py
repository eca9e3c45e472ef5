"""Rows 3 and 6: the runner's concurrency, and the probe's start-up cost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import slow_endpoint
from measure import ROOT, Row, Sample, ms, sec, spreads


def concurrency(delay_s: float, judge: bool) -> Row:
    from preflight.checks.aws_env import check_s3
    from preflight.config import load
    from preflight.model import Check, Context
    from preflight.runner import run_checks

    server, endpoint = slow_endpoint.start(delay_s)
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_EC2_METADATA_DISABLED="true")
    try:
        checks = []
        shared = Context(load(None, {}), {}, ".").aws  # one AWS session per probe, as in cli.cmd_probe
        for number in range(5):
            ctx = Context(load(None, {}, {"PREFLIGHT_S3_BUCKETS": f"bucket-{number}"}), {}, ".", shared)
            checks.append(Check(f"s3-{number}", "aws", 20, partial(check_s3, ctx, 20)))
        for check in checks:  # warm boto3's loaders so both sides measure the network wait
            check.run()
        started = time.perf_counter()
        results = run_checks(checks, 30)
        concurrent = time.perf_counter() - started
        alone = []
        for check in checks:  # each check on its own: the honest "slowest check"
            started = time.perf_counter()
            check.run()
            alone.append(time.perf_counter() - started)
        sequential = sum(alone)
    finally:
        server.shutdown()
    assert all(r.status == "pass" for r in results), [r.message for r in results]
    slowest = max(alone)
    ratio = concurrent / slowest
    return Row(f"3. concurrency, 5 checks each waiting {delay_s:.2f} s",
               f"{concurrent:.3f} s (slowest alone {slowest:.3f} s)",
               f"{sequential:.3f} s (one after another)", f"{ratio:.2f}x the slowest check",
               "probe wall ≤1.3x its slowest check", ratio <= 1.3 if judge else None,
               f"{sequential / concurrent:.1f}x faster than sequential",
               "one run of the five at once, each check once alone (the delay is fixed: "
               + spreads(alone=sec(Sample.of(alone), 3)) + ")")


HEAVY = ("arcticdb", "boto3", "botocore", "pandas")
PROBE_MODULES = ("import sys, preflight.cli as c\ntry:\n    c.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
                 f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
ALL_OFF = ("PREFLIGHT_LINT=off\nPREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\n"
           "PREFLIGHT_REQUIRED_ENV=\nARCTICDB_URI=\nARCTICDB_REQUIRED_SYMBOLS=\n")


def _wall(argv: list[str], repeat: int, cwd: Path) -> tuple[Sample, str]:
    walls, err = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
        walls.append(time.perf_counter() - started)
        err = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""
    return Sample.of(walls), err


def startup(workdir: Path, repeat: int, judge: bool) -> list[Row]:
    (workdir / "all-off.env").write_text(ALL_OFF)
    heavy_wall, _ = _wall([sys.executable, "-c", "import arcticdb, boto3, pandas"], repeat, workdir)
    rows = []
    for label, args in (("probe --help", ["probe", "--help"]),
                        ("probe, every check off", ["probe", "--config", "all-off.env", "--json"])):
        wall, imported = _wall([sys.executable, "-c", PROBE_MODULES, *args], repeat, workdir)
        rows.append(Row(f"6. start-up: {label}", f"{wall.median * 1000:.0f} ms, heavy imports {imported}",
                        f"{heavy_wall.median * 1000:.0f} ms (import arcticdb, boto3, pandas)",
                        f"{heavy_wall.median / wall.median:.1f}x cheaper", "no heavy import unless a check needs it",
                        imported == "[]" if judge else None, spread=spreads(probe=ms(wall), heavy=ms(heavy_wall))))
    return rows
