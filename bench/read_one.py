"""Child process: read one symbol's last index value, the probe's way or the naive way.

Prints {"wall": s, "peak_mb": MB, "delta_mb": MB}: delta is the peak RSS the read added on top of
what the interpreter, arcticdb and pandas already held after opening the library. With
BENCH_COUNTS_URL set (the counting proxy of slow_endpoint.py), also the S3 requests and response
bytes of the read alone: the proxy's counts just before and just after it.
"""

import json
import os
import resource
import sys
import time
import urllib.request


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def counts() -> dict:
    url = os.environ.get("BENCH_COUNTS_URL")
    return json.loads(urllib.request.urlopen(url, timeout=10).read()) if url else {"requests": 0, "bytes": 0}


def main() -> None:
    mode, uri, symbol = sys.argv[1:4]
    from arcticdb import Arctic

    from preflight.checks.arctic import last_index_values

    lib = Arctic(uri).get_library("bench")
    base = peak_mb()
    before = counts()
    started = time.perf_counter()
    # "naive" is the way the design forbids: the whole symbol comes into memory for one row.
    last = last_index_values(lib, [symbol])[symbol] if mode == "probe" else lib.read(symbol).data.tail(1).index[-1]
    wall = time.perf_counter() - started
    after = counts()
    print(json.dumps({"wall": wall, "peak_mb": peak_mb(), "delta_mb": peak_mb() - base, "last": str(last),
                      "requests": after["requests"] - before["requests"], "bytes": after["bytes"] - before["bytes"]}))


main()
