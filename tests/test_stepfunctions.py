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

from tests.conftest import ROOT

ASL = ROOT / "infra_scripts" / "stepfunctions" / "weekly_training.asl.json"
TOKEN = re.compile(r"export SFN_TASK_TOKEN=(\S+)")
SHELL_RUN = "spot-preflight friday shell-run"
TRAINING = "spot-preflight weekly training"


@pytest.fixture(scope="module")
def pipeline(aws_env_module) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    controller = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="pipeline-notify")["TopicArn"]
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
                       "NotifyTopicArn": pipeline["topic"]}.items():
        text = text.replace("${" + key + "}", value)
    definition = json.loads(text)
    if retry_interval is not None:  # the shipped 300 s interval, shortened so the test stays quick
        for state in ("Preflight", "Train"):
            definition["States"][state]["Retry"][0]["IntervalSeconds"] = retry_interval
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
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]


def command_text(command: dict) -> str:
    return "\n".join(command["Parameters"]["commands"])


def history_errors(execution_arn: str) -> list[str]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]


def test_shell_run_true_always_runs_preflight_only_and_success_completes(pipeline):
    arn = create_machine(pipeline, "weekly-1")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    text = command_text(next_command(SHELL_RUN, before))
    assert "spot_train.sh --preflight-only" in text and "--require-preflight" not in text
    summary = {"status": "READY", "run_id": "r1", "checks_summary": {"total": 1}, "next_action": "proceed"}
    sfn.send_task_success(taskToken=TOKEN.search(text).group(1), output=json.dumps(summary))
    done = wait_done(execution)
    assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == summary


@pytest.mark.parametrize("payload", [{"shell_run": False}, {}, {"other": 1}])
def test_not_a_shell_run_runs_gated_training(pipeline, payload):
    name = f"weekly-train-{len(payload)}-{payload.get('shell_run')}"
    arn = create_machine(pipeline, name)
    before = len(commands(TRAINING))
    execution = start(arn, payload)
    text = command_text(next_command(TRAINING, before))
    assert "--require-preflight" in text and "--preflight-only" not in text
    boto3.client("stepfunctions", region_name="us-east-1").send_task_failure(
        taskToken=TOKEN.search(text).group(1), error="Preflight.ArtifactInvalid", cause="test")
    assert wait_done(execution)["status"] == "FAILED"


@pytest.mark.parametrize("error", ["Preflight.ChecksFailed", "Preflight.StepFailed", "Preflight.ArtifactInvalid",
                                   "Preflight.Usage"])
def test_non_retryable_failures_are_caught_and_notified(pipeline, error):
    arn = create_machine(pipeline, f"weekly-{error.split('.')[1]}")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    command = next_command(SHELL_RUN, before)
    boto3.client("stepfunctions", region_name="us-east-1").send_task_failure(
        taskToken=TOKEN.search(command_text(command)).group(1), error=error, cause="{}")
    done = wait_done(execution)
    assert done["status"] == "FAILED" and done.get("error") == "Pipeline.NotReady"
    assert history_errors(execution) == [error]  # no retry


@pytest.mark.parametrize("error", ["Preflight.NoCapacity", "Preflight.Unreachable"])
def test_capacity_and_unreachable_are_retried_then_caught(pipeline, error):
    arn = create_machine(pipeline, f"weekly-retry-{error.split('.')[1]}", retry_interval=1)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    for attempt in range(3):  # the first try and MaxAttempts=2 retries, each a new command and token
        command = next_command(SHELL_RUN, before + attempt)
        sfn.send_task_failure(taskToken=TOKEN.search(command_text(command)).group(1), error=error, cause="{}")
    done = wait_done(execution, timeout=60)
    assert done["status"] == "FAILED" and history_errors(execution) == [error] * 3


def run_spot(token: str, repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}, **env,
            "NO_COLOR": "1", "PREFLIGHT_IMAGE_DIR": str(ROOT / ".preflight" / "test-image")}
    return subprocess.run([str(repo / "infra_scripts" / "spot_train.sh"), "--preflight-only", "--sfn-task-token",
                           token, *args], env=full, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("stale, expected", [(False, "SUCCEEDED"), (True, "FAILED")])
def test_sfn_task_token_end_to_end_on_local_transport(pipeline, local_repo, stale, expected):
    import sys

    arn = create_machine(pipeline, f"weekly-token-{stale}")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True})
    token = TOKEN.search(command_text(next_command(SHELL_RUN, before))).group(1)
    seed = [sys.executable, "-m", "preflight", "demo-seed", "--config", str(local_repo / "workflow.env")]
    subprocess.run(seed + (["--stale", "ES:3d"] if stale else []), cwd=local_repo, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(local_repo)})
    out = run_spot(token, local_repo, {"SFN_HEARTBEAT_SECONDS": "1"}, "--run-id", f"sfn-{stale}")
    assert out.returncode == (1 if stale else 0), out.stderr[-3000:]
    done = wait_done(execution)
    assert done["status"] == expected
    if stale:
        assert history_errors(execution) == ["Preflight.ChecksFailed"]
    else:
        output = json.loads(done["output"])
        assert output["status"] == "READY" and output["next_action"] == "proceed"
        assert output["checks_summary"]["failed"] == 0 and output["run_id"] == "sfn-False"
