"""Issue 24: the weekly ASL with "modules" — a Map of one Preflight (Friday) or Train (Saturday) task per
module, each catching its own typed error, then one summary and one SNS message; run in moto's Step Functions."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from tests.conftest import DEMO_CONFIG, ROOT
from tests.test_stepfunctions import (  # noqa: F401  (pipeline is a fixture)
    SHELL_RUN,
    TRAINING,
    command_text,
    commands,
    create_machine,
    next_command,
    pipeline,
    start,
    token_of,
    wait_done,
)

CONFIG = re.compile(r"export PREFLIGHT_MODULE_CONFIG_B64=(\S+)")


@pytest.fixture(scope="module")
def inbox(pipeline) -> str:  # noqa: F811
    """An SQS queue subscribed to the pipeline's topic: the SNS messages the pipeline sent."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="pipeline-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name="us-east-1").subscribe(TopicArn=pipeline["topic"], Protocol="sqs", Endpoint=arn,
                                                           Attributes={"RawMessageDelivery": "true"})
    return url


def messages(url: str, count: int, timeout: float = 30) -> list[str]:
    sqs, got, deadline = boto3.client("sqs", region_name="us-east-1"), [], time.monotonic() + timeout
    while len(got) < count:
        assert time.monotonic() < deadline, f"{len(got)} of {count} SNS messages arrived"
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            got.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def sent(comment: str, before: int, count: int) -> dict[str, str]:
    """config → task token of the next `count` commands with this comment."""
    found = {}
    for n in range(count):
        command = next_command(comment, before + n)
        assert "SFN_TASK_TOKEN=" not in command_text(command), "the task token must stay out of SSM's command history"
        found[base64.b64decode(CONFIG.search(command_text(command)).group(1)).decode()] = token_of(command)
    return found


def test_friday_map_runs_each_module_bounded_and_reports_every_one(pipeline, inbox):  # noqa: F811
    arn = create_machine(pipeline, "weekly-modules-friday")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(SHELL_RUN))
    modules = ["alpha.env", "beta.env", "gamma.env"]
    execution = start(arn, {"shell_run": True, "modules": modules, "max_concurrency": 2})
    first = sent(SHELL_RUN, before, 2)
    assert len(commands(SHELL_RUN)) == before + 2  # the third waits for a free slot
    for text in (command_text(c) for c in commands(SHELL_RUN)[before:]):
        assert "spot_train.sh --preflight-only --transport ssm --config" in text and "--require-preflight" not in text
    ready = {"status": "READY", "run_id": "r-a", "checks_summary": {"total": 1}, "next_action": "proceed"}
    config, token = next(iter(first.items()))
    sfn.send_task_success(taskToken=token, output=json.dumps(ready))
    third = sent(SHELL_RUN, before + 2, 1)
    assert set(first) | set(third) == set(modules)
    rest = {k: v for k, v in {**first, **third}.items() if k != config}
    failing, succeeding = sorted(rest)
    sfn.send_task_failure(taskToken=rest[failing], error="Preflight.ChecksFailed",
                          cause=json.dumps({"next_action": "arcticdb.freshness: rerun the ingestion"}))
    sfn.send_task_success(taskToken=rest[succeeding], output=json.dumps({**ready, "run_id": "r-c"}))
    done = wait_done(execution)
    assert done["status"] == "FAILED" and done["error"] == "Pipeline.NotReady"
    (message,) = messages(inbox, 1)
    assert "3 modules, any not ready: true" in message
    rows = json.loads(message.split("one line each: ", 1)[1])
    assert len(rows) == 3 and f"{config}: READY, run r-a" in rows
    # Real AWS hands the Catch {"Error", "Cause"}; moto keeps the error and drops SendTaskFailure's cause (null).
    assert any(r.startswith(f"{failing}: Preflight.ChecksFailed: ") for r in rows), rows


def test_every_module_ready_succeeds_and_still_sends_one_message(pipeline, inbox):  # noqa: F811
    arn = create_machine(pipeline, "weekly-modules-ready")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True, "modules": ["only.env"]})  # max_concurrency defaults to 4
    (token,) = sent(SHELL_RUN, before, 1).values()
    sfn.send_task_success(taskToken=token, output=json.dumps({"status": "READY", "run_id": "r1"}))
    done = wait_done(execution)
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert output["any_not_ready"] is False and output["table"] == ["only.env: READY, run r1"]
    assert "any not ready: false" in messages(inbox, 1)[0]


def test_saturday_map_trains_the_verified_and_skips_and_reports_the_others(pipeline, inbox):  # noqa: F811
    arn = create_machine(pipeline, "weekly-modules-saturday")
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    before = len(commands(TRAINING))
    execution = start(arn, {"modules": ["fresh.env", "stale.env"]})
    tokens = sent(TRAINING, before, 2)
    for text in (command_text(c) for c in commands(TRAINING)[before:]):
        assert "--require-preflight latest-ready" in text and "--preflight-only" not in text
    sfn.send_task_success(taskToken=tokens["fresh.env"], output=json.dumps({"status": "DONE", "run_id": "t1"}))
    sfn.send_task_failure(taskToken=tokens["stale.env"], error="Preflight.ArtifactInvalid",
                          cause=json.dumps({"reason": "stale"}))
    done = wait_done(execution)
    assert done["status"] == "FAILED" and done["error"] == "Pipeline.NotReady"
    rows = json.loads(messages(inbox, 1)[0].split("one line each: ", 1)[1])
    assert rows[0] == "fresh.env: TRAINED, run t1"
    assert rows[1].startswith("stale.env: SKIPPED, its latest-ready does not verify")


def test_an_empty_module_list_is_refused(pipeline):  # noqa: F811
    done = wait_done(start(create_machine(pipeline, "weekly-modules-empty"), {"shell_run": True, "modules": []}))
    assert done["status"] == "FAILED" and done["error"] == "Pipeline.NoModules"


def test_the_module_command_runs_one_config_whatever_its_name(pipeline, local_repo, tmp_path: Path):  # noqa: F811
    """The iteration's real command text, run by bash as the controller would (on the local transport): the
    config path reaches spot_train.sh as one word and is never read as shell."""
    arn = create_machine(pipeline, "weekly-modules-command")
    name = f"{DEMO_CONFIG.parent}/odd $(touch PWNED) 'name'.env"  # beside the demo's: its relative paths hold
    text = (local_repo / DEMO_CONFIG).read_text().replace("PROJECT_NAME=predictor", "PROJECT_NAME=odd")
    (local_repo / name).write_text(text)
    subprocess.run([os.sys.executable, "-m", "preflight", "demo-seed", "--config", name], cwd=local_repo, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(local_repo)})
    before = len(commands(SHELL_RUN))
    execution = start(arn, {"shell_run": True, "modules": [name]})
    lines = next_command(SHELL_RUN, before)["Parameters"]["commands"]
    script = "\n".join(lines).replace("cd /opt/repo", f"cd '{local_repo}'")
    script = script.replace("--transport ssm", "--transport local")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PREFLIGHT_")}, "NO_COLOR": "1",
           "PREFLIGHT_IMAGE_DIR": str(ROOT / ".preflight" / "test-image")}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"config {local_repo / name}" in out.stderr and not (local_repo / "PWNED").exists()
    done = wait_done(execution)
    assert done["status"] == "SUCCEEDED", done
    assert json.loads(done["output"])["table"][0].startswith(f"{name}: READY, run ")


def test_each_module_task_keeps_the_single_tasks_deadlines_and_retries():
    """The Map's tasks nest their deadlines and keep the token out of the command exactly as Preflight and
    Train do (tests/test_deadlines.py): the same retries, the same two tasks with the same limits."""
    from tests.test_stepfunctions import ASL

    states = json.loads(ASL.read_text())["States"]

    def tasks(parallel: dict) -> dict[str, dict]:
        (only,) = parallel["Branches"]
        return {task["Resource"]: task for task in only["States"].values()}

    for single, fleet, inner in (("Preflight", "PreflightModules", "PreflightModule"),
                                 ("Train", "TrainModules", "TrainModule")):
        module = states[fleet]["ItemProcessor"]["States"][inner]
        assert module["Type"] == states[single]["Type"] == "Parallel" and module["Retry"] == states[single]["Retry"]
        mine, theirs = tasks(module), tasks(states[single])
        assert mine.keys() == theirs.keys(), inner
        for resource, task in mine.items():
            for key in ("TimeoutSeconds", "HeartbeatSeconds"):
                assert task.get(key) == theirs[resource].get(key), (inner, resource, key)
            if resource.endswith(":ssm:sendCommand"):
                for key in ("TimeoutSeconds", "DocumentName", "InstanceIds"):
                    assert task["Parameters"][key] == theirs[resource]["Parameters"][key], (inner, key)
                assert task["Parameters"]["Parameters"]["executionTimeout"] == \
                    theirs[resource]["Parameters"]["Parameters"]["executionTimeout"]
            else:
                assert task["Parameters"] == {**theirs[resource]["Parameters"]}, (inner, resource)
        assert states[fleet]["ItemSelector"]["token_parameter.$"].startswith("States.Format('{}/{}', $.token_parameter")
        assert states[fleet]["MaxConcurrencyPath"] == "$.run.max_concurrency"


@pytest.mark.parametrize("schedule, shell_run", [("FridayShellRun", True), ("SaturdayTraining", False)])
def test_the_schedules_pass_the_stacks_modules(schedule: str, shell_run: bool):
    """The template's Modules parameter reaches both schedules' input, as JSON the state machine reads; without
    it, the single-project input is unchanged."""
    from tests import iam_offline as iam

    params = {"ControllerInstanceId": "i-1", "ControllerRoleName": "r", "DefinitionBucket": "d", "DataBucketName": "b"}

    def schedule_input(**extra: str) -> dict:
        stack = iam.Stack(parameters={**params, **extra})
        return json.loads(stack.resources("AWS::Scheduler::Schedule")[schedule]["Target"]["Input"])

    assert schedule_input() == {"shell_run": shell_run}
    given = schedule_input(Modules="modules/alpha.env,modules/beta gamma.env", MaxConcurrency="2")
    assert given == {"shell_run": shell_run, "max_concurrency": 2,
                     "modules": ["modules/alpha.env", "modules/beta gamma.env"]}


def test_a_scheduled_modules_input_runs_the_map(pipeline):  # noqa: F811
    """What the Friday schedule sends (the template resolved) starts one command per module in moto's Step Functions."""
    from tests import iam_offline as iam

    stack = iam.Stack(parameters={"ControllerInstanceId": "i-1", "ControllerRoleName": "r", "DefinitionBucket": "d",
                                  "DataBucketName": "b", "Modules": "one.env,two.env"})
    payload = json.loads(stack.resources("AWS::Scheduler::Schedule")["FridayShellRun"]["Target"]["Input"])
    arn = create_machine(pipeline, "weekly-modules-scheduled")
    before = len(commands(SHELL_RUN))
    execution = start(arn, payload)
    tokens = sent(SHELL_RUN, before, 2)
    assert set(tokens) == {"one.env", "two.env"}
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    for config, token in tokens.items():
        sfn.send_task_success(taskToken=token, output=json.dumps({"status": "READY", "run_id": config}))
    assert wait_done(execution)["status"] == "SUCCEEDED"
