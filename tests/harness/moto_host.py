"""The test harness's AWS: one moto server in its own process, on 127.0.0.1, with the SSM agent emulator.

A separate process because ArcticDB's S3 client holds the GIL while it waits on the network: a
moto server thread inside the test process could never answer it. Prints `READY <port>` once the
server listens. Then each stdin line is a JSON object of emulator settings (answered `OK`), or `{"dump_calls": true}`
(answered with the recorded calls of tests/harness/calls.py on one line); the
process exits when its stdin closes (the test session ended), killing any script still running.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from tests.harness import calls
from tests.harness.ec2_host import end
from tests.harness.ssm_agent import Emulator, install


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="ssm-hosts-"))
    emulator = Emulator(root)
    install(emulator)
    calls.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    _host, port = server.get_host_and_port()
    # Step Functions really executes definitions here, and its aws-sdk tasks call back into this server.
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    os.environ["MOTO_PORT"] = str(port)
    print(f"READY {port}", flush=True)
    for line in sys.stdin:
        if line.strip():
            settings = json.loads(line)
            if settings.pop("dump_calls", False):  # the tool's AWS calls so far, one JSON line
                print(calls.dump(), flush=True)
                continue
            if ended := settings.pop("end_instance", None):  # {"id": ..., "code": "Server.SpotInstanceTermination"}
                end(ended["id"], ended["code"])
            if settings.pop("reset", False):
                emulator.reset()
            emulator.configure(**settings)
            print("OK", flush=True)
    emulator.stop_all()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
