"""`preflight demo-seed`: the embedded demo store — a small universe whose last rows are now."""

from __future__ import annotations

DEMO_SYMBOLS = ("ES", "NQ", "CL", "GC", "ZN", "6E", "BTC", "ETH")


def seed(uri: str, library: str, rows: int, stale: dict[str, float]) -> list[str]:
    """Write the demo universe (replacing earlier versions); `stale` maps symbol -> age in seconds."""
    import numpy as np
    import pandas as pd
    from arcticdb import Arctic

    from preflight.checks.arctic import lmdb_path

    if uri.startswith("lmdb://"):
        lmdb_path(uri, ".").mkdir(parents=True, exist_ok=True)
    lib = Arctic(uri).get_library(library, create_if_missing=True)
    now = pd.Timestamp.now(tz="UTC").floor("min").tz_localize(None)
    written = []
    for number, symbol in enumerate(DEMO_SYMBOLS + tuple(s for s in stale if s not in DEMO_SYMBOLS)):
        end = now - pd.Timedelta(seconds=stale.get(symbol, 0))
        index = pd.date_range(end=end, periods=rows, freq="h")
        prices = 100 + number + np.cumsum(np.random.default_rng(number).normal(0, 1, rows))
        lib.write(symbol, pd.DataFrame({"close": prices, "volume": np.arange(rows, dtype="float64")},
                                       index=index), prune_previous_versions=True)
        written.append(symbol)
    return written
