"""Terminate the run's instances and believe it only when a describe confirms it.

EC2 is eventually consistent: for a while after RunInstances, Describe and Terminate may answer
InvalidInstanceID.NotFound for an instance that is running. NotFound is therefore "not visible yet",
never "gone" — except for an instance a describe has already shown, absent for `gone_after_s`.
"""

from __future__ import annotations

import time
from typing import Any

from preflight.aws.clients import backoff, error_code
from preflight.aws.ssm_online import NOT_FOUND, NOT_VISIBLE, instance_state

GONE = {"shutting-down", "terminated"}


class TeardownUnconfirmed(Exception):
    """Some instance could not be confirmed shutting-down or terminated by the deadline."""

    def __init__(self, states: dict[str, str]) -> None:
        super().__init__(", ".join(f"{i} {s}" for i, s in states.items()))
        self.states = states


def run_instances_by_tag(ec2: Any, run_id: str) -> list[str]:
    """Live instances tagged with this run — found even if the launcher died before printing an id."""
    reply = ec2.describe_instances(Filters=[
        {"Name": "tag:RunId", "Values": [run_id]},
        {"Name": "tag:Project", "Values": ["spot-preflight"]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])
    return [i["InstanceId"] for r in reply["Reservations"] for i in r["Instances"]]


class _Teardown:
    def __init__(self, ec2: Any, ids: list[str], gone_after_s: float) -> None:
        self.ec2, self.gone_after_s = ec2, gone_after_s
        self.unsent = set(ids)
        self.states = {i: NOT_VISIBLE for i in ids}
        self.seen: set[str] = set()
        self.missing_since: dict[str, float] = {}

    def send(self) -> None:
        for instance_id in sorted(self.unsent):
            try:
                self.ec2.terminate_instances(InstanceIds=[instance_id])
            except Exception as exc:
                if error_code(exc) != NOT_FOUND:
                    raise
                continue
            self.unsent.discard(instance_id)

    def confirmed(self) -> bool:
        now = time.monotonic()
        for instance_id in self.states:
            state = instance_state(self.ec2, instance_id)
            if state != NOT_VISIBLE:
                self.seen.add(instance_id)
                self.missing_since.pop(instance_id, None)
                self.states[instance_id] = state
            elif instance_id in self.seen:
                since = self.missing_since.setdefault(instance_id, now)
                self.states[instance_id] = "gone" if now - since >= self.gone_after_s else "not found since seen"
        return all(s in GONE or s == "gone" for s in self.states.values())


def terminate(ec2: Any, ids: list[str], deadline_s: float, gone_after_s: float = 20.0) -> dict[str, str]:
    """Final state per instance; raises TeardownUnconfirmed when a describe never confirmed it."""
    if not ids:
        return {}
    teardown = _Teardown(ec2, ids, gone_after_s)
    for _ in backoff(time.monotonic() + deadline_s, start=0.5, cap=5.0):
        teardown.send()
        if teardown.confirmed():
            return teardown.states
    raise TeardownUnconfirmed(teardown.states)
