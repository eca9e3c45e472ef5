"""Wait until the instance runs and its SSM agent reports Online — or say why it never will."""

from __future__ import annotations

import time
from typing import Any

from preflight.aws.clients import backoff, error_code

# States after which the instance never runs a command again (shutdown behaviour is terminate).
ENDED_STATES = ("shutting-down", "terminated", "stopping", "stopped")


# Exit codes of an instance that ended on its own (DESIGN.md, README "Exit codes").
NO_CAPACITY, UNREACHABLE, LAUNCH_PROBLEM, SPOT_INTERRUPTED = 3, 4, 5, 8
# StateReason codes (botocore data/ec2/2016-11-15/service-2.json, StateReason.Message): EC2 took the
# spot instance back; a retry may find capacity again.
RECLAIMED = ("Server.SpotInstanceTermination", "Server.SpotInstanceShutdown")


class Unreachable(Exception):
    """The instance never became reachable over SSM within its deadline."""

    exit_code = UNREACHABLE


class InstanceEnded(Unreachable):
    """The instance ended before SSM came online; `exit_code` says why (reclaim, launch problem, ...)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


NOT_FOUND = "InvalidInstanceID.NotFound"
NOT_VISIBLE = "not visible yet"


def describe_state(ec2: Any, instance_id: str) -> tuple[str, str]:
    """(state, StateReason.Code) of the instance, or (NOT_VISIBLE, "") while EC2 answers NotFound: right
    after launch it may not know the id yet (eventual consistency). One id per call: a NotFound for one id
    fails the request."""
    try:
        reply = ec2.describe_instances(InstanceIds=[instance_id])
    except Exception as exc:
        if error_code(exc) == NOT_FOUND:
            return NOT_VISIBLE, ""
        raise
    found = [(i["State"]["Name"], (i.get("StateReason") or {}).get("Code", "")) for r in reply["Reservations"]
             for i in r["Instances"]]
    return found[0] if found else (NOT_VISIBLE, "")


def instance_state(ec2: Any, instance_id: str) -> str:
    return describe_state(ec2, instance_id)[0]


def end_exit_code(reason: str) -> int:
    """What an instance's own end means for the run: EC2 reclaimed the spot instance (8, retried); the
    launch itself failed (Client.*: KMS key, EBS volume limit, snapshot, an internal client error, or a
    shutdown someone asked for: 5, not retried); no capacity after all (3); anything else: unreachable."""
    if reason in RECLAIMED:
        return SPOT_INTERRUPTED
    if reason.startswith("Client."):
        return LAUNCH_PROBLEM
    if reason == "Server.InsufficientInstanceCapacity":
        return NO_CAPACITY
    return UNREACHABLE


def ended_message(instance_id: str, state: str, reason: str, during: str) -> str:
    code = end_exit_code(reason)
    why = {SPOT_INTERRUPTED: "EC2 reclaimed the spot instance", LAUNCH_PROBLEM: "a launch problem, not capacity",
           NO_CAPACITY: "no spot capacity after all"}.get(code, "it ended")
    return f"{instance_id} is {state} {during} ({reason or 'no reason given'}: {why})"


def _impaired(ec2: Any, instance_id: str) -> str | None:
    try:
        statuses = ec2.describe_instance_status(InstanceIds=[instance_id]).get("InstanceStatuses", [])
    except Exception as exc:
        if error_code(exc) == NOT_FOUND:
            return None
        raise
    for status in statuses:
        for key in ("InstanceStatus", "SystemStatus"):
            if status.get(key, {}).get("Status") == "impaired":
                return f"{key} impaired"
    return None


def _ping(ssm: Any, instance_id: str) -> str | None:
    try:
        reply = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])
    except Exception as exc:  # throttling or a not-yet-registered instance: keep polling
        return f"error {error_code(exc)}"
    infos = reply.get("InstanceInformationList", [])
    return infos[0].get("PingStatus") if infos else None


def wait_online(ec2: Any, ssm: Any, instance_id: str, timeout_s: float, say: Any = print) -> float:
    """Seconds it took; raises Unreachable naming the last state seen."""
    started = time.monotonic()
    last = "not yet seen"
    for _ in backoff(started + timeout_s, start=1.0, cap=5.0):
        state, reason = describe_state(ec2, instance_id)
        if state in ENDED_STATES:
            raise InstanceEnded(ended_message(instance_id, state, reason, "before SSM came online"),
                                end_exit_code(reason))
        if state == "running":
            if problem := _impaired(ec2, instance_id):
                raise Unreachable(f"{instance_id}: {problem}")
            ping = _ping(ssm, instance_id)
            if ping == "Online":
                waited = time.monotonic() - started
                say(f"ssm: {instance_id} online after {waited:.1f}s")
                return waited
            last = f"running, SSM ping {ping or 'not registered'}"
        else:
            last = state
    raise Unreachable(f"{instance_id} not Online in SSM after {timeout_s:.0f}s (last: {last}); check the "
                      "instance profile has AmazonSSMManagedInstanceCore and the subnet reaches SSM endpoints")
