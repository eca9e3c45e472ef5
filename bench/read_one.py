"""Child process: read one symbol's last index value, the probe's way or the naive way.

Prints {"wall": s, "peak_mb": MB, "delta_mb": MB}: delta is the peak RSS the read added on top of
what the interpreter, arcticdb and pandas already held after opening the library.
"""

import json
import resource
import sys
import time


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    mode, uri, symbol = sys.argv[1:4]
    from arcticdb import Arctic

    from preflight.checks.arctic import last_index_values

    lib = Arctic(uri).get_library("bench")
    base = peak_mb()
    started = time.perf_counter()
    # "naive" is the way the design forbids: the whole symbol comes into memory for one row.
    last = last_index_values(lib, [symbol])[symbol] if mode == "probe" else lib.read(symbol).data.tail(1).index[-1]
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "peak_mb": peak_mb(), "delta_mb": peak_mb() - base, "last": str(last)}))


main()
