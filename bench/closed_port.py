"""Child process: how long until an ArcticDB S3 store on a closed local port fails.

`probe` runs the probe's check (its own deadline, bounded timeouts); `default` calls ArcticDB with
its defaults, the way a script without preflight would.
"""

import json
import socket
import sys
import time


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    mode = sys.argv[1]
    uri = f"s3://127.0.0.1:bench?port={closed_port()}&access=a&secret=b"
    started = time.perf_counter()
    if mode == "probe":
        from preflight.checks.arctic import check_library
        from preflight.config import load
        from preflight.model import Context

        ctx = Context(load(None, {}, {"ARCTICDB_URI": uri}), {}, ".")
        outcome = check_library(ctx, 10.0).message
    else:
        from arcticdb import Arctic

        try:
            Arctic(uri).list_libraries()
            outcome = "no error"
        except Exception as exc:  # the error is the point; its type varies by version
            outcome = type(exc).__name__
    print(json.dumps({"wall": time.perf_counter() - started, "outcome": outcome}))


main()
