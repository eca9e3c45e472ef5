"""Stand-in S3 endpoints on 127.0.0.1 (stdlib only).

`start`: answers every HEAD after a fixed delay (the concurrency row).
`proxy`: a reverse proxy in front of a real (moto) S3 server that holds each response back by a fixed
first-byte latency, the way real S3 answers, and counts the requests and response bytes that pass.
Counting on the wire is the reliable place: ArcticDB talks to S3 through the AWS C++ SDK inside its
native library, so no boto3/botocore hook sees its requests, and the counts include whatever the
client sends (HEAD, GET, LIST). `GET /__bench_counts__` on the proxy answers the counts as JSON
without forwarding or delay, so a child can read them just before and after the call it measures.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS_PATH = "/__bench_counts__"
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


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


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.bytes_out = 0  # response bodies, upstream to client

    def add(self, method: str, body: int) -> None:
        with self.lock:
            self.requests[method] = self.requests.get(method, 0) + 1
            self.bytes_out += body

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return {"requests": sum(self.requests.values()), "by_method": dict(self.requests),
                    "bytes": self.bytes_out}


def proxy(upstream_host: str, upstream_port: int, delay_s: float) -> tuple[ThreadingHTTPServer, int, Counts]:
    """(server, its port, its counts): every request forwarded to upstream, its answer held `delay_s` more."""
    counts = Counts()

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK expects of S3

        def _forward(self) -> None:
            if self.path == COUNTS_PATH:
                self._answer(200, [("Content-Type", "application/json")], json.dumps(counts.snapshot()).encode())
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            conn = http.client.HTTPConnection(upstream_host, upstream_port, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                # HEAD keeps the object's Content-Length (its size); every other answer gets its body's.
                keep = self.command == "HEAD"
                status, reply = answer.status, [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP
                                                and (keep or k.lower() != "content-length")]
            finally:
                conn.close()
            time.sleep(delay_s)  # added to what moto takes: real S3's first-byte latency, which loopback lacks
            counts.add(self.command, len(data))
            self._answer(status, reply, data)

        def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward  # noqa: N815 (http.server's naming)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1], counts
