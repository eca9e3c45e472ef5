"""Poll one SSM command invocation to its end, printing new output as it arrives."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from preflight.aws.clients import backoff, error_code

TERMINAL = {"Success", "Failed", "Cancelled", "TimedOut", "Undeliverable", "Terminated", "DeliveryTimedOut",
            "ExecutionTimedOut", "InvalidPlatform", "AccessDenied"}
INVOCATION_GRACE_S = 15.0


@dataclass(frozen=True)
class Outcome:
    status: str
    details: str
    exit_code: int
    stdout: str
    stderr: str


def poll(ssm: Any, command_id: str, instance_id: str, deadline_s: float, out: TextIO = sys.stdout) -> Outcome:
    """Wait for the invocation to finish; raises TimeoutError past the dispatcher-side deadline."""
    started = time.monotonic()
    shown = 0
    for _ in backoff(started + deadline_s, start=1.0, cap=5.0):
        try:
            inv = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except Exception as exc:
            # Right after send_command the invocation may not exist yet; that is not an error.
            if error_code(exc) == "InvocationDoesNotExist" and time.monotonic() - started < INVOCATION_GRACE_S:
                continue
            raise
        text = inv.get("StandardOutputContent", "") or ""
        if len(text) > shown:
            out.write(text[shown:])
            out.flush()
            shown = len(text)
        if inv["Status"] in TERMINAL:
            return Outcome(inv["Status"], inv.get("StatusDetails", ""), int(inv.get("ResponseCode", -1)),
                           text, inv.get("StandardErrorContent", "") or "")
    raise TimeoutError(f"command {command_id} still running after {deadline_s:.0f}s (dispatcher deadline)")
