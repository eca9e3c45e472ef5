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

from tests.conftest import ROOT
from tests.test_stepfunctions import (  # noqa: F401  (pipeline is a fixture)
    SHELL_RUN,
    TOKEN,
    TRAINING,
    command_text,
    commands,
    create_machine,
    next_command,
    pipeline,
    start,
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
        text = command_text(next_command(comment, before + n))
        found[base64.b64decode(CONFIG.search(text).group(1)).decode()] = TOKEN.search(text).group(1)
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
    name = "odd $(touch PWNED) 'name'.env"
    text = (local_repo / "workflow.env").read_text().replace("PROJECT_NAME=predictor", "PROJECT_NAME=odd")
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
    """The Map's tasks nest their deadlines exactly as Preflight and Train do (tests/test_deadlines.py)."""
    from tests.test_stepfunctions import ASL

    states = json.loads(ASL.read_text())["States"]
    for single, fleet, inner in (("Preflight", "PreflightModules", "PreflightModule"),
                                 ("Train", "TrainModules", "TrainModule")):
        task = states[fleet]["ItemProcessor"]["States"][inner]
        for key in ("TimeoutSeconds", "HeartbeatSeconds", "Retry", "Resource"):
            assert task[key] == states[single][key], (inner, key)
        for key in ("TimeoutSeconds", "DocumentName", "InstanceIds"):
            assert task["Parameters"][key] == states[single]["Parameters"][key], (inner, key)
        assert task["Parameters"]["Parameters"]["executionTimeout"] == \
            states[single]["Parameters"]["Parameters"]["executionTimeout"]
        assert states[fleet]["MaxConcurrencyPath"] == "$.run.max_concurrency"
