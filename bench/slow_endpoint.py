"""A stand-in S3 endpoint on 127.0.0.1 that answers every request after a fixed delay."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def start(delay_s: float) -> tuple[ThreadingHTTPServer, str]:
    class Slow(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
            time.sleep(delay_s)
            self.send_response(200)
            self.send_header("x-amz-bucket-region", "us-east-1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
