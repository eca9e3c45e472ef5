"""Teardown against a scripted EC2 and a fake clock: which answers it believes, and when it gives up.

The moto runs (tests/test_ssm_faults.py) prove the same paths end to end; these pin each rule fast
and exactly: NotFound is "not visible yet" (retried), only a describe confirms, an instance seen and
then absent for `gone_after_s` counts as gone, and the deadline is kept.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from preflight.aws import clients, ec2_terminate
from preflight.aws.ec2_terminate import TeardownUnconfirmed, run_instances_by_tag, terminate

NOT_FOUND = "InvalidInstanceID.NotFound"


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "op")


class Clock:
    """time.monotonic and time.sleep for the modules under test: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.wake_at = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now = self.wake_at.pop(0) if self.wake_at else self.now + seconds

    wake_at: list[float]  # a sleep that overran: it ends at this time instead (one per entry)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clients, "time", fake)
    monkeypatch.setattr(ec2_terminate, "time", fake)
    return fake


class EC2:
    """Answers per instance from scripts: each call takes the next answer, the last one repeats.
    An answer is a state name, NOT_FOUND, or an error code to raise."""

    def __init__(self, clock: Clock, describe: dict[str, list[str]], terminate: dict[str, list[str]] | None = None):
        self.clock, self.describe, self.terminate = clock, describe, terminate or {}
        self.calls: list[tuple[str, str, float]] = []

    def _next(self, script: dict[str, list[str]], instance_id: str, default: str) -> str:
        answers = script.get(instance_id, [default])
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def terminate_instances(self, InstanceIds: list[str]) -> dict:  # noqa: N803 (boto3's spelling)
        (instance_id,) = InstanceIds
        self.calls.append(("terminate", instance_id, self.clock.now))
        answer = self._next(self.terminate, instance_id, "ok")
        if answer != "ok":
            raise error(answer)
        return {"TerminatingInstances": [{"InstanceId": instance_id}]}

    def describe_instances(self, InstanceIds: list[str] | None = None, Filters: list | None = None) -> dict:  # noqa: N803
        if Filters is not None:
            self.calls.append(("describe-filter", repr(Filters), self.clock.now))
            return {"Reservations": [{"Instances": [{"InstanceId": "i-tagged1"}, {"InstanceId": "i-tagged2"}]}]}
        (instance_id,) = InstanceIds or [None]
        self.calls.append(("describe", instance_id, self.clock.now))
        answer = self._next(self.describe, instance_id, "running")
        if answer == NOT_FOUND or answer.startswith("Unauthorized"):
            raise error(answer)
        return {"Reservations": [{"Instances": [{"InstanceId": instance_id, "State": {"Name": answer}}]}]}

    def count(self, kind: str, instance_id: str | None = None) -> int:
        return sum(1 for k, i, _ in self.calls if k == kind and instance_id in (None, i))


def test_nothing_to_terminate_asks_nothing(clock: Clock):
    ec2 = EC2(clock, {})
    assert terminate(ec2, [], deadline_s=30) == {}
    assert ec2.calls == []


def test_each_instance_is_terminated_once_and_believed_on_a_describe(clock: Clock):
    ec2 = EC2(clock, {"i-b": ["shutting-down"], "i-a": ["terminated"]})
    assert terminate(ec2, ["i-b", "i-a"], deadline_s=30) == {"i-b": "shutting-down", "i-a": "terminated"}
    assert [(k, i) for k, i, _ in ec2.calls] == [("terminate", "i-a"), ("terminate", "i-b"),
                                                 ("describe", "i-b"), ("describe", "i-a")]
    assert clock.slept == []  # confirmed on the first round: no wait


def test_not_found_on_terminate_is_retried_until_accepted(clock: Clock):
    ec2 = EC2(clock, {"i-a": [NOT_FOUND, NOT_FOUND, "running", "shutting-down"]},
              terminate={"i-a": [NOT_FOUND, NOT_FOUND, "ok"]})
    assert terminate(ec2, ["i-a"], deadline_s=30) == {"i-a": "shutting-down"}
    assert ec2.count("terminate") == 3  # sent again each round until EC2 knew the id, then never again
    assert clock.slept[:3] == [0.5, 0.8, pytest.approx(1.28)]  # backoff from 0.5 s, x1.6


def test_an_accepted_terminate_is_not_sent_again(clock: Clock):
    ec2 = EC2(clock, {"i-a": ["running", "running", "running", "terminated"]})
    assert terminate(ec2, ["i-a"], deadline_s=30) == {"i-a": "terminated"}
    assert ec2.count("terminate") == 1 and ec2.count("describe") == 4


def test_an_error_that_never_clears_is_unconfirmed_naming_it(clock: Clock):
    """Issue 21 item 11: any error is retried until the deadline (throttling, a role still propagating);
    one that never clears ends as TeardownUnconfirmed (exit 7) naming it, never as a crash that skips
    the manual-cleanup message."""
    ec2 = EC2(clock, {}, terminate={"i-a": ["UnauthorizedOperation"] * 1000})
    with pytest.raises(TeardownUnconfirmed, match=r"last error: UnauthorizedOperation"):
        terminate(ec2, ["i-a"], deadline_s=30)
    assert clock.now - 1000.0 >= 30 - 5  # it kept trying for (about) the whole deadline


def test_seen_then_absent_for_gone_after_s_counts_as_gone(clock: Clock):
    ec2 = EC2(clock, {"i-a": ["running", NOT_FOUND]})
    assert terminate(ec2, ["i-a"], deadline_s=60, gone_after_s=6) == {"i-a": "gone"}
    first_absent = next(t for k, _, t in ec2.calls if k == "describe" and t > 1000.0)
    assert clock.now - first_absent >= 6
    # One round earlier the absence was shorter than gone_after_s: no verdict yet.
    describes = [t for k, _, t in ec2.calls if k == "describe"]
    assert describes[-2] - first_absent < 6


def test_absence_counts_from_the_last_time_it_was_seen(clock: Clock):
    ec2 = EC2(clock, {"i-a": ["running", NOT_FOUND, NOT_FOUND, "running", NOT_FOUND]})
    terminate(ec2, ["i-a"], deadline_s=60, gone_after_s=6)
    describes = [t for k, _, t in ec2.calls if k == "describe"]
    assert clock.now - describes[4] >= 6  # from the second absence, not the first


def test_never_seen_and_never_found_is_not_gone(clock: Clock):
    ec2 = EC2(clock, {"i-a": [NOT_FOUND]}, terminate={"i-a": [NOT_FOUND]})
    start = clock.now
    with pytest.raises(TeardownUnconfirmed) as caught:
        terminate(ec2, ["i-a"], deadline_s=20, gone_after_s=1)
    assert caught.value.states == {"i-a": "not visible yet"} and str(caught.value) == "i-a not visible yet"
    assert start + 20 <= clock.now <= start + 20.001  # the deadline is kept: the last sleep is cut to it


def test_seen_then_absent_but_not_long_enough_is_reported_so(clock: Clock):
    ec2 = EC2(clock, {"i-a": ["running", NOT_FOUND]})
    with pytest.raises(TeardownUnconfirmed) as caught:
        terminate(ec2, ["i-a"], deadline_s=10, gone_after_s=20)
    assert caught.value.states == {"i-a": "not found since seen"}


def test_running_past_the_deadline_is_unconfirmed(clock: Clock):
    ec2 = EC2(clock, {"i-a": ["running"], "i-b": ["terminated"]})
    with pytest.raises(TeardownUnconfirmed) as caught:
        terminate(ec2, ["i-a", "i-b"], deadline_s=10)
    assert caught.value.states == {"i-a": "running", "i-b": "terminated"}
    assert str(caught.value) == "i-a running, i-b terminated"


@pytest.mark.parametrize("state", ["stopping", "stopped", "pending"])
def test_only_shutting_down_or_terminated_confirms(clock: Clock, state: str):
    with pytest.raises(TeardownUnconfirmed):
        terminate(EC2(clock, {"i-a": [state]}), ["i-a"], deadline_s=5)


def test_instances_of_the_run_are_found_by_its_tags(clock: Clock):
    ec2 = EC2(clock, {})
    assert run_instances_by_tag(ec2, "run-7") == ["i-tagged1", "i-tagged2"]
    ((_, filters, _),) = ec2.calls
    assert filters == repr([{"Name": "tag:RunId", "Values": ["run-7"]},
                            {"Name": "tag:Project", "Values": ["spot-preflight"]},
                            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])


def test_gone_after_20_s_by_default_and_at_exactly_gone_after_s(clock: Clock):
    # Rounds start at 1000 (running), 1000.5 (absent since then); the next sleep overruns to 1020.5: absent 20.0 s.
    clock.wake_at = [1000.5, 1020.5]
    ec2 = EC2(clock, {"i-a": ["running", NOT_FOUND]})
    assert terminate(ec2, ["i-a"], deadline_s=60) == {"i-a": "gone"}
    assert ec2.count("describe") == 3 and clock.now == 1020.5


def test_every_instance_is_sent_its_terminate_in_each_round(clock: Clock):
    ec2 = EC2(clock, {"i-a": ["terminated"], "i-b": ["terminated"]}, terminate={"i-a": [NOT_FOUND, "ok"]})
    terminate(ec2, ["i-b", "i-a"], deadline_s=30)
    first_round = [(k, i) for k, i, t in ec2.calls if t == 1000.0 and k == "terminate"]
    assert first_round == [("terminate", "i-a"), ("terminate", "i-b")]  # i-a's NotFound does not stop i-b's


def test_the_backoff_between_rounds_is_capped_at_5_s(clock: Clock):
    with pytest.raises(TeardownUnconfirmed):
        terminate(EC2(clock, {"i-a": ["running"]}), ["i-a"], deadline_s=60)
    assert max(clock.slept) == 5.0 and clock.slept[:7] == pytest.approx([0.5, 0.8, 1.28, 2.048, 3.2768, 5.0, 5.0])


# Issue 27 (make mutation): teardown's tag lookup, its settle window, its progress lines and its message.

def test_teardown_finds_the_run_s_other_instances_by_tag_and_terminates_each(clock: Clock):
    from preflight.aws.ec2_terminate import teardown

    ec2 = EC2(clock, {"i-a": ["terminated"], "i-tagged1": ["shutting-down"], "i-tagged2": ["terminated"]})
    states = teardown(ec2, ["i-a"], "run-7", deadline_s=60)
    assert states == {"i-a": "terminated", "i-tagged1": "shutting-down", "i-tagged2": "terminated"}
    assert [c[:2] for c in ec2.calls if c[0] == "terminate"] == [("terminate", "i-a"), ("terminate", "i-tagged1"),
                                                                ("terminate", "i-tagged2")]
    assert ec2.count("describe-filter") == 1  # no settle window: looked up once


def test_teardown_looks_again_for_settle_s_and_only_then(clock: Clock):
    from preflight.aws.ec2_terminate import teardown

    ec2 = EC2(clock, {"i-tagged1": ["terminated"], "i-tagged2": ["terminated"]})
    teardown(ec2, [], "run-7", deadline_s=120, settle_s=10)
    lookups = [t - 1000.0 for k, _, t in ec2.calls if k == "describe-filter"]
    assert lookups[0] == 0 and all(t < 10 for t in lookups) and len(lookups) > 1
    assert clock.now - 1000.0 >= 10  # not confirmed before the window ends


def test_teardown_says_each_retry_and_its_unconfirmed_message_names_states_and_error(clock: Clock):
    from preflight.aws.ec2_terminate import teardown

    said: list[str] = []
    ec2 = EC2(clock, {"i-a": ["running"]}, terminate={"i-a": ["Throttling", "ok"]})
    with pytest.raises(TeardownUnconfirmed) as caught:
        teardown(ec2, ["i-a"], None, deadline_s=8, say=said.append)
    assert said == ["terminate: Throttling, retrying"]
    assert str(caught.value) == "i-a running (last error: Throttling: An error occurred (Throttling) when calling " \
                                "the op operation: Throttling)"
    assert caught.value.states == {"i-a": "running"}
    assert str(TeardownUnconfirmed({})) == "no instance of the run could be looked up"
    assert str(TeardownUnconfirmed({"i-b": "pending"}, "")) == "i-b pending"
