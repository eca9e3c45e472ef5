"""The weekly ASL executed by moto's Step Functions, and --sfn-task-token end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from tests.conftest import DEMO_CONFIG, ROOT, spot_argv

ASL = ROOT / "infra_scripts" / "stepfunctions" / "weekly_training.asl.json"
PARAMETER = re.compile(r"export SFN_TASK_TOKEN_PARAMETER=(\S+)")
SHELL_RUN = "spot-preflight friday shell-run"
TRAINING = "spot-preflight weekly training"


@pytest.fixture(scope="module")
def pipeline(aws_env_module) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    controller = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="spot-preflight-notify")["TopicArn"]
    iam = boto3.client("iam", region_name="us-east-1")
    try:  # a second module on this xdist worker (test_stepfunctions_modules) shares its moto server
        role = iam.create_role(RoleName="sfn-weekly", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "states.amazonaws.com"}}]}))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="sfn-weekly")["Role"]["Arn"]
    return {"controller": controller, "topic": topic, "role": role}


def create_machine(pipeline: dict[str, str], name: str, retry_interval: int | None = None) -> str:
    text = ASL.read_text()
    for key, value in {"ControllerInstanceId": pipeline["controller"], "RepoPath": "/opt/repo",
                       "NotifyTopicArn": pipeline["topic"], "TokenParameterPrefix": "/spot-preflight/task-token",
                       "ConfigPath": "projects/predictor.env"}.items():
        text = text.replace("${" + key + "}", value)
    assert "${" not in text, "a DefinitionSubstitution the test does not know"
    definition = json.loads(text)
    if retry_interval is not None:  # the shipped 300 s interval, shortened so the test stays quick
        for state in ("Preflight", "Train"):
            for rule in definition["States"][state]["Retry"]:
                rule["IntervalSeconds"] = retry_interval
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                    roleArn=pipeline["role"])["stateMachineArn"]


def commands(comment: str) -> list[dict]:
    ssm = boto3.client("ssm", region_name="us-east-1")
    return [c for c in ssm.list_commands()["Commands"] if c["Comment"] == comment]


def next_command(comment: str, before: int, timeout: float = 30) -> dict:
    """The command sent after `before` commands with this comment existed (moto keeps old ones)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = commands(comment)
        if len(sent) > before:
            return sent[before]
        time.sleep(0.2)
    raise AssertionError(f"no new command with comment {comment!r}")


def wait_done(execution_arn: str, timeout: float = 30) -> dict:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.2)
    raise AssertionError("execution still running")


def start(arn: str, payload: dict) -> str:
    """Named as AWS names an execution started without one (a UUID); moto leaves $$.Execution.Name null."""
    import uuid

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload), name=str(uuid.uuid4()))["executionArn"]


def command_text(command: dict) -> str:
    return "\n".join(command["Parameters"]["commands"])


def token_of(command: dict, timeout: float = 30) -> str:
    """The task token of a sent command: read from the parameter it names (the waiting state writes it)."""
    name = PARAMETER.search(command_text(command)).group(1)
    ssm = boto3.client("ssm", region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            time.sleep(0.2)
    raise AssertionError(f"no task token in {name}")


def history_errors(execution_arn: str) -> list[str]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    # The waiting states' failures (what spot_train.sh reported), not ForgetToken's best-effort cleanup.
    return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"
            and "waitForTaskToken" in e["taskFailedEventDetails"].get("resource", "")]


def test_shell_run_true_always_runs_preflight_only_and_success_completes(pipeline):
    arn = create_machine(pipeline, "weekly-1")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    command = next_command(SHELL_RUN, before)
    text = command_text(command)
    assert "spot_train.sh --preflight-only" in text and "--require-preflight" not in text
    summary = {"status": "READY", "run_id": "r1", "checks_summary": {"total": 1}, "next_action": "proceed"}
    sfn.send_task_success(taskToken=token_of(command), output=json.dumps(summary))
    done = wait_done(execution)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == summary


@pytest.mark.parametrize("payload", [{"shell_run": False}, {}, {"other": 1}])
def test_not_a_shell_run_runs_gated_training(pipeline, payload):
    name = f"weekly-train-{len(payload)}-{payload.get('shell_run')}"
    arn = create_machine(pipeline, name)
    before = len(commands(TRAINING))
    execution = start(arn, payload)
    command = next_command(TRAINING, before)
    text = command_text(command)
    assert "--require-preflight" in text and "--preflight-only" not in text
    boto3.client("stepfunctions", region_name="us-east-1").send_task_failure(
        taskToken=token_of(command), error="Preflight.ArtifactInvalid", cause="test")
    assert wait_done(execution)["status"] == "FAILED"


@pytest.mark.parametrize("error", ["Preflight.ChecksFailed", "Preflight.StepFailed", "Preflight.ArtifactInvalid",
                                   "Preflight.Usage"])
def test_non_retryable_failures_are_caught_and_notified(pipeline, error):
    arn = create_machine(pipeline, f"weekly-{error.split('.')[1]}")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    command = next_command(SHELL_RUN, before)
    boto3.client("stepfunctions", region_name="us-east-1").send_task_failure(
        taskToken=token_of(command), error=error, cause="{}")
    done = wait_done(execution)
    assert done["status"] == "FAILED" and done.get("error") == "Pipeline.NotReady"
    assert history_errors(execution) == [error]  # no retry


@pytest.mark.parametrize("error, tries", [("Preflight.NoCapacity", 3), ("Preflight.SpotInterrupted", 3),
                                          ("Preflight.Unreachable", 2)])
def test_capacity_reclaim_and_unreachable_are_retried_then_caught(pipeline, error, tries):
    """NoCapacity and SpotInterrupted: the first try and two retries; Unreachable (items 6, 8): one retry."""
    arn = create_machine(pipeline, f"weekly-retry-{error.split('.')[1]}", retry_interval=1)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    for attempt in range(tries):  # each try a new command and a new token
        command = next_command(SHELL_RUN, before + attempt)
        sfn.send_task_failure(taskToken=token_of(command), error=error, cause="{}")
    done = wait_done(execution, timeout=60)
    assert done["status"] == "FAILED" and history_errors(execution) == [error] * tries


def _tasks(states: dict):
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        for branch in state.get("Branches", []) + [state.get("ItemProcessor", {"States": {}})]:
            yield from _tasks(branch["States"])


def test_the_task_token_never_travels_in_the_command_text(pipeline):
    """Item 16: SSM keeps every command's text (ListCommands); the token goes to a SecureString parameter
    named in the command, which the controller reads and deletes."""
    definition = json.loads(ASL.read_text())
    for name, task in _tasks(definition["States"]):
        if "sendCommand" in task["Resource"]:
            assert "Task.Token" not in json.dumps(task["Parameters"]), name
        if task["Resource"].endswith(".waitForTaskToken"):
            assert task["Resource"] == "arn:aws:states:::aws-sdk:ssm:putParameter.waitForTaskToken", name
            assert task["Parameters"]["Type"] == "SecureString" and task["Parameters"]["Value.$"] == "$$.Task.Token"
    arn = create_machine(pipeline, "weekly-token-out-of-history")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    command = next_command(SHELL_RUN, before)
    token = token_of(command)
    history = json.dumps(boto3.client("ssm", region_name="us-east-1").list_commands()["Commands"], default=str)
    assert token not in history and "--config projects/predictor.env" in command_text(command)
    boto3.client("stepfunctions", region_name="us-east-1").send_task_success(taskToken=token, output="{}")
    assert wait_done(execution)["status"] == "SUCCEEDED"


def run_spot(parameter: str, repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}, **env,
            "NO_COLOR": "1", "PREFLIGHT_IMAGE_DIR": str(ROOT / ".preflight" / "test-image"),
            "SFN_TASK_TOKEN_PARAMETER": parameter}
    return subprocess.run(spot_argv(repo, "--preflight-only", *args), env=full,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("stale, expected", [(False, "SUCCEEDED"), (True, "FAILED")])
def test_sfn_task_token_end_to_end_on_local_transport(pipeline, local_repo, stale, expected):
    import sys

    arn = create_machine(pipeline, f"weekly-token-{stale}")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    command = next_command(SHELL_RUN, before)
    token_of(command)  # written by the waiting state
    parameter = PARAMETER.search(command_text(command)).group(1)
    seed = [sys.executable, "-m", "preflight", "demo-seed", "--config", str(local_repo / DEMO_CONFIG)]
    subprocess.run(seed + (["--stale", "ES:3d"] if stale else []), cwd=local_repo, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(local_repo)})
    out = run_spot(parameter, local_repo, {"SFN_HEARTBEAT_SECONDS": "1"}, "--run-id", f"sfn-{stale}")
    assert out.returncode == (1 if stale else 0), out.stderr[-3000:]
    done = wait_done(execution)
    assert done["status"] == expected
    ssm = boto3.client("ssm", region_name="us-east-1")
    assert ssm.get_parameters(Names=[parameter])["InvalidParameters"] == [parameter], "the controller deletes it"
    if stale:
        assert history_errors(execution) == ["Preflight.ChecksFailed"]
        # Item 19: the cause (the SNS message) names each failing check with its remediation, the failing
        # step's last lines and where the results are, not only next_action.
        cause = _cause(execution)
        (failure,) = [f for f in cause["failures"] if f["id"] == "arcticdb.freshness"]
        assert "ES" in failure["message"] and failure["remediation"]
        assert cause["failed_step"]["step"] == "probe" and cause["failed_step"]["last_lines"]
        assert cause["results"].endswith("artifacts/preflight/predictor/sfn-True")
    else:
        output = json.loads(done["output"])
        assert output["status"] == "READY" and output["next_action"] == "proceed"
        assert output["checks_summary"]["failed"] == 0 and output["run_id"] == "sfn-False"


def _cause(execution_arn: str) -> dict:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    (failed,) = [e for e in events if e["type"] == "TaskFailed"
                 and "waitForTaskToken" in e["taskFailedEventDetails"].get("resource", "")]
    return json.loads(failed["taskFailedEventDetails"]["cause"])


def test_an_early_exit_reports_its_reason(pipeline, local_repo):
    """Item 7: a usage error, before any run exists, still says why (the SNS cause read "reason": null)."""
    arn = create_machine(pipeline, "weekly-early-exit")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    command = next_command(SHELL_RUN, before)
    token_of(command)
    out = run_spot(PARAMETER.search(command_text(command)).group(1), local_repo, {}, "--no-such-flag")
    assert out.returncode == 2 and wait_done(execution)["status"] == "FAILED"
    assert history_errors(execution) == ["Preflight.Usage"]
    assert "unknown flag: --no-such-flag" in _cause(execution)["reason"]



def test_a_stale_token_is_cleared_before_the_command_is_sent(pipeline):
    """An attempt whose command never ran leaves its token in the parameter; the next attempt's command
    must never read it (it would report to a dead task, and the live one would wait for its timeout).
    moto runs the waiting state too quickly after the command for the race to show, so the order is
    checked in the definition as well: every branch deletes the parameter, then sends, then waits."""
    import uuid

    states = json.loads(ASL.read_text())["States"]
    for parallel in (states["Preflight"], states["Train"], states["PreflightModules"]["ItemProcessor"]["States"]
                     ["PreflightModule"], states["TrainModules"]["ItemProcessor"]["States"]["TrainModule"]):
        (branch,) = parallel["Branches"]
        first = branch["States"][branch["StartAt"]]
        then = branch["States"][first["Next"]]
        assert first["Resource"].endswith(":ssm:deleteParameter")
        assert first["Parameters"] == {"Name.$": "$.token_parameter"}
        assert first["Catch"][0]["Next"] == first["Next"] and then["Resource"].endswith(":ssm:sendCommand")
        assert branch["States"][then["Next"]]["Resource"].endswith(":ssm:putParameter.waitForTaskToken")

    arn = create_machine(pipeline, "weekly-stale-token")
    name = str(uuid.uuid4())
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name=f"/spot-preflight/task-token/{name}", Value="stale-token-of-an-earlier-attempt",
                      Type="SecureString", Overwrite=True)
    before = len(commands(SHELL_RUN))
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"shell_run": True}),
                                    name=name)["executionArn"]
    token = token_of(next_command(SHELL_RUN, before))
    assert token != "stale-token-of-an-earlier-attempt"
    sfn.send_task_success(taskToken=token, output="{}")
    assert wait_done(execution)["status"] == "SUCCEEDED"
