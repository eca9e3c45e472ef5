"""Terminate the run's instances and confirm they are going; NotFound counts as gone."""

from __future__ import annotations

from typing import Any

from preflight.aws.clients import backoff, error_code

GONE = {"shutting-down", "terminated"}


def run_instances_by_tag(ec2: Any, run_id: str) -> list[str]:
    """Live instances tagged with this run — found even if the launcher died before printing an id."""
    reply = ec2.describe_instances(Filters=[
        {"Name": "tag:RunId", "Values": [run_id]},
        {"Name": "tag:Project", "Values": ["spot-preflight"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return [i["InstanceId"] for r in reply["Reservations"] for i in r["Instances"]]


def _states(ec2: Any, ids: list[str]) -> dict[str, str]:
    try:
        reply = ec2.describe_instances(InstanceIds=ids)
    except Exception as exc:
        if error_code(exc).startswith("InvalidInstanceID"):
            return {i: "terminated" for i in ids}
        raise
    return {i["InstanceId"]: i["State"]["Name"] for r in reply["Reservations"] for i in r["Instances"]}


def terminate(ec2: Any, ids: list[str], deadline_s: float = 120) -> dict[str, str]:
    """Final state per instance; raises RuntimeError if any is not going away by the deadline."""
    import time

    if not ids:
        return {}
    try:
        ec2.terminate_instances(InstanceIds=ids)
    except Exception as exc:
        if not error_code(exc).startswith("InvalidInstanceID"):
            raise
    states: dict[str, str] = {}
    for _ in backoff(time.monotonic() + deadline_s, start=0.5, cap=5.0):
        states = _states(ec2, ids)
        if all(state in GONE for state in states.values()):
            return states
    raise RuntimeError(f"instances not terminating after {deadline_s:.0f}s: {states}")
