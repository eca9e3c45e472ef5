"""Run one step on the instance with SSM Run Command and turn its outcome into an exit code.

Exit codes (the same meaning as the local transport's): the script's own code on Success/Failed,
124 when it timed out (execution, delivery or our own deadline), 125 for any other terminal status.
"""

from __future__ import annotations

import sys
from typing import Any

from preflight.aws.ssm_poll import Outcome, poll

TIMEOUT, OTHER = 124, 125
_TIMEOUT_STATUSES = {"TimedOut", "DeliveryTimedOut", "ExecutionTimedOut"}
DIAGNOSE = ("(dmesg -T 2>/dev/null || dmesg) | grep -iE 'killed process|out of memory|oom' | tail -n 5; "
            "uptime; free -m 2>/dev/null | head -n 2; df -h / | tail -n 1")


def send(ssm: Any, instance_id: str, text: str, *, step: str, run_id: str, delivery_s: int, execution_s: int,
         output_bucket: str) -> str:
    request: dict[str, Any] = {
        "InstanceIds": [instance_id], "DocumentName": "AWS-RunShellScript",
        "Comment": f"spot-preflight {run_id} {step}"[:100], "TimeoutSeconds": delivery_s,
        "Parameters": {"commands": [text], "executionTimeout": [str(execution_s)]},
    }
    if output_bucket:  # the one write this tool can make, and only when asked for
        request["OutputS3BucketName"] = output_bucket
        request["OutputS3KeyPrefix"] = f"spot-preflight/{run_id}/{step}"
    return ssm.send_command(**request)["Command"]["CommandId"]


def exit_code(outcome: Outcome) -> int:
    if outcome.status == "Success":
        return 0
    if outcome.status == "Failed" and outcome.details not in _TIMEOUT_STATUSES:
        return outcome.exit_code if outcome.exit_code > 0 else 1
    if outcome.status in _TIMEOUT_STATUSES or outcome.details in _TIMEOUT_STATUSES:
        return TIMEOUT
    return OTHER


def diagnose(ssm: Any, instance_id: str, run_id: str) -> None:
    """After a timeout: one short follow-up command that may say why (an OOM kill, a full disk)."""
    try:
        command_id = send(ssm, instance_id, DIAGNOSE, step="diagnose", run_id=run_id, delivery_s=30,
                          execution_s=20, output_bucket="")
        outcome = poll(ssm, command_id, instance_id, 45, out=sys.stderr)
        print(f"ssm: diagnostics command {outcome.status}", file=sys.stderr)
    except Exception as exc:  # diagnostics are best effort; the step already failed
        print(f"ssm: diagnostics unavailable: {exc}", file=sys.stderr)


def run_step(ssm: Any, instance_id: str, text: str, *, step: str, run_id: str, timeout_s: int, delivery_s: int,
             output_bucket: str) -> int:
    command_id = send(ssm, instance_id, text, step=step, run_id=run_id, delivery_s=delivery_s,
                      execution_s=timeout_s, output_bucket=output_bucket)
    print(f"ssm: {step} sent as command {command_id}", file=sys.stderr)
    try:
        outcome = poll(ssm, command_id, instance_id, delivery_s + timeout_s + 30)
    except TimeoutError as exc:
        print(f"ssm: {exc}", file=sys.stderr)
        try:
            ssm.cancel_command(CommandId=command_id, InstanceIds=[instance_id])
        except Exception as cancel_error:  # the instance is terminated next anyway
            print(f"ssm: cancel failed: {cancel_error}", file=sys.stderr)
        diagnose(ssm, instance_id, run_id)
        return TIMEOUT
    code = exit_code(outcome)
    if outcome.stderr:
        print(outcome.stderr[-2000:], file=sys.stderr)
    if code in (TIMEOUT, OTHER):
        print(f"ssm: {step} ended {outcome.status} ({outcome.details})", file=sys.stderr)
    if code == TIMEOUT:
        diagnose(ssm, instance_id, run_id)
    return code
