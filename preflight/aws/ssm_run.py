"""Run one step on the instance with SSM Run Command and turn its outcome into an exit code.

Exit codes (the same meaning as the local transport's): the script's own code on Success/Failed,
124 when it timed out (execution, delivery or our own deadline), 125 for anything else: the
command never reached the script (Undeliverable, AccessDenied, InvalidPlatform: Failed with
ResponseCode -1), was cancelled, or the instance went away under it.
"""

from __future__ import annotations

import sys
from typing import Any

from preflight.aws.clients import error_code
from preflight.aws.ssm_online import SPOT_INTERRUPTED, describe_state, end_exit_code, ended_message
from preflight.aws.ssm_poll import INSTANCE_GONE, CloudWatchTail, Outcome, poll

TIMEOUT, OTHER = 124, 125
# The agent replaces an executionTimeout outside [5, 172800] seconds with its default, 3600 (amazon-ssm-agent
# agent/plugins/pluginutil/pluginutil.go ValidateExecutionTimeout): a 2 s step would get an hour.
MIN_EXECUTION_S, MAX_EXECUTION_S = 5, 172800
# How long past a step's timeout we still wait for SSM to report it (preflight/deadlines.py counts it).
DISPATCH_GRACE_S = 30
# The prelude turns a step's exit 137 into this: the agent reads any 137 as its own timeout kill.
KILLED = 86
_TIMEOUT_STATUSES = {"TimedOut", "DeliveryTimedOut", "ExecutionTimedOut"}
DIAGNOSE = ("(dmesg -T 2>/dev/null || dmesg) | grep -iE 'killed process|out of memory|oom' | tail -n 5; "
            "uptime; free -m 2>/dev/null | head -n 2; df -h / | tail -n 1")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def send(ssm: Any, instance_id: str, text: str, *, step: str, run_id: str, delivery_s: int, execution_s: int,
         output_bucket: str = "", log_group: str = "") -> str:
    request: dict[str, Any] = {
        "InstanceIds": [instance_id], "DocumentName": "AWS-RunShellScript",
        "Comment": f"spot-preflight {run_id} {step}"[:100], "TimeoutSeconds": delivery_s,
        "Parameters": {"commands": [text],
                       "executionTimeout": [str(min(MAX_EXECUTION_S, max(MIN_EXECUTION_S, int(execution_s))))]},
    }
    if output_bucket:  # the one write this tool can make, and only when asked for
        request["OutputS3BucketName"] = output_bucket
        request["OutputS3KeyPrefix"] = f"spot-preflight/{run_id}/{step}"
    if log_group:
        request["CloudWatchOutputConfig"] = {"CloudWatchLogGroupName": log_group, "CloudWatchOutputEnabled": True}
    return ssm.send_command(**request)["Command"]["CommandId"]


def exit_code(outcome: Outcome) -> int:
    if outcome.status == INSTANCE_GONE and end_exit_code(outcome.reason) == SPOT_INTERRUPTED:
        return SPOT_INTERRUPTED
    if outcome.status == "Success":
        return 0
    if outcome.status == "Failed" and outcome.exit_code >= 0 and outcome.details not in _TIMEOUT_STATUSES:
        return outcome.exit_code if outcome.exit_code > 0 else 1
    if outcome.status in _TIMEOUT_STATUSES or outcome.details in _TIMEOUT_STATUSES:
        return TIMEOUT
    return OTHER


def explain(step: str, outcome: Outcome, instance_id: str) -> str | None:
    """One line for outcomes whose exit code alone would mislead."""
    if outcome.status == INSTANCE_GONE:
        return f"ssm: {ended_message(instance_id, outcome.details, outcome.reason, f'while {step} ran')}; " \
               "the step did not finish"
    if outcome.status == "Failed" and outcome.exit_code < 0:
        return (f"ssm: {step} was never run on {instance_id}: {outcome.details or 'Failed'} (SSM could not "
                "deliver it: check the instance is managed, Online, Linux, and the launcher may SendCommand)")
    if outcome.exit_code == KILLED:
        return f"ssm: a process of {step} was killed by SIGKILL (most often the kernel's OOM killer)"
    if exit_code(outcome) in (TIMEOUT, OTHER):
        return f"ssm: {step} ended {outcome.status} ({outcome.details})"
    return None


def diagnose(ssm: Any, instance_id: str, run_id: str) -> None:
    """After an execution timeout: one short follow-up command that may say why (OOM, full disk)."""
    try:
        command_id = send(ssm, instance_id, DIAGNOSE, step="diagnose", run_id=run_id, delivery_s=30, execution_s=20)
        outcome = poll(ssm, None, command_id, instance_id, 45, step="diagnose", out=sys.stderr)
        _say(f"ssm: diagnostics command {outcome.status}")
    except Exception as exc:  # diagnostics are best effort; the step already failed
        _say(f"ssm: diagnostics unavailable: {exc}")


def run_step(ssm: Any, ec2: Any, instance_id: str, text: str, *, step: str, run_id: str, timeout_s: int,
             delivery_s: int, output_bucket: str = "", logs: Any = None, log_group: str = "") -> int:
    # Delivery time counts against the step's timeout (the run budget is wall-clock time); SendCommand's
    # TimeoutSeconds has a floor of 30 (service model).
    try:
        command_id = send(ssm, instance_id, text, step=step, run_id=run_id,
                          delivery_s=max(30, min(delivery_s, timeout_s)), execution_s=timeout_s,
                          output_bucket=output_bucket, log_group=log_group)
    except Exception as exc:
        # A reclaimed instance is no longer a valid SendCommand target (InvalidInstanceId): say so.
        state, reason = describe_state(ec2, instance_id) if ec2 is not None else ("", "")
        if state and end_exit_code(reason) == SPOT_INTERRUPTED:
            _say(f"ssm: {step} could not be sent ({error_code(exc)}): "
                 f"{ended_message(instance_id, state, reason, 'already')}")
            return SPOT_INTERRUPTED
        raise
    _say(f"ssm: {step} sent as command {command_id}")
    tail = CloudWatchTail(logs, log_group, command_id, instance_id) if log_group and logs is not None else None
    try:
        outcome = poll(ssm, ec2, command_id, instance_id, timeout_s + DISPATCH_GRACE_S, step=step, tail=tail)
    except TimeoutError as exc:
        _say(f"ssm: {exc}")
        try:
            ssm.cancel_command(CommandId=command_id, InstanceIds=[instance_id])
        except Exception as cancel_error:  # the instance is terminated next anyway
            _say(f"ssm: cancel failed: {cancel_error}")
        diagnose(ssm, instance_id, run_id)
        return TIMEOUT
    if outcome.stderr:
        _say(outcome.stderr[-2000:])
    if line := explain(step, outcome, instance_id):
        _say(line)
    # A host that never received the command (delivery timeout) cannot receive diagnostics either.
    if outcome.status == "TimedOut" and outcome.details != "DeliveryTimedOut":
        diagnose(ssm, instance_id, run_id)
    return exit_code(outcome)
