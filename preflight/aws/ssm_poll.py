"""Poll one SSM command invocation to its end.

Real SSM fills StandardOutputContent only when the command finishes, so while a step runs this
prints a progress line (status, elapsed) on each status change and every PROGRESS_EVERY_S; with
SSM_CLOUDWATCH_LOG_GROUP set, the step's lines are tailed from CloudWatch Logs as they arrive.
Each poll also asks EC2 whether the instance still exists: when a spot instance is reclaimed, its
invocation stays InProgress until the command expires, and nobody would tell us otherwise.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from preflight.aws.clients import backoff, error_code
from preflight.aws.ssm_online import ENDED_STATES, describe_state

TERMINAL = {"Success", "Failed", "Cancelled", "TimedOut", "Undeliverable", "Terminated", "DeliveryTimedOut",
            "ExecutionTimedOut", "InvalidPlatform", "AccessDenied"}
INVOCATION_GRACE_S = 15.0
PROGRESS_EVERY_S = 30.0
INSTANCE_GONE = "InstanceGone"
PLUGIN = "aws-runShellScript"


@dataclass(frozen=True)
class Outcome:
    status: str
    details: str
    exit_code: int
    stdout: str
    stderr: str
    reason: str = ""  # StateReason.Code of an instance that ended under the command


class CloudWatchTail:
    """The invocation's stdout stream in CloudWatch Logs, read forward from where it was left.

    A GetLogEvents page "might only be partially full, or even empty"; only a nextForwardToken equal to
    the token passed in means the end for now (botocore data/logs/2014-03-28/service-2.json), so each
    pump drains pages until the token stops changing (at most MAX_PAGES: a stream written faster than it
    is read never ends). Any error but a stream that does not exist yet (AccessDenied, throttling, a
    network error) stops the tail for good, with one warning: the step's output then comes from SSM.
    """

    MAX_PAGES = 50

    def __init__(self, logs: Any, group: str, command_id: str, instance_id: str) -> None:
        self.logs, self.group = logs, group
        self.stream = f"{command_id}/{instance_id}/{PLUGIN}/stdout"
        self.token: str | None = None
        self.lines = 0
        self.failed = ""

    def pump(self, out: TextIO) -> None:
        for _ in range(self.MAX_PAGES):
            if self.failed:
                return
            kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream,
                                      "startFromHead": True}
            if self.token:
                kwargs["nextToken"] = self.token
            try:
                reply = self.logs.get_log_events(**kwargs)
            except Exception as exc:
                if error_code(exc) == "ResourceNotFoundException":  # the stream appears with its first line
                    return
                self.failed = f"{error_code(exc)}: {exc}"
                print(f"ssm: live output from CloudWatch Logs stopped ({self.failed}); the step's output "
                      "comes from SSM when it ends", file=sys.stderr, flush=True)
                return
            for event in reply.get("events", []):
                out.write(event["message"] + "\n")
                self.lines += 1
            out.flush()
            token = reply.get("nextForwardToken")
            if not token or token == self.token:
                return
            self.token = token

    @property
    def complete(self) -> bool:
        """Whether the tail is the step's whole output: it ran without error and saw at least one line."""
        return not self.failed and self.lines > 0


def output_tail(text: str, lines: int = 40) -> str:
    """The last lines of a step's SSM output, without a readiness frame (the CloudWatch copy holds it whole)."""
    from preflight.artifact import without_frame

    return "\n".join(without_frame(text.splitlines())[-lines:])


def _get(ssm: Any, command_id: str, instance_id: str, started: float) -> dict[str, Any] | None:
    try:
        return ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    except Exception as exc:
        # Right after send_command the invocation may not exist yet; that is not an error.
        if error_code(exc) == "InvocationDoesNotExist" and time.monotonic() - started < INVOCATION_GRACE_S:
            return None
        raise


def poll(ssm: Any, ec2: Any | None, command_id: str, instance_id: str, deadline_s: float, *, step: str,
         out: TextIO = sys.stdout, tail: CloudWatchTail | None = None) -> Outcome:
    """Wait for the invocation to finish; raises TimeoutError past the dispatcher-side deadline."""
    started = time.monotonic()
    said = ("", 0.0)
    # Most steps of a preflight end within seconds: a 2 s cap keeps the wait after a step's end short
    # (a 5 s cap added ~2.5 s to each of a run's half-dozen commands) at ~30 calls a minute.
    for _ in backoff(started + deadline_s, start=0.5, cap=2.0):
        inv = _get(ssm, command_id, instance_id, started)
        status = inv["Status"] if inv else "Pending"
        if tail is not None:
            tail.pump(out)
        if inv and status in TERMINAL:
            text = inv.get("StandardOutputContent", "") or ""
            if tail is not None:
                tail.pump(out)  # what arrived since the last poll
            if tail is None or not tail.complete:
                out.write(text)
            elif status != "Success" and text:  # CloudWatch lags: the lines that say why may not be there yet
                out.write("--- the step's last output lines, from SSM ---\n" + output_tail(text) + "\n")
            out.flush()
            return Outcome(status, inv.get("StatusDetails", ""), int(inv.get("ResponseCode", -1)), text,
                           inv.get("StandardErrorContent", "") or "")
        if ec2 is not None and (ended := describe_state(ec2, instance_id))[0] in ENDED_STATES:
            return Outcome(INSTANCE_GONE, ended[0], -1, "", "", ended[1])
        elapsed = time.monotonic() - started
        if status != said[0] or elapsed - said[1] >= PROGRESS_EVERY_S:
            print(f"ssm: {step} {status} ({elapsed:.0f}s)", file=sys.stderr, flush=True)
            said = (status, elapsed)
    raise TimeoutError(f"command {command_id} still running after {deadline_s:.0f}s (dispatcher deadline)")
