"""Rows 1, 2 and 4: ArcticDB freshness reads and the fail-fast of an unreachable store."""

from __future__ import annotations

import os
from pathlib import Path

from measure import Row, fresh, fresh_median, median_time


def freshness_one_symbol(uri: str, storage: str, sizes: list[int], repeat: int, judge: bool) -> list[Row]:
    """On LMDB with a warm page cache a full read of 5M rows is ~0.1 s, so speed there is noise around
    30x and memory is the goal; on S3 the naive read moves every byte, and speed is the goal."""
    rows, probe_walls = [], {}
    for size in sizes:
        fresh("write_data.py", uri, "rows", str(size))
        keys = ("wall", "peak_mb", "delta_mb")
        ours = fresh_median("read_one.py", "probe", uri, f"rows_{size}", repeat=repeat, keys=keys)
        naive = fresh_median("read_one.py", "naive", uri, f"rows_{size}", repeat=repeat, keys=keys)
        probe_walls[size] = ours["wall"]
        speed = naive["wall"] / ours["wall"]
        memory = max(naive["delta_mb"], 0.1) / max(ours["delta_mb"], 0.1)
        largest = size == max(sizes)
        goal, met = ("≥30x faster at 5M rows", speed >= 30) if storage == "S3" else \
            ("≥50x less memory at 5M rows", memory >= 50)
        rows.append(Row(
            f"1. freshness read, one symbol, {size:,} rows, {storage}",
            f"{ours['wall'] * 1000:.1f} ms, +{ours['delta_mb']:.1f} MB (peak {ours['peak_mb']:.0f} MB)",
            f"{naive['wall'] * 1000:.1f} ms, +{naive['delta_mb']:.1f} MB (peak {naive['peak_mb']:.0f} MB)",
            f"{speed:.1f}x faster, {memory:.1f}x less memory",
            goal if largest else "(context)", met if (largest and judge) else None,
            "memory is the peak RSS the read adds after imports and open; fresh process per run"))
    growth = probe_walls[max(sizes)] / probe_walls[min(sizes)]
    rows.append(Row(f"1. probe read growth {min(sizes):,} → {max(sizes):,} rows, {storage}",
                    f"{growth:.2f}x", "—", f"{growth:.2f}x", "≤2x", growth <= 2 if judge else None))
    return rows


def moto_s3_uri(bucket: str) -> tuple[object, str]:
    """A moto S3 server on 127.0.0.1 with an empty bucket, and the ArcticDB URI of that bucket."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench").create_bucket(Bucket=bucket)
    return server, f"s3://{host}:{bucket}?port={port}&access=bench&secret=bench"


def freshness_universe(store: Path, symbols: int, repeat: int, judge: bool) -> Row:
    from preflight.checks.arctic import check_freshness, open_library
    from preflight.config import load
    from preflight.model import Context

    uri = f"lmdb://{store}"
    fresh("write_data.py", uri, "symbols", str(symbols))
    ctx = Context(load(None, {}, {"ARCTICDB_URI": uri, "ARCTICDB_LIBRARY": "bench", "ARCTICDB_MAX_STALENESS": "30d",
                                  "ARCTICDB_FRESHNESS_SYMBOLS": "all"}), {}, ".")
    outcome = check_freshness(ctx, 60)
    assert outcome.status == "pass", outcome.message
    lib = open_library(ctx, 60)
    names = sorted(lib.list_symbols())
    ours = median_time(lambda: check_freshness(ctx, 60), repeat)
    loop = median_time(lambda: [lib.tail(name, 1) for name in names], repeat)
    speed = loop / ours
    return Row(f"2. universe freshness, {symbols:,} symbols", f"{ours:.3f} s (whole check)",
               f"{loop:.3f} s (tail per symbol)", f"{speed:.1f}x faster", "≥3x faster and ≤0.6 s",
               (speed >= 3 and ours <= 0.6) if judge else None, "probe side includes open + list_symbols")


def fail_fast(judge: bool) -> Row:
    ours = fresh("closed_port.py", "probe")
    if not judge:
        return Row("4. fail-fast, S3 store on a closed port", f"{ours['wall']:.2f} s", "skipped in smoke", "—",
                   "inside the check deadline (10 s)", None, ours["outcome"][:80])
    default = fresh("closed_port.py", "default", timeout=180)
    return Row("4. fail-fast, S3 store on a closed port", f"{ours['wall']:.2f} s",
               f"{default['wall']:.2f} s (ArcticDB defaults)", f"{default['wall'] / ours['wall']:.0f}x sooner",
               "inside the check deadline (≤10 s)", ours["wall"] <= 10, ours["outcome"][:80])


def scratch(root: Path, name: str) -> Path:
    path = root / name
    os.makedirs(path, exist_ok=True)
    return path
