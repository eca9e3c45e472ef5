"""The ssm path against the AWS that moto alone does not model (see tests/harness/ssm_agent.py).

Every test ends with no spot-preflight instance pending or running (the autouse fixture checks),
including the launcher that is SIGKILLed and the teardown whose terminate keeps answering NotFound:
there the instance-side watchdog is what ends the instance, and the test waits for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from preflight.aws import ec2_launch, ssm_command, ssm_poll, ssm_run
from preflight.aws.clients import client
from preflight.aws.ec2_terminate import terminate
from tests.conftest import ROOT, need_python39, python39, spot_argv
from tests.ssm_support import instances, live_instances, pairs_file, running, slow_python, spot, ssm_env, wait_for

# Small budgets so that a watchdog (which must outlast the longest budget plus teardown) fires in seconds.
SHORT = {"RUN_BUDGET_SECONDS": "10", "TRAIN_RUN_BUDGET_SECONDS": "10", "BOOTSTRAP_TIMEOUT_SECONDS": "8",
         "DEPS_TIMEOUT_SECONDS": "8", "PROBE_TIMEOUT_SECONDS": "8", "SMOKE_TIMEOUT_SECONDS": "8",
         "TRAIN_TIMEOUT_SECONDS": "8", "PROBE_DEADLINE_SECONDS": "5", "TEARDOWN_TIMEOUT_SECONDS": "3",
         "MAX_RUNTIME_SECONDS": "14"}


@pytest.fixture(autouse=True)
def clean_world(world, moto_harness):
    moto_harness.reset()
    yield
    assert live_instances() == {}, "an ssm path left an instance pending or running"


def ec2():
    return boto3.client("ec2", region_name="us-east-1")


def ssm():
    return boto3.client("ssm", region_name="us-east-1")


def spec(world: dict, **changes: object) -> ec2_launch.LaunchSpec:
    base = {"ami": world["ami"], "instance_types": ["t3.micro", "t3.small"], "subnets": world["subnets"][:2],
            "security_groups": [], "instance_profile": "spot-preflight-instance", "root_volume_gb": 50,
            "max_runtime_s": 3600, "spot_max_price": "", "tags": {"Project": "spot-preflight", "RunId": "faults"}}
    return ec2_launch.LaunchSpec(**{**base, **changes})


def started_instance(world: dict) -> str:
    instance_id, _, _ = ec2_launch.launch(ec2(), spec(world), say=lambda _line: None)
    return instance_id


# --- 1. the watchdog ---------------------------------------------------------------------------------
def test_watchdog_user_data_is_a_plain_script(world, moto_harness):
    instance_id = started_instance(world)
    delivered = (moto_harness.hosts_root / instance_id / "user-data").read_text()
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert delivered.startswith("#!/bin/bash\n"), f"cloud-init would skip this user data: {delivered[:60]!r}"
    assert "--on-active=3600s" in delivered


def test_launcher_sigkilled_watchdog_terminates(world, moto_harness, tmp_path: Path):
    moto_harness.configure(hold_power_off=True)  # however slow the start, the watchdog acts after the kill
    python, sleeping = slow_python(tmp_path, 3041)
    env = ssm_env(world, PYTHON=python, REMOTE_WORK_DIR=str(tmp_path / "cold-host"), **SHORT)
    proc = subprocess.Popen(spot_argv(world["repo"], "--preflight-only", "--run-id", "ssm-sigkill"), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    wait_for(lambda: running(sleeping), 60, "bootstrap to start")
    os.killpg(proc.pid, signal.SIGKILL)  # no trap runs: the launcher cannot terminate anything
    proc.wait()
    (instance_id,) = instances("ssm-sigkill")
    assert instances("ssm-sigkill")[instance_id] == "running"
    moto_harness.configure(hold_power_off=False)
    wait_for(lambda: instances("ssm-sigkill")[instance_id] == "terminated", 40, "the watchdog's power-off")


# --- 2. eventual consistency -------------------------------------------------------------------------
def test_not_found_right_after_launch_is_not_yet_visible(world, moto_harness):
    from preflight.aws.ssm_online import wait_online

    moto_harness.configure(not_found_calls=3)
    instance_id = started_instance(world)
    client = ec2()
    not_found: dict[str, int] = {}

    def count(parsed: dict, model, **_kwargs) -> None:
        if parsed.get("Error", {}).get("Code") == "InvalidInstanceID.NotFound":
            not_found[model.name] = not_found.get(model.name, 0) + 1

    client.meta.events.register("after-call.ec2", count)
    try:
        wait_online(client, ssm(), instance_id, 20, say=lambda _line: None)  # no ClientError escapes
    finally:
        terminate(ec2(), [instance_id], deadline_s=30)  # TerminateInstances has its own NotFound answers
    # Both reads of the wait met the not-yet-visible instance: the state, then the status checks.
    assert not_found["DescribeInstances"] == 3 and not_found.get("DescribeInstanceStatus", 0) >= 1, not_found


def test_terminate_retries_not_found_until_a_describe_confirms(world, moto_harness):
    moto_harness.configure(not_found_calls=4)
    instance_id = started_instance(world)
    states = terminate(ec2(), [instance_id], deadline_s=30)
    assert states[instance_id] in ("shutting-down", "terminated")
    assert instances("faults")[instance_id] == "terminated"


def test_terminate_keeps_answering_not_found_exit_7(world, moto_harness):
    # The watchdog waits for the run: on a slow machine its 14 s could otherwise end the instance
    # before the teardown has given up, and the teardown would be confirmed after all.
    moto_harness.configure(terminate_not_found=True, never_online=True, hold_power_off=True)
    out = spot(world, "--preflight-only", "--run-id", "ssm-unconfirmed", "--json", SSM_ONLINE_TIMEOUT_SECONDS="3",
               **SHORT)
    assert out.returncode == 7, out.stderr[-3000:]  # 7 wins over the run's own exit 4
    assert "aws ec2 terminate-instances --region us-east-1 --instance-ids i-" in out.stderr
    summary = json.loads(out.stdout)
    (instance_id,) = instances("ssm-unconfirmed")
    assert summary["status"] == "TEARDOWN_UNCONFIRMED" and "exit 4" in summary["reason"]
    assert instance_id in summary["reason"] and summary["target"] == instance_id  # item 7: exit 7 names it
    moto_harness.configure(hold_power_off=False)
    wait_for(lambda: instances("ssm-unconfirmed")[instance_id] == "terminated", 40, "the watchdog's power-off")


def test_teardown_retries_any_error_until_the_deadline(world, moto_harness):
    """Item 11: throttling on terminate and describe is retried inside the deadline, never a give-up."""
    instance_id = started_instance(world)
    moto_harness.configure(terminate_errors=2, describe_errors=3)
    states = terminate(ec2(), [instance_id], deadline_s=60)
    assert states[instance_id] in ("shutting-down", "terminated")


def test_known_ids_are_terminated_before_the_tag_lookup(world, moto_harness, tmp_path: Path, capsys):
    """Item 11: a tag lookup that fails must not keep a known instance running."""
    from preflight.aws.__main__ import main

    instance_id = started_instance(world)
    moto_harness.configure(describe_errors=4, transient_error="UnauthorizedOperation")
    assert main(["terminate", "--region", "us-east-1", "--run-id", "faults", "--instance-id", instance_id,
                 "--deadline", "60"]) == 0
    assert instances("faults")[instance_id] == "terminated"


def test_without_an_id_the_tag_lookup_repeats(world, moto_harness):
    """Item 11: a launcher that lost the id finds the instance by its RunId tag, looking again while a filter
    may not list it yet."""
    from preflight.aws.__main__ import main

    instance_id = started_instance(world)
    moto_harness.configure(tag_lookup_misses=2)
    assert main(["terminate", "--region", "us-east-1", "--run-id", "faults", "--deadline", "60",
                 "--settle-seconds", "2"]) == 0
    assert instances("faults")[instance_id] == "terminated"


def test_teardown_failure_prints_the_manual_commands(world, moto_harness, capsys):
    """Item 11: every teardown failure (here: no id, and the tag lookup never answers) says how to finish."""
    from preflight.aws.__main__ import main

    instance_id = started_instance(world)
    moto_harness.configure(describe_errors=1000)
    try:
        assert main(["terminate", "--region", "us-east-1", "--run-id", "faults", "--deadline", "2"]) == 7
    finally:
        moto_harness.reset()
        ec2().terminate_instances(InstanceIds=[instance_id])
    err = capsys.readouterr().err
    assert "NOT CONFIRMED" in err and "RequestLimitExceeded" in err
    assert "aws ec2 describe-instances --region us-east-1 --filters Name=tag:RunId,Values=faults" in err


# --- 3. the run budget, and what executionTimeout does -----------------------------------------------
def test_budget_caps_each_step(world, tmp_path: Path):
    # The plan, the launch and the SSM wait take some of the budget, so bootstrap (a second under it)
    # cannot get its full timeout: it is stopped at what was left. 30 s, not 10: on a busy machine
    # (xdist workers, other suites) those waits alone once spent 10 s before bootstrap began.
    budget = {"RUN_BUDGET_SECONDS": "30", "TRAIN_RUN_BUDGET_SECONDS": "30", "BOOTSTRAP_TIMEOUT_SECONDS": "29",
              "SSM_ONLINE_TIMEOUT_SECONDS": "20", "MAX_RUNTIME_SECONDS": "40"}
    out = spot(world, "--preflight-only", "--run-id", "ssm-budget", PYTHON=slow_python(tmp_path, 3047)[0],
               REMOTE_WORK_DIR=str(tmp_path / "cold-host"), **{**SHORT, **budget})
    assert out.returncode == 5, out.stderr[-3000:]
    left = re.search(r"bootstrap … \((\d+)s left of the run budget\)", out.stderr)
    assert left, out.stderr[-3000:]
    assert f"bootstrap … timed out after {left.group(1)}s" in out.stderr, out.stderr[-3000:]
    assert set(instances("ssm-budget").values()) == {"terminated"}


def test_execution_timeout_is_sigkill_no_trap_runs(world, moto_harness):
    instance_id = started_instance(world)
    script = 'trap \'echo trapped > "$HOME/trap-ran"\' EXIT TERM INT\nsleep 30\n'
    command_id = ssm_run.send(ssm(), instance_id, script, step="sigkill", run_id="faults", delivery_s=30,
                              execution_s=1)
    outcome = ssm_poll.poll(ssm(), None, command_id, instance_id, 20, step="sigkill")
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert (outcome.status, outcome.details, outcome.exit_code) == ("TimedOut", "ExecutionTimedOut", 137)
    assert not (moto_harness.hosts_root / instance_id / "trap-ran").exists()


def test_a_step_timeout_below_5s_is_floored_at_5s(world):
    """Item 12: the agent turns an executionTimeout below 5 s into 3600 s; what little budget is left must
    stay little."""
    instance_id = started_instance(world)
    command_id = ssm_run.send(ssm(), instance_id, "exit 0\n", step="short", run_id="faults", delivery_s=30,
                              execution_s=2)
    ssm_poll.poll(ssm(), None, command_id, instance_id, 20, step="short")
    ec2().terminate_instances(InstanceIds=[instance_id])
    (sent,) = [c for c in ssm().list_commands()["Commands"] if c["CommandId"] == command_id]
    assert sent["Parameters"]["executionTimeout"] == ["5"]


# --- 4. command size ---------------------------------------------------------------------------------
def test_bootstrap_payload_over_64k_is_sent_in_pieces(world, tmp_path: Path):

    project = tmp_path / "big-project"
    shutil.copytree(world["repo"] / "examples" / "predictor", project)
    (project / "weights.bin").write_bytes(os.urandom(120_000))  # incompressible: ~160 KB of base64
    # Bootstrap joins, hash-checks and unpacks the pieces; deps then stops the run early on purpose
    # (a missing requirements file), which keeps the test to the part it is about.
    out = spot(world, "--preflight-only", "--run-id", "ssm-big", REPO_DIR=str(project), REQUIREMENTS_FILE="absent.txt")
    assert "payload-3-of-" in out.stderr and "[1/3] bootstrap … ok" in out.stderr, out.stderr[-3000:]
    assert out.returncode == 5 and "requirements file" in out.stderr and "absent.txt not found" in out.stderr
    assert set(instances("ssm-big").values()) == {"terminated"}


def test_every_command_fits_ssm_limit():
    chunks = ssm_command.payload_chunks("A" * 300_000, work_dir="/opt/x", run_id="r")
    assert len(chunks) == 7
    assert all(len(json.dumps({"commands": [c], "executionTimeout": ["60"]})) < 64 * 1024 for c in chunks)


def test_step_command_over_the_limit_is_refused_before_launch(world, moto_harness):
    """Issue 10 item 5: the size is known before launch, so no instance is paid for to learn it."""
    out = spot(world, "--preflight-only", "--run-id", "ssm-oversize", BIG_VALUE="v" * 70_000,
               PASS_ENV=ssm_env(world)["PASS_ENV"] + ",BIG_VALUE")
    assert out.returncode == 2, out.stderr[-2000:]
    assert "over SSM's 64 KB document limit" in out.stderr and "PASS_ENV" in out.stderr
    assert instances("ssm-oversize") == {}


def test_payload_never_ships_vcs_state_venvs_or_data(tmp_path: Path):
    """Item 14: .git, .preflight/, venvs (any name: a pyvenv.cfg) and data directories stay home; a Python
    package called data does not."""
    import base64
    import io
    import tarfile

    project = tmp_path / "project"
    for directory in (".git", ".preflight/image", "env/lib", "data", "src/pkg/data", "checkpoints"):
        (project / directory).mkdir(parents=True)
    (project / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / "data" / "prices.parquet").write_bytes(b"x")
    (project / "checkpoints" / "ckpt.pt").write_bytes(b"x")
    (project / "src" / "pkg" / "data" / "__init__.py").write_text("")
    (project / "train.py").write_text("print(1)\n")
    text = ssm_command.payload(ROOT, project)
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(text)), mode="r:gz") as tar:
        names = tar.getnames()
    assert "project/train.py" in names and "project/src/pkg/data/__init__.py" in names
    shipped = [n for n in names if n.startswith("project/")]
    for never in (".git", ".preflight", "env", "data/prices.parquet", "checkpoints"):
        assert not any(n.startswith(f"project/{never}") for n in shipped), never


def test_a_payload_over_40_pieces_is_refused_before_launch_naming_what_to_leave_out(world, tmp_path: Path, capsys):
    """Item 14: the piece count is measured before launch; over the limit, exit 2 naming the largest entries."""
    from preflight.aws.__main__ import main

    project = tmp_path / "heavy"
    shutil.copytree(world["repo"] / "examples" / "predictor", project)
    (project / "blobs").mkdir()
    (project / "blobs" / "weights.bin").write_bytes(os.urandom(2_600_000))  # incompressible: ~3.5 MB of base64
    pairs = pairs_file(world, tmp_path, REMOTE_WORK_DIR="/opt/x", REPO_URL="")
    try:
        rc = main(["command-size", "--env-file", str(pairs), "--scripts", str(ROOT / "infra_scripts" / "remote"),
                   "--tool-root", str(ROOT), "--project-dir", str(project)])
    except SystemExit as exc:  # an older helper that does not know the flags
        rc = exc.code
    assert rc == 2 and "blobs (2.6 MB)" in capsys.readouterr().err


# --- 5. launch errors and 6. the root volume -----------------------------------------------------------
def test_unsupported_and_full_subnet_move_on(world, moto_harness):
    a, b = world["subnets"][:2]
    moto_harness.configure(launch_errors={f"t3.micro/{a}": "Unsupported",
                                          f"t3.micro/{b}": "InsufficientFreeAddressesInSubnet"})
    instance_id, itype, subnet = ec2_launch.launch(ec2(), spec(world), say=lambda _line: None)
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert (itype, subnet) == ("t3.small", a)


def test_quota_is_not_capacity(world, moto_harness, tmp_path: Path):
    from preflight.aws.__main__ import main

    moto_harness.configure(launch_errors={"t3.micro": "VcpuLimitExceeded", "t3.small": "MaxSpotInstanceCountExceeded"})
    with pytest.raises(ec2_launch.QuotaExceeded, match="Service Quotas"):
        ec2_launch.launch(ec2(), spec(world), say=lambda _line: None)
    pairs = pairs_file(world, tmp_path, EC2_SUBNET_IDS=world["subnets"][0])
    # Item 7: the same class as the plan's quota verdict (configuration, 2), not a step failure.
    assert main(["launch", "--env-file", str(pairs), "--run-id", "quota", "--mode", "preflight-only"]) == 2
    assert instances("quota") == {}


@pytest.mark.parametrize(("configured", "expected"), [(8, 15), (50, 50)])
def test_root_volume_follows_the_ami(world, configured: int, expected: int):
    instance_id = ec2_launch.launch(ec2(), spec(world, root_volume_gb=configured), say=lambda _line: None)[0]
    instance = ec2().describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    devices = {m["DeviceName"]: m["Ebs"]["VolumeId"] for m in instance["BlockDeviceMappings"]}
    sizes = {name: ec2().describe_volumes(VolumeIds=[vid])["Volumes"][0]["Size"] for name, vid in devices.items()}
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert sizes == {"/dev/sda1": expected}  # moto's AMIs: root /dev/sda1, 15 GB snapshot (like Ubuntu's)


# --- 7. spot interruption -----------------------------------------------------------------------------
RECLAIM = "Server.SpotInstanceTermination"


def test_spot_reclaim_mid_step_is_its_own_outcome(world, moto_harness, tmp_path: Path):
    """Item 6: EC2 reclaims the spot host mid-step: exit 8 (Preflight.SpotInterrupted, retried), at once."""
    python, sleeping = slow_python(tmp_path, 3053)
    env = ssm_env(world, PYTHON=python, REMOTE_WORK_DIR=str(tmp_path / "cold-host"))
    proc = subprocess.Popen(spot_argv(world["repo"], "--preflight-only", "--run-id", "ssm-reclaimed"), env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for(lambda: running(sleeping) and instances("ssm-reclaimed"), 60, "bootstrap to start")
    (instance_id,) = instances("ssm-reclaimed")
    moto_harness.end_instance(instance_id, RECLAIM)
    try:
        _out, err = proc.communicate(timeout=60)  # bootstrap's own timeout is 300 s: waiting for it fails here
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.communicate()
    assert proc.returncode == 8, err[-3000:]
    assert f"{RECLAIM}: EC2 reclaimed the spot instance" in err and "reclaimed by EC2 during the bootstrap" in err


def test_reclaim_before_ssm_online_is_not_unreachable(world, moto_harness, tmp_path: Path):
    from preflight.aws.__main__ import main

    moto_harness.configure(never_online=True)
    instance_id = started_instance(world)
    moto_harness.end_instance(instance_id, RECLAIM)
    assert main(["wait-online", "--region", "us-east-1", "--instance-id", instance_id, "--timeout", "20"]) == 8


def test_client_error_after_launch_is_a_launch_problem(world, moto_harness):
    """Item 6: an instance that ends at launch with Client.* (KMS key, EBS limit) is exit 5, not unreachable (4,
    which Step Functions would retry in vain)."""
    moto_harness.configure(boot_failure="Client.VolumeLimitExceeded")
    out = spot(world, "--preflight-only", "--run-id", "ssm-client-error")
    assert out.returncode == 5, out.stderr[-3000:]
    assert "Client.VolumeLimitExceeded: a launch problem, not capacity" in out.stderr
    assert set(instances("ssm-client-error").values()) == {"terminated"}


def test_reclaim_before_a_command_is_sent_is_reported_as_the_reclaim(world, moto_harness, capsys):
    """Item 6: the probe's artifact fetch after a reclaim meets InvalidInstanceId from SendCommand: report the
    reclaim (8), not "artifact missing"."""
    instance_id = started_instance(world)
    moto_harness.end_instance(instance_id, RECLAIM)
    rc = ssm_run.run_step(ssm(), ec2(), instance_id, "cat artifact.json\n", step="fetch", run_id="faults",
                          timeout_s=30, delivery_s=30)
    assert rc == 8 and "InvalidInstanceId" in capsys.readouterr().err


# --- 8. output does not stream -----------------------------------------------------------------------
# The step writes its first line, then waits for a file the test creates: what the dispatcher shows
# while the step runs is settled by the order of events, never by how long anything took.
def gated_script(tmp_path: Path) -> tuple[str, Path, Path]:
    started, go = tmp_path / "first-written", tmp_path / "go"
    q = shlex.quote
    return f"echo first\n: > {q(str(started))}\nuntil [ -e {q(str(go))} ]; do sleep 0.05; done\necho second\n", \
        started, go


class Watched:
    """The SSM client poll() is given: it keeps the status of the latest answer, and once the step has
    written its first line and `polls` answers since have said InProgress, lets the step go on."""

    def __init__(self, started: Path, go: Path, polls: int | None) -> None:
        self.client, self.started, self.go, self.polls = ssm(), started, go, polls
        self.status, self.running_after_first = "", 0

    def get_command_invocation(self, **kwargs):
        reply = self.client.get_command_invocation(**kwargs)
        self.status = reply["Status"]
        if self.status == "InProgress" and self.started.exists():
            self.running_after_first += 1
            if self.polls is not None and self.running_after_first >= self.polls:
                self.go.touch()
        return reply

    def __getattr__(self, name: str):
        return getattr(self.client, name)


class Lines:
    """A stdout that records each line with the status of the poll answer it came after."""

    def __init__(self, client: Watched, on_line=lambda line: None) -> None:
        self.client, self.on_line = client, on_line
        self.lines: list[tuple[str, str]] = []

    def write(self, text: str) -> None:
        for line in filter(None, text.splitlines()):
            self.lines.append((line, self.client.status))
            self.on_line(line)

    def flush(self) -> None:
        pass


def test_progress_lines_and_no_output_before_the_end(world, capsys, tmp_path: Path):
    instance_id = started_instance(world)
    script, started, go = gated_script(tmp_path)
    command_id = ssm_run.send(ssm(), instance_id, script, step="quiet", run_id="faults", delivery_s=30,
                              execution_s=30)
    client = Watched(started, go, polls=2)  # two polls see the step running with "first" written
    out = Lines(client)
    outcome = ssm_poll.poll(client, ec2(), command_id, instance_id, 30, step="quiet", out=out)
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert outcome.status == "Success" and client.running_after_first >= 2
    assert out.lines == [("first", "Success"), ("second", "Success")], "real SSM shows no output before the end"
    assert "ssm: quiet InProgress (" in capsys.readouterr().err


def test_cloudwatch_output_streams_while_the_step_runs(world, tmp_path: Path):
    logs = boto3.client("logs", region_name="us-east-1")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):  # another test (or the agent) made it
        logs.create_log_group(logGroupName="spot-preflight-steps")
    instance_id = started_instance(world)
    script, started, go = gated_script(tmp_path)
    command_id = ssm_run.send(ssm(), instance_id, script, step="live", run_id="faults", delivery_s=30,
                              execution_s=30, log_group="spot-preflight-steps")
    tail = ssm_poll.CloudWatchTail(boto3.client("logs", region_name="us-east-1"), "spot-preflight-steps",
                                   command_id, instance_id)
    client = Watched(started, go, polls=None)
    out = Lines(client, on_line=lambda line: go.touch())  # the step goes on once its first line is shown
    outcome = ssm_poll.poll(client, ec2(), command_id, instance_id, 30, step="live", out=out, tail=tail)
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert outcome.status == "Success"
    assert [line for line, _ in out.lines] == ["first", "second"]
    assert out.lines[0] == ("first", "InProgress"), "the first line is shown while the step still runs"


class Stamped:
    """A stdout that records when each line arrived."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def write(self, text: str) -> None:
        self.lines += [(time.monotonic(), line) for line in text.splitlines() if line]

    def flush(self) -> None:
        pass


class Pages:
    """A CloudWatch Logs client whose GetLogEvents answers the given pages, then the end."""

    def __init__(self, pages: list[list[str]], error: Exception | None = None) -> None:
        self.pages, self.error, self.calls = pages, error, 0

    def get_log_events(self, **kwargs: object) -> dict:
        self.calls += 1
        if self.error is not None:
            raise self.error
        index = int(str(kwargs.get("nextToken") or "t0")[1:])
        if index >= len(self.pages):
            return {"events": [], "nextForwardToken": f"t{index}"}  # the end: the token passed in
        return {"events": [{"message": m} for m in self.pages[index]], "nextForwardToken": f"t{index + 1}"}


def test_cloudwatch_tail_drains_partial_and_empty_pages_until_the_token_stops():
    """Item 5: a page may be partly full or empty before the end; one pump reads to the end."""
    tail = ssm_poll.CloudWatchTail(Pages([[], ["a"], ["b", "c"], [], ["d"]]), "g", "cmd", "i-1")
    out = Stamped()
    tail.pump(out)
    assert [line for _, line in out.lines] == ["a", "b", "c", "d"] and tail.token == "t5"


def test_cloudwatch_pages_from_the_emulator_are_drained(world, moto_harness):
    """Rows 10b/10c: the agent creates the group, streams each line; pages of one event after an empty one."""
    moto_harness.configure(logs_page_size=1, logs_empty_pages=1)
    instance_id = started_instance(world)
    command_id = ssm_run.send(ssm(), instance_id, "echo a\necho b\necho c\n", step="pages", run_id="faults",
                              delivery_s=30, execution_s=30, log_group="spot-preflight-steps")
    ssm_poll.poll(ssm(), ec2(), command_id, instance_id, 30, step="pages", out=Stamped())
    ec2().terminate_instances(InstanceIds=[instance_id])
    tail = ssm_poll.CloudWatchTail(client("logs", "us-east-1"), "spot-preflight-steps", command_id, instance_id)
    out = Stamped()
    tail.pump(out)
    assert [line for _, line in out.lines] == ["a", "b", "c"]


def test_tail_access_denied_warns_once_and_falls_back_to_ssm_output(world, capsys):
    """Item 5: a tail that cannot read (AccessDenied, any error) stops with one warning; the output still comes."""
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetLogEvents")
    logs = Pages([], denied)
    instance_id = started_instance(world)
    command_id = ssm_run.send(ssm(), instance_id, "echo a\necho b\n", step="denied", run_id="faults",
                              delivery_s=30, execution_s=30, log_group="spot-preflight-steps")
    out = Stamped()
    outcome = ssm_poll.poll(ssm(), ec2(), command_id, instance_id, 30, step="denied", out=out,
                            tail=ssm_poll.CloudWatchTail(logs, "spot-preflight-steps", command_id, instance_id))
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert outcome.status == "Success" and [line for _, line in out.lines] == ["a", "b"]
    assert capsys.readouterr().err.count("live output from CloudWatch Logs stopped (AccessDeniedException") == 1
    assert logs.calls == 1


def test_agent_that_can_neither_create_nor_describe_the_group_streams_nothing(world, moto_harness):
    """Row 10b (iohandler.go): CreateLogGroup, then DescribeLogGroups on error; both denied: no stream at all,
    and the step's output comes from SSM."""
    moto_harness.configure(logs_denied=["CreateLogGroup", "DescribeLogGroups"])
    logs = boto3.client("logs", region_name="us-east-1")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):  # the stack made it: only the
        logs.create_log_group(logGroupName="spot-preflight-steps")  # agent's own calls are denied
    instance_id = started_instance(world)
    command_id = ssm_run.send(ssm(), instance_id, "echo a\n", step="nogroup", run_id="faults", delivery_s=30,
                              execution_s=30, log_group="spot-preflight-steps")
    out = Stamped()
    try:
        ssm_poll.poll(ssm(), ec2(), command_id, instance_id, 30, step="nogroup", out=out,
                      tail=ssm_poll.CloudWatchTail(client("logs", "us-east-1"), "spot-preflight-steps", command_id,
                                                   instance_id))
    finally:
        ec2().terminate_instances(InstanceIds=[instance_id])
    assert [line for _, line in out.lines] == ["a"]
    streams = boto3.client("logs", region_name="us-east-1").describe_log_streams(
        logGroupName="spot-preflight-steps", logStreamNamePrefix=command_id)["logStreams"]
    assert streams == []


def test_failed_step_prints_the_ssm_output_tail_after_the_live_lines(world):
    """Item 5: CloudWatch lags; the lines that say why a step failed are printed from SSM too."""
    instance_id = started_instance(world)
    command_id = ssm_run.send(ssm(), instance_id, "echo working\necho why-it-failed\nexit 3\n", step="fails",
                              run_id="faults", delivery_s=30, execution_s=30, log_group="spot-preflight-steps")
    out = Stamped()
    outcome = ssm_poll.poll(ssm(), ec2(), command_id, instance_id, 30, step="fails", out=out,
                            tail=ssm_poll.CloudWatchTail(client("logs", "us-east-1"), "spot-preflight-steps",
                                                         command_id, instance_id))
    ec2().terminate_instances(InstanceIds=[instance_id])
    lines = [line for _, line in out.lines]
    assert outcome.status == "Failed" and lines.count("why-it-failed") == 2, lines
    assert lines[-1] == "why-it-failed"


# --- 9. status mapping -------------------------------------------------------------------------------
def run_probe_like(world, script: str, capsys, tmp_path: Path) -> tuple[int, str]:
    instance_id = started_instance(world)
    text = ssm_command.build(step="probe", script=(ROOT / "infra_scripts/remote/prelude.sh").read_text() + script,
                             env={}, work_dir=str(tmp_path / "faults-host"),
                             run_id="faults", mode="preflight-only", instance_id=instance_id, payload_b64=None)
    try:
        rc = ssm_run.run_step(ssm(), ec2(), instance_id, text, step="probe", run_id="faults", timeout_s=30,
                              delivery_s=30)
    finally:
        ec2().terminate_instances(InstanceIds=[instance_id])
    return rc, capsys.readouterr().err


def test_exit_137_reads_as_a_kill_not_a_timeout(world, capsys, tmp_path: Path):
    rc, err = run_probe_like(world, "bash -c 'kill -9 $$'\n", capsys, tmp_path)
    assert rc == ssm_run.KILLED
    assert "killed by SIGKILL" in err and "diagnostics" not in err


def test_undeliverable_is_not_checks_failed(world, moto_harness, capsys, tmp_path: Path):
    moto_harness.configure(invocation_failure="AccessDenied")
    rc, err = run_probe_like(world, "exit 0\n", capsys, tmp_path)
    assert rc == ssm_run.OTHER  # not 1, which the probe step would read as "checks failed"
    assert "was never run" in err and "AccessDenied" in err


def test_delivery_timeout_sends_no_diagnostics(world, moto_harness, capsys, tmp_path: Path):
    moto_harness.configure(delivery_timeout_after_s=1.0)
    before = len(ssm().list_commands()["Commands"])
    rc, err = run_probe_like(world, "exit 0\n", capsys, tmp_path)
    assert rc == ssm_run.TIMEOUT
    sent = len(ssm().list_commands()["Commands"]) - before
    assert sent == 1, "a diagnostics command went to a host that never answered"
    assert "DeliveryTimedOut" in err


# --- 10. Python on the host --------------------------------------------------------------------------
def test_bootstrap_names_the_interpreter_and_refuses_old_python(world, tmp_path: Path):
    old = tmp_path / "python3.8"
    old.write_text('#!/usr/bin/env bash\nif [ "$2" = "import sys; print(\\"%d.%d.%d\\" % sys.version_info[:3])" ]; '
                   'then echo 3.8.18; exit 0; fi\nexit 1\n')
    old.chmod(0o755)
    out = spot(world, "--preflight-only", "--run-id", "ssm-oldpy", PYTHON=str(old),
               REMOTE_WORK_DIR=str(tmp_path / "cold-host"))
    assert out.returncode == 5, out.stderr[-3000:]
    assert f"interpreter {old}, Python 3.8.18" in out.stderr
    assert "Python 3.8.18 is below 3.9" in out.stderr


def test_probe_runs_on_python_39(tmp_path: Path, bare_venv: Path):
    """A 3.9 host's two venvs: the tool venv with the probe's requirements (arcticdb included, ArcticDB's
    checks on a real LMDB store) and a project venv with nothing in it, whose Python the children use.
    Every check that can run here runs."""
    python = ROOT / ".venv39" / "bin" / "python"
    if not python.exists() or python39() is None:  # bare_venv is a 3.9 venv when python39() finds one
        need_python39("no Python 3.9 on this machine (make test builds .venv39 when pyenv or PATH has one)")
    from preflight.demo import seed

    seed(f"lmdb://{tmp_path}/store", "demo", 24, {})
    (tmp_path / "req.txt").write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "AWS_REGION": "us-east-1",
           "PREFLIGHT_IMPORTS": "json", "PREFLIGHT_IMPORT_NAMES": "json:dumps", "PREFLIGHT_PINS_FILE": "req.txt",
           "ARCTICDB_URI": f"lmdb://{tmp_path}/store", "ARCTICDB_LIBRARY": "demo",
           "PREFLIGHT_PROJECT_PYTHON": str(bare_venv)}
    run = subprocess.run([str(python), "-m", "preflight", "probe", "--json"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    artifact = json.loads(run.stdout)
    by_id = {check["id"]: check for check in artifact["checks"]}
    assert by_id["runtime"]["status"] == "pass", by_id["runtime"]
    assert by_id["runtime"]["message"].startswith("python 3.9.")
    assert by_id["runtime"]["details"]["executable"] == str(bare_venv)
    for check in ("arcticdb.library", "arcticdb.freshness", "imports", "lint", "pins", "pins.consistency"):
        assert by_id[check]["status"] in ("pass", "warn"), by_id[check]
    assert artifact["status"] == "READY", artifact["failures"]
    for check in artifact["checks"]:
        assert "TypeError" not in check["message"] and "SyntaxError" not in check["message"], check
    assert sys.version_info >= (3, 10)  # the suite itself runs newer: this test is the 3.9 coverage


def test_steps_run_with_the_system_path(world, capsys):
    """Row 17: the agent runs a step with the host's system PATH, not the test runner's (which may hold a uv)."""
    from tests.harness.ssm_agent import SYSTEM_PATH

    instance_id = started_instance(world)
    command_id = ssm_run.send(ssm(), instance_id, 'echo "PATH=$PATH"\n', step="path", run_id="faults",
                              delivery_s=30, execution_s=30)
    out = Stamped()
    outcome = ssm_poll.poll(ssm(), ec2(), command_id, instance_id, 30, step="path", out=out)
    ec2().terminate_instances(InstanceIds=[instance_id])
    assert outcome.status == "Success"
    assert [line for _, line in out.lines] == [f"PATH={SYSTEM_PATH}"]
