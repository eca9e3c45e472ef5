"""The test harness's AWS: one moto server in its own process, on 127.0.0.1.

A separate process because ArcticDB's S3 client holds the GIL while it waits on the network: a
moto server thread inside the test process could never answer it. The process prints
`READY <port>` once the server listens and exits when its stdin closes (the test session ended).
"""

from __future__ import annotations

import sys

from moto.server import ThreadedMotoServer


def main() -> int:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    server.start()
    _host, port = server.get_host_and_port()
    print(f"READY {port}", flush=True)
    sys.stdin.read()  # blocks until the parent closes the pipe
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
