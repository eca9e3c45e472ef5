"""Deadlines nest: the whole run ends before SSM's executionTimeout (where the agent SIGKILLs it and no
trap, teardown or report runs), which ends before the Step Functions task gives up."""

from __future__ import annotations

import json

import pytest

from preflight.aws.sfn_report import error_name
from preflight.deadlines import BOOKKEEPING_S, worst_case_s
from tests.conftest import ROOT, make_config

ASL = ROOT / "infra_scripts" / "stepfunctions" / "weekly_training.asl.json"
MODE_OF_STATE = {"Preflight": "preflight-only", "Train": "full"}
# Each single-project state and its per-module twin inside the Map: the same script, the same nesting.
CALLERS = {"Preflight": "Preflight", "Train": "Train", "PreflightModules/PreflightModule": "Preflight",
           "TrainModules/TrainModule": "Train"}


def caller(path: str) -> dict:
    """The Parallel state at `path` (a Map's item state as MAP/STATE)."""
    states = json.loads(ASL.read_text())["States"]
    head, _, item = path.partition("/")
    return states[head]["ItemProcessor"]["States"][item] if item else states[head]


def branch(path: str) -> tuple[dict, dict]:
    """The state's command (sendCommand) and the task that waits for its callback."""
    (only,) = caller(path)["Branches"]
    (command,) = [s for s in only["States"].values() if s["Resource"].endswith(":ssm:sendCommand")]
    (wait,) = [s for s in only["States"].values() if s["Resource"].endswith(".waitForTaskToken")]
    return command, wait


@pytest.mark.parametrize("state", sorted(CALLERS))
def test_script_ends_before_execution_timeout_before_task_timeout(state: str):
    command, wait = branch(state)
    config = make_config(TRANSPORT="ssm")
    execution_timeout = int(command["Parameters"]["Parameters"]["executionTimeout"][0])
    delivery = int(command["Parameters"]["TimeoutSeconds"])
    worst = worst_case_s(config, MODE_OF_STATE[CALLERS[state]])
    assert worst < execution_timeout, f"{state}: the agent would SIGKILL a run at {execution_timeout}s (worst {worst}s)"
    assert execution_timeout + delivery < wait["TimeoutSeconds"]
    # The default watchdog outlasts even a step that overran the budget (config.py refuses one that would
    # end a run keeping to its budget: test_config.py test_ssm_refuses_a_watchdog_that_would_end_a_healthy_run).
    assert int(config.text("MAX_RUNTIME_SECONDS")) > worst - BOOKKEEPING_S, "the watchdog would cut a healthy run"


def test_teardown_unconfirmed_is_typed_never_retried_and_notified():
    assert error_name(7) == "Preflight.TeardownUnconfirmed"
    states = json.loads(ASL.read_text())["States"]
    for name in CALLERS:
        retried = {e for rule in caller(name)["Retry"] for e in rule["ErrorEquals"]}
        assert "Preflight.TeardownUnconfirmed" not in retried and "States.ALL" not in retried
        catches = caller(name)["Catch"]
        assert catches[-1]["ErrorEquals"] == ["States.ALL"] and catches[-1]["Next"].startswith("Forget"), name
    assert states["ForgetToken"]["Next"] == "Notify" and states["ForgetToken"]["Catch"][0]["Next"] == "Notify"


@pytest.mark.parametrize("state", ["Train", "TrainModules/TrainModule"])
def test_training_gates_on_latest_ready(state: str):
    command = branch(state)[0]["Parameters"]["Parameters"]["commands.$"]
    assert "--require-preflight latest-ready" in command  # this project's own latest-ready


def test_the_worst_case_counts_what_runs_outside_the_budget():
    """Item 13: the token wait and the launch plan run before the budget starts, the artifact fetch after the
    probe; none of them is capped by it, so each must be in the number executionTimeout is checked against."""
    import re

    from preflight import deadlines
    from preflight.aws import plan_calls

    config = make_config(TRANSPORT="ssm")
    inside = (config.int("RUN_BUDGET_SECONDS") + deadlines.STEP_OVERRUN_S + config.int("TEARDOWN_TIMEOUT_SECONDS")
              + deadlines.BOOKKEEPING_S)
    plan = plan_calls.PLAN_ROUNDS * plan_calls.CALL_DEADLINE_S
    fetch = deadlines.FETCH_TIMEOUT_S + deadlines.STEP_OVERRUN_S
    assert worst_case_s(config, "preflight-only") >= inside + plan + fetch + deadlines.TOKEN_WAIT_S
    transport = (ROOT / "infra_scripts" / "lib" / "transport_ssm.sh").read_text()
    assert re.search(r"transport_run fetch \S+ (\d+)", transport).group(1) == str(deadlines.FETCH_TIMEOUT_S)


def test_the_plan_dry_run_is_bounded(monkeypatch):
    """Item 13: the DryRun is under the plan's per-call deadline like every other plan call (botocore's own
    retries could take minutes): a call that never answers is a warning, not a hang."""
    import threading

    from preflight.aws import plan_calls
    from preflight.aws.ec2_launch import RootDevice
    from preflight.aws.plan import Candidate

    monkeypatch.setattr(plan_calls, "CALL_DEADLINE_S", 0.2)
    never = threading.Event()

    class Hangs:
        def run_instances(self, **_request):
            never.wait()

    verdicts: list[tuple] = []
    done = threading.Thread(target=lambda: plan_calls.dry_run(
        plan_calls.Clients(Hangs(), None, None), _spec(), RootDevice("/dev/xvda", 8),
        Candidate("t3.micro", "subnet-1", "us-east-1a"), lambda *a, **k: verdicts.append(a)), daemon=True)
    done.start()
    done.join(timeout=60)
    never.set()
    assert not done.is_alive(), "the DryRun waited past its deadline"
    assert verdicts[0][:2] == ("plan.permissions", "warn") and "no answer within" in verdicts[0][2]


def _spec():
    from preflight.aws.ec2_launch import LaunchSpec

    return LaunchSpec(ami="ami-1", instance_types=["t3.micro"], subnets=["subnet-1"], security_groups=[],
                      instance_profile="p", root_volume_gb=50, max_runtime_s=3600, spot_max_price="",
                      tags={"Project": "spot-preflight"})


def test_worst_case_is_the_documented_sum():
    """docs/stepfunctions.md: token wait + launch plan + budget + the last step's overrun + artifact fetch +
    teardown + bookkeeping, 2,440 s and 4,240 s by default (mutation testing: '+' turned '-' survived a bound
    checked only from above)."""
    from preflight import deadlines

    outside = (deadlines.TOKEN_WAIT_S + deadlines.PLAN_WORST_S + 2 * deadlines.STEP_OVERRUN_S
               + deadlines.FETCH_TIMEOUT_S + deadlines.BOOKKEEPING_S)
    config = make_config(TRANSPORT="ssm")
    assert worst_case_s(config, "preflight-only") == 1800 + 180 + outside == 2440
    assert worst_case_s(config, "full") == worst_case_s(config, "smoke-only") == 3600 + 180 + outside == 4240
    assert worst_case_s(make_config(RUN_BUDGET_SECONDS="600", TEARDOWN_TIMEOUT_SECONDS="60"), "preflight-only") == \
        600 + 60 + outside
