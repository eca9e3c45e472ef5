"""`spot_train.sh --transport ssm` end to end against the moto server and its SSM agent emulator."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import boto3
import pytest

from tests.conftest import FAKE_AWS, ROOT, spot_argv
from tests.ssm_support import (
    all_objects,
    instances,
    live_instances,
    pairs_file,
    running,
    slow_python,
    spot,
    ssm_env,
    wait_for,
)


@pytest.fixture(autouse=True)
def default_emulator(world, moto_harness):
    moto_harness.reset()
    yield
    assert live_instances() == {}, "an ssm path left an instance pending or running"


def cold_host(directory: Path) -> Path:
    """A REMOTE_WORK_DIR as on a first boot (no uv, no venv) whose download caches are the shared warm
    host's: everything is installed again, from files already downloaded."""
    shared = ROOT / ".preflight" / "test-ssm-host" / "image" / "cache"
    (directory / "image" / "cache").mkdir(parents=True)
    for cache in ("pip", "uv"):
        (shared / cache).mkdir(parents=True, exist_ok=True)
        (directory / "image" / "cache" / cache).symlink_to(shared / cache)
    return directory


def test_preflight_only_ready_terminated_no_training_no_writes(world, moto_harness, tmp_path: Path):
    moto_harness.configure(missing_invocation_polls=2)  # InvocationDoesNotExist for the first polls
    before = all_objects()
    # Issue 22 item 6: a secret read on the host from SSM Parameter Store with the instance role.
    secret = "5ec7e7ssm0123456789abcdef0123456789abcd"
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/team/wandb", Value=secret,
                                                               Type="SecureString", Overwrite=True)
    # One from Secrets Manager, by its ARN, as SECRETS names it (the template grants exactly that ARN).
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    try:
        comet = sm.create_secret(Name="comet-key", SecretString="comet_secret_value_for_tests_only")["ARN"]
    except sm.exceptions.ResourceExistsException:
        comet = sm.describe_secret(SecretId="comet-key")["ARN"]
    # And one given the container way: PASS_ENV HF_TOKEN_FILE names a file on the host (a path, not a secret).
    hf_token = tmp_path / "hf-token"
    hf_token.write_text("hf_host_file_token_for_tests_only\n")
    # A first boot every time: no uv on the system PATH nor in the image, so bootstrap pip-installs the
    # pinned uv into the image (auto) and deps builds the project venv with it.
    host = cold_host(tmp_path / "cold-host")
    out = spot(world, "--preflight-only", "--run-id", "ssm-ready", PROJECT_NAME="ssm-uv", REMOTE_WORK_DIR=str(host),
               SECRETS=f"WANDB_API_KEY=ssm:/team/wandb,COMET_API_KEY=secretsmanager:{comet}",
               PREFLIGHT_REQUIRED_ENV="AWS_REGION,WANDB_API_KEY,HF_TOKEN,COMET_API_KEY",
               PASS_ENV="AWS_ENDPOINT_URL,AWS_SHARED_CREDENTIALS_FILE,AWS_EC2_METADATA_DISABLED,HF_TOKEN_FILE",
               HF_TOKEN_FILE=str(hf_token))
    assert out.returncode == 0, out.stderr[-4000:]
    results = world["repo"] / "artifacts" / "preflight" / "ssm-uv" / "ssm-ready"
    logs = results / "logs"
    bootstrap = (logs / "bootstrap.log").read_text()
    assert "deps installer uv " in bootstrap and f" at {host}/image/tools/uv/bin/uv" in bootstrap
    assert (host / "image" / "tools" / "uv" / ".preflight-venv-complete").is_file()
    assert "with uv" in (logs / "deps.log").read_text()
    assert "WANDB_API_KEY, COMET_API_KEY, HF_TOKEN resolved into the step environment" in bootstrap
    for value in (secret, "hf_host_file_token", "comet_secret_value"):
        assert value not in out.stdout + out.stderr
        assert not any(value.encode() in p.read_bytes() for p in results.rglob("*") if p.is_file())
    artifact = results / "preflight-readiness.json"
    assert '"status": "READY"' in artifact.read_text()
    checks = {c["id"]: c for c in json.loads(artifact.read_text())["checks"]}  # the lint seed came with the payload
    assert checks["entrypoint"]["details"]["files_parsed"] == 0 and checks["lint"]["details"]["parsed"] == 0
    assert set(instances("ssm-ready").values()) == {"terminated"}
    assert not list(host.rglob("*.ran"))
    assert all_objects() == before
    assert "instance-seconds" in out.stderr
    record = json.loads((results / "run.json").read_text())
    assert record["plan"] == "ok" and (record["exit_code"], record["status"]) == (0, "READY")
    # What SSM keeps of every command (ListCommands) holds no credential: the host used its "role".
    history = boto3.client("ssm", region_name="us-east-1").list_commands()["Commands"]
    assert history and not any(FAKE_AWS["AWS_SECRET_ACCESS_KEY"] in json.dumps(c["Parameters"]) for c in history)
    assert not any(secret in json.dumps(c["Parameters"]) for c in history)


def test_credentials_in_pass_env_are_refused_before_launch(world, moto_harness):
    out = spot(world, "--preflight-only", "--run-id", "ssm-secret-env",
               PASS_ENV="AWS_ENDPOINT_URL,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY")
    assert out.returncode == 2 and "PASS_ENV names AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in out.stderr
    assert "instance role" in out.stderr and instances("ssm-secret-env") == {}


def test_capacity_fallback_third_candidate_launches(world, moto_harness, tmp_path: Path, capsys):
    from preflight.aws.__main__ import main

    moto_harness.configure(launch_errors={"t3.micro": "InsufficientInstanceCapacity"})
    pairs = pairs_file(world, tmp_path)
    assert main(["launch", "--env-file", str(pairs), "--run-id", "ssm-capacity", "--mode", "preflight-only"]) == 0
    assert capsys.readouterr().err.count("InsufficientInstanceCapacity, trying the next candidate") == 2
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (instance,) = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:RunId", "Values": ["ssm-capacity"]}])
                   ["Reservations"] for i in r["Instances"]]
    assert (instance["InstanceType"], instance["SubnetId"]) == ("t3.small", world["subnets"][0])
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


def test_all_candidates_out_of_capacity_exit_3_nothing_running(world, moto_harness):
    moto_harness.configure(launch_errors={"t3.micro": "InsufficientInstanceCapacity",
                                            "t3.small": "SpotMaxPriceTooLow"})
    out = spot(world, "--preflight-only", "--run-id", "ssm-nocap")
    assert out.returncode == 3
    for attempt in ("t3.micro in", "t3.small in"):
        assert attempt in out.stderr
    assert instances("ssm-nocap") == {}


def test_never_online_exit_4_terminated(world, moto_harness):
    moto_harness.configure(never_online=True)
    out = spot(world, "--preflight-only", "--run-id", "ssm-offline", SSM_ONLINE_TIMEOUT_SECONDS="3")
    assert out.returncode == 4, out.stderr[-2000:]
    assert "not Online in SSM" in out.stderr
    assert set(instances("ssm-offline").values()) == {"terminated"}


def test_bootstrap_failure_exit_5_with_log_tail(world):
    out = spot(world, "--preflight-only", "--run-id", "ssm-bootfail", REPO_URL="file:///nonexistent/repo.git")
    assert out.returncode == 5
    assert "bootstrap … failed" in out.stderr and "last 40 lines" in out.stderr and "nonexistent" in out.stderr
    assert set(instances("ssm-bootfail").values()) == {"terminated"}


def test_step_past_its_timeout_exit_5(world, tmp_path: Path):
    python, sleeping = slow_python(tmp_path, 3023)
    out = spot(world, "--preflight-only", "--run-id", "ssm-timeout", PYTHON=python, BOOTSTRAP_TIMEOUT_SECONDS="2",
               REMOTE_WORK_DIR=str(tmp_path / "cold-host"))
    assert out.returncode == 5, out.stderr[-2000:]
    assert "bootstrap … timed out after 2s" in out.stderr and "TimedOut (ExecutionTimedOut)" in out.stderr
    assert set(instances("ssm-timeout").values()) == {"terminated"}
    assert not running(sleeping)


def test_sigterm_mid_step_terminates_exit_143(world, tmp_path: Path):
    python, sleeping = slow_python(tmp_path, 3029)
    env = ssm_env(world, PYTHON=python, REMOTE_WORK_DIR=str(tmp_path / "cold-host"))
    proc = subprocess.Popen(spot_argv(world["repo"], "--preflight-only", "--run-id", "ssm-term"), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: running(sleeping) or proc.poll() is not None, 60, "bootstrap to start")
    assert proc.poll() is None, "the run ended before bootstrap started"
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert set(instances("ssm-term").values()) == {"terminated"}
    # The emulator notices the termination on its next 50 ms poll and kills the step.
    wait_for(lambda: not running(sleeping), 30, "the step's processes to be killed with the instance")


def test_output_over_24000_chars_still_recovers_the_artifact(world, tmp_path: Path):
    project = tmp_path / "noisy-project"
    shutil.copytree(world["repo"] / "examples" / "predictor", project)
    # A project sitecustomize that prints 30,000 characters whenever Python starts, the probe's own
    # process included (import-time noise of PREFLIGHT_IMPORTS stays in the imports child's log):
    # SSM keeps only the first 24,000 characters of the probe step's output.
    (project / "src" / "sitecustomize.py").write_text("for _ in range(300):\n    print('y' * 99)\n")
    out = spot(world, "--preflight-only", "--run-id", "ssm-noisy", REPO_DIR=str(project))
    assert out.returncode == 0, out.stderr[-3000:]
    assert "fetching the artifact file from the host" in out.stderr
    artifact = world["repo"] / "artifacts" / "preflight" / "predictor" / "ssm-noisy" / "preflight-readiness.json"
    assert '"status": "READY"' in artifact.read_text()
    checks = {c["id"]: c for c in json.loads(artifact.read_text())["checks"]}  # the lint seed came with the payload
    assert checks["entrypoint"]["details"]["files_parsed"] == 0 and checks["lint"]["details"]["parsed"] == 0


def test_keep_leaves_it_running_and_instance_id_never_terminates(world):
    kept = spot(world, "--preflight-only", "--run-id", "ssm-keep", "--keep")
    assert kept.returncode == 0, kept.stderr[-2000:]
    (instance_id,) = instances("ssm-keep")
    assert instances("ssm-keep")[instance_id] == "running"
    assert f"--instance-id {instance_id}" in kept.stderr  # the exact command to terminate it
    # Attached, the run never terminates the instance, even when it fails (deps, on purpose, fast).
    attached = spot(world, "--preflight-only", "--run-id", "ssm-attach", "--instance-id", instance_id,
                    REQUIREMENTS_FILE="absent.txt")
    assert attached.returncode == 5 and "leaving attached instance" in attached.stderr, attached.stderr[-2000:]
    assert instances("ssm-keep")[instance_id] == "running"
    boto3.client("ec2", region_name="us-east-1").terminate_instances(InstanceIds=[instance_id])
