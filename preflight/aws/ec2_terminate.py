"""Terminate the run's instances and believe it only when a describe confirms it.

EC2 is eventually consistent: for a while after RunInstances, Describe and Terminate may answer
InvalidInstanceID.NotFound for an instance that is running, and a filter-based describe (the RunId tag
lookup) may not list it yet. NotFound is therefore "not visible yet", never "gone" — except for an
instance a describe has already shown, absent for `gone_after_s`. Every other error inside the deadline
(throttling, a network error, a transient UnauthorizedOperation) is retried until the deadline: giving
up early leaves an instance running. Known ids are terminated before any tag lookup.
"""

from __future__ import annotations

import time
from typing import Any

from preflight.aws.clients import backoff, error_code
from preflight.aws.ssm_online import NOT_FOUND, NOT_VISIBLE, instance_state

GONE = {"shutting-down", "terminated"}


class TeardownUnconfirmed(Exception):
    """Some instance could not be confirmed shutting-down or terminated by the deadline."""

    def __init__(self, states: dict[str, str], last_error: str = "") -> None:
        text = ", ".join(f"{i} {s}" for i, s in states.items()) or "no instance of the run could be looked up"
        super().__init__(text + (f" (last error: {last_error})" if last_error else ""))
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
    return teardown(ec2, ids, None, deadline_s, gone_after_s=gone_after_s)


def teardown(ec2: Any, ids: list[str], run_id: str | None, deadline_s: float, *, settle_s: float = 0.0,
             gone_after_s: float = 20.0, say: Any = None) -> dict[str, str]:
    """Terminate `ids` at once, then every live instance tagged with `run_id` (looked up again for `settle_s`
    seconds, when the launcher may have lost an id: a new instance can be missing from a filter for a while),
    until a describe confirms each. Any error is retried until `deadline_s`."""
    started = time.monotonic()
    work = _Teardown(ec2, list(ids), gone_after_s)
    looked_up, last_error = run_id is None, ""
    for _ in backoff(started + deadline_s, start=0.5, cap=5.0):
        try:
            work.send()  # what is known first: a tag lookup that fails must not delay it
            if run_id is not None and (not looked_up or time.monotonic() - started < settle_s):
                for found in run_instances_by_tag(ec2, run_id):
                    if found not in work.states:
                        work.states[found] = NOT_VISIBLE
                        work.unsent.add(found)
                looked_up = True
                work.send()
            settled = looked_up and (run_id is None or time.monotonic() - started >= settle_s)
            if work.confirmed() and settled:
                return work.states
        except Exception as exc:  # throttling, network, a transient denial: the deadline decides, not the error
            last_error = f"{error_code(exc)}: {exc}"
            if say is not None:
                say(f"terminate: {error_code(exc)}, retrying")
    raise TeardownUnconfirmed(work.states, last_error)
