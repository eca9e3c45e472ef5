"""Deadlines nest: the whole run ends before SSM's executionTimeout (where the agent SIGKILLs it and no
trap, teardown or report runs), which ends before the Step Functions task gives up."""

from __future__ import annotations

import json

import pytest

from preflight.aws.sfn_report import error_name
from preflight.deadlines import worst_case_s
from tests.conftest import ROOT, make_config

ASL = ROOT / "infra_scripts" / "stepfunctions" / "weekly_training.asl.json"
MODE_OF_STATE = {"Preflight": "preflight-only", "Train": "full"}


def branch(state: str) -> tuple[dict, dict]:
    """The state's command (sendCommand) and the task that waits for its callback."""
    (only,) = json.loads(ASL.read_text())["States"][state]["Branches"]
    states = only["States"]
    return states[f"Start{state}"], states[f"Await{state}"]


@pytest.mark.parametrize("state", sorted(MODE_OF_STATE))
def test_script_ends_before_execution_timeout_before_task_timeout(state: str):
    command, wait = branch(state)
    config = make_config(TRANSPORT="ssm")
    execution_timeout = int(command["Parameters"]["Parameters"]["executionTimeout"][0])
    delivery = int(command["Parameters"]["TimeoutSeconds"])
    worst = worst_case_s(config, MODE_OF_STATE[state])
    assert worst < execution_timeout, f"{state}: the agent would SIGKILL a run at {execution_timeout}s (worst {worst}s)"
    assert execution_timeout + delivery < wait["TimeoutSeconds"]
    assert int(config.text("MAX_RUNTIME_SECONDS")) > worst - 120, "the watchdog would cut a healthy run"


def test_teardown_unconfirmed_is_typed_never_retried_and_notified():
    assert error_name(7) == "Preflight.TeardownUnconfirmed"
    states = json.loads(ASL.read_text())["States"]
    for name in MODE_OF_STATE:
        retried = {e for rule in states[name]["Retry"] for e in rule["ErrorEquals"]}
        assert "Preflight.TeardownUnconfirmed" not in retried and "States.ALL" not in retried
        (catch,) = states[name]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "ForgetToken"
    assert states["ForgetToken"]["Next"] == "Notify" and states["ForgetToken"]["Catch"][0]["Next"] == "Notify"


def test_training_gates_on_latest_ready():
    command = branch("Train")[0]["Parameters"]["Parameters"]["commands.$"]
    assert "--require-preflight artifacts/preflight/latest-ready/preflight-readiness.json" in command
