"""ArcticDB: the library opens without creating anything, its symbols exist, and their data is fresh.

Freshness reads only index metadata (`get_description_batch(...).date_range`), one batched call for
the whole universe; `tail(sym, 1)` is the fallback for a symbol whose description has no date range.
Never `read(sym).data.tail(1)`: that loads the whole symbol.

Read through whose arcticdb? When the project venv has arcticdb of its own (training reads the data
with it), both checks run in one guarded child on the project's Python (arctic_child), so a version
that cannot read the store fails here as it would in training. Otherwise — or when the probe and the
project share one venv — with the probe's own arcticdb, in this process. This module is imported by
that child: standard library at the top, arcticdb and pandas only inside functions.
"""

from __future__ import annotations

import random
import re
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from preflight.durations import format_duration
from preflight.model import Context, Outcome, failed, passed, skipped, warned

_S3_URI = re.compile(r"^(s3s?)://([^:/?]+)(?::(\d+))?:([^?]+)(?:\?(.*))?$")
_SHOWN = 10


class StoreError(Exception):
    """A store that cannot be opened; the message is the readable cause."""


def redact_uri(uri: str) -> str:
    return re.sub(r"((?:access|secret|aws_session_token)=)[^&]*", r"\1***", uri)


def lmdb_path(uri: str, base_dir: str) -> Path:
    """The store directory of an lmdb:// URI; a relative path is relative to base_dir."""
    path = Path(uri[len("lmdb://"):].split("?")[0])
    return path if path.is_absolute() else Path(base_dir) / path


def resolve_lmdb(uri: str, base_dir: str) -> str:
    """`uri` with a relative lmdb:// path made absolute; other URIs unchanged."""
    if not uri.startswith("lmdb://"):
        return uri
    return "lmdb://" + str(lmdb_path(uri, base_dir)) + (uri[uri.index("?"):] if "?" in uri else "")


def _s3_endpoint(uri: str) -> tuple[str, int] | None:
    match = _S3_URI.match(uri)
    if not match:
        return None
    scheme, host, inline_port, _bucket, query = match.groups()
    port = parse_qs(query or "").get("port", [inline_port or ("443" if scheme == "s3s" else "80")])[0]
    return host, int(port)


def _reachable(host: str, port: int, timeout: float) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"endpoint {host}:{port} unreachable ({exc.strerror or exc})"


def open_library(ctx: Context, deadline_s: float) -> Any:
    """The configured Library, opened read-only in spirit: nothing is created on any path."""
    uri = ctx.config.text("ARCTICDB_URI")
    name = ctx.config.text("ARCTICDB_LIBRARY")
    if uri.startswith("lmdb://"):
        path = lmdb_path(uri, ctx.base_dir)
        if not path.is_dir():  # Arctic("lmdb://...") would create it; a missing store must stay missing
            raise StoreError(f"LMDB store {path} does not exist")
        # Arctic() also writes its config library into any directory it opens: only open a directory
        # that already holds one, so that a wrong path is reported and left as it was.
        if not (path / "_arctic_cfg" / "data.mdb").is_file():
            raise StoreError(f"{path} is not an ArcticDB LMDB store (no _arctic_cfg/data.mdb); "
                             "check ARCTICDB_URI")
        uri = resolve_lmdb(uri, ctx.base_dir)
    elif uri.startswith(("s3://", "s3s://")):
        endpoint = _s3_endpoint(uri)
        if endpoint and (problem := _reachable(*endpoint, timeout=max(0.5, deadline_s / 5))):
            raise StoreError(problem)
        _bound_s3_timeouts(deadline_s)
    from arcticdb import Arctic

    store = Arctic(uri)
    libraries = store.list_libraries()
    if name not in libraries:
        if not libraries:
            raise StoreError(f"no libraries at {redact_uri(uri)}: the bucket or store is missing or empty")
        raise StoreError(f"library {name!r} not found; the store has {', '.join(sorted(libraries)[:8])}")
    return store.get_library(name, create_if_missing=False)


def _bound_s3_timeouts(deadline_s: float) -> None:
    from arcticdb.config import set_config_int

    # ArcticDB's defaults (30 s connect, 200 s request) outlive any check deadline.
    set_config_int("S3Storage.ConnectTimeoutMs", int(max(500, deadline_s * 250)))
    set_config_int("S3Storage.RequestTimeoutMs", int(max(1000, deadline_s * 500)))


def _remedy(ctx: Context) -> str:
    return (f"check ARCTICDB_URI={redact_uri(ctx.config.text('ARCTICDB_URI'))} and "
            f"ARCTICDB_LIBRARY={ctx.config.text('ARCTICDB_LIBRARY')}; for the demo run: make demo-seed")


def _through_project(ctx: Context, deadline_s: float) -> dict[str, Any] | None:
    """Both verdicts read with the project venv's own arcticdb (one child, once per probe), or None when
    the probe's arcticdb is the one to use: the project has none, or the probe runs in its venv."""
    import sys

    from preflight.checks.project_venv import SnapshotError, snapshot

    if not ctx.environ.get("PREFLIGHT_PROJECT_PYTHON"):
        return None
    try:
        project = snapshot(ctx, deadline_s)
    except SnapshotError:
        return None  # runtime and pins report it; the probe's own arcticdb still reads the store
    version = project.version_of("arcticdb")
    if version is None or Path(project.prefix).resolve() == Path(sys.prefix).resolve():
        return None
    return ctx.library.get(lambda: _project_verdicts(ctx, deadline_s, version))


def _project_verdicts(ctx: Context, deadline_s: float, version: str) -> dict[str, Any]:
    from preflight.child import run_guarded

    config = {key: value for key, value in ctx.config.values.items() if key.startswith("ARCTICDB_")}
    child = run_guarded("preflight.checks.arctic_child", {"config": config, "base_dir": ctx.base_dir,
                                                          "deadline_s": deadline_s}, deadline_s, ctx.environ,
                        ctx.guard_log)
    if isinstance(child.value, dict):
        return {**child.value, "arcticdb": version}
    why = (f"did not finish within {child.limit_s:.1f}s (killed)" if child.timed_out
           else f"exited {child.returncode} without a verdict")
    lost = {"status": "fail", "message": f"reading the store with the project's arcticdb {version} {why}",
            "remediation": _remedy(ctx), "details": {}}
    return {"library": lost, "freshness": lost, "arcticdb": version}


def _as_outcome(verdicts: dict[str, Any], which: str) -> Outcome:
    verdict = verdicts[which]
    suffix = f" · read with the project's arcticdb {verdicts['arcticdb']}"
    return Outcome(verdict["status"], verdict["message"] + suffix, verdict["remediation"],
                   {**verdict["details"], "arcticdb": f"{verdicts['arcticdb']} (project venv)"})


def check_library(ctx: Context, deadline_s: float) -> Outcome:
    if not ctx.config.text("ARCTICDB_URI"):
        return skipped("not configured: set ARCTICDB_URI (and ARCTICDB_LIBRARY) to check the store")
    verdicts = _through_project(ctx, deadline_s)
    return library_outcome(ctx, deadline_s) if verdicts is None else _as_outcome(verdicts, "library")


def library_outcome(ctx: Context, deadline_s: float) -> Outcome:
    """The library check with the arcticdb this process imports."""
    try:
        lib = ctx.library.get(lambda: open_library(ctx, deadline_s))
    except StoreError as exc:
        return failed(str(exc), _remedy(ctx))
    symbols = set(lib.list_symbols())
    missing = sorted(set(ctx.config.list("ARCTICDB_REQUIRED_SYMBOLS")) - symbols)
    minimum = ctx.config.int("ARCTICDB_MIN_SYMBOLS")
    if not symbols:
        return failed(f"library {lib.name} is empty", "write the universe before training: " + _remedy(ctx))
    if missing:
        return failed(f"required symbols missing: {', '.join(missing[:_SHOWN])}",
                      "write the missing symbols or drop them from ARCTICDB_REQUIRED_SYMBOLS", missing=missing)
    if len(symbols) < minimum:
        return failed(f"{len(symbols)} symbols, fewer than ARCTICDB_MIN_SYMBOLS={minimum}", _remedy(ctx))
    return passed(f"library {lib.name}: {len(symbols)} symbols", symbols=len(symbols))


def _universe(ctx: Context, lib: Any) -> list[str]:
    spec = ctx.config.text("ARCTICDB_FRESHNESS_SYMBOLS").strip()
    if spec in ("", "none"):
        return []
    if spec == "all":
        return sorted(lib.list_symbols())
    if spec.startswith("sample:"):
        every = sorted(lib.list_symbols())
        return sorted(random.sample(every, min(len(every), int(spec[7:]))))
    return [s.strip() for s in spec.split(",") if s.strip()]


def _as_utc(value: Any) -> datetime | None:
    import pandas as pd

    stamp = pd.Timestamp(value) if value is not None else pd.NaT
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def last_index_values(lib: Any, symbols: list[str]) -> dict[str, datetime | str]:
    """symbol -> last index timestamp (UTC), or a string saying why there is none."""
    out: dict[str, datetime | str] = {}
    descriptions = lib.get_description_batch(symbols)
    if len(descriptions) != len(symbols):  # zip(strict=True) would say so, but not on Python 3.9
        raise ValueError(f"get_description_batch answered {len(descriptions)} descriptions for {len(symbols)} symbols")
    for symbol, desc in zip(symbols, descriptions):
        date_range = getattr(desc, "date_range", None)
        if date_range is None:
            out[symbol] = "missing"
            continue
        end = _as_utc(date_range[1])
        if end is None:  # no datetime range in the description: look at the last row only
            frame = lib.tail(symbol, 1).data
            end = _as_utc(frame.index[-1]) if len(frame) and hasattr(frame.index, "tz") else None
        out[symbol] = end if end is not None else "no datetime index"
    return out


def check_freshness(ctx: Context, deadline_s: float) -> Outcome:
    if not ctx.config.text("ARCTICDB_URI"):
        return skipped("not configured: set ARCTICDB_URI (and ARCTICDB_LIBRARY) to check the store")
    verdicts = _through_project(ctx, deadline_s)
    return freshness_outcome(ctx, deadline_s) if verdicts is None else _as_outcome(verdicts, "freshness")


def freshness_outcome(ctx: Context, deadline_s: float) -> Outcome:
    """The freshness check with the arcticdb this process imports."""
    try:
        lib = ctx.library.get(lambda: open_library(ctx, deadline_s))
    except StoreError as exc:
        return failed(str(exc), _remedy(ctx))
    symbols = _universe(ctx, lib)
    if not symbols:
        return skipped("ARCTICDB_FRESHNESS_SYMBOLS selects no symbols")
    max_age = ctx.config.seconds("ARCTICDB_MAX_STALENESS")
    now = datetime.now(timezone.utc)
    stale: dict[str, str] = {}
    unusable: dict[str, str] = {}
    for symbol, last in last_index_values(lib, symbols).items():
        if isinstance(last, str):
            unusable[symbol] = last
        elif (age := (now - last).total_seconds()) > max_age:
            stale[symbol] = f"last row {last:%Y-%m-%d %H:%M}Z, {format_duration(age)} old"
    limit = ctx.config.text("ARCTICDB_MAX_STALENESS")
    if stale or "missing" in unusable.values():
        parts = [f"{s}: {why}" for s, why in list(stale.items())[:_SHOWN]]
        parts += [f"{s}: missing" for s, why in unusable.items() if why == "missing"][:_SHOWN]
        return failed(f"{len(stale)} stale (max {limit}), {list(unusable.values()).count('missing')} missing "
                      f"of {len(symbols)}: " + "; ".join(parts),
                      "rerun the data ingestion for " + ", ".join((list(stale) + [s for s, why in unusable.items()
                                                                   if why == "missing"])[:_SHOWN])
                      + " before training",
                      stale=dict(list(stale.items())[:50]), unusable=dict(list(unusable.items())[:50]))
    if unusable:
        return warned(f"{len(unusable)} symbols have no datetime index; freshness not checked for them",
                      details_symbols=list(unusable)[:_SHOWN])
    return passed(f"{len(symbols)} symbols fresh (max {limit})", checked=len(symbols))
