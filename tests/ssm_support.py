"""Helpers for the ssm suites: the environment of a run against the moto world, and what it left."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

from tests.conftest import spot_argv

# The emulated host's PATH is the clean system PATH; name the interpreter it should build the venv with.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
# A PYTHON that answers `-c` and hangs on anything else; its sleep is named after the script's own path
# (`exec -a`), a marker no process of another test or another checkout's suite has in its command line.
SLOW_PYTHON = ('#!/usr/bin/env bash\nif [ "$1" = -c ]; then echo "$0"; exit 0; fi\n'
               '(exec -a "$0.sleep" sleep {seconds}) &\nwait\n')


def slow_python(directory: Path, seconds: int) -> tuple[str, str]:
    """(the hanging PYTHON, the marker in its sleep's command line)."""
    path = directory / "slowpy"
    path.write_text(SLOW_PYTHON.format(seconds=seconds))
    path.chmod(0o755)
    return str(path), f"{path}.sleep"


def running(marker: str) -> list[int]:
    """Pids whose command line holds `marker` (a path of this test's own): never another suite's processes."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return pids


def wait_for(predicate, seconds: float, what: str) -> None:
    """Poll `predicate` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def ssm_env(world: dict, **overrides: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFLIGHT_", "ARCTICDB_"))}
    subnets = world["subnets"]
    return {**base, **world["env"], "NO_COLOR": "1", "TRANSPORT": "ssm",
            "EC2_AMI_ID": world["ami"], "EC2_INSTANCE_TYPES": "t3.micro,t3.small",
            "EC2_SUBNET_IDS": f"{subnets[0]},{subnets[1]}", "EC2_INSTANCE_PROFILE": "spot-preflight-instance",
            "EC2_OWNER": "tests", "SSM_ONLINE_TIMEOUT_SECONDS": "30",
            # A warm "AMI": the venv and pip cache are shared by every emulated instance of the session.
            "REMOTE_WORK_DIR": str(world["remote_work_dir"]),
            "ARCTICDB_URI": f"lmdb://{world['store']}", "PYTHON": BASE_PYTHON, "PREFLIGHT_S3_BUCKETS": "training-data",
            # No credential in PASS_ENV: SSM would keep it in command history (the run refuses it).
            "AWS_SHARED_CREDENTIALS_FILE": str(world["role_credentials"]),
            "PASS_ENV": "AWS_ENDPOINT_URL,AWS_SHARED_CREDENTIALS_FILE,AWS_EC2_METADATA_DISABLED",
            **overrides}


def pairs_file(world: dict, directory: Path, **overrides: str) -> Path:
    """The launcher's step environment (NUL-separated KEY=VALUE), for `python -m preflight.aws` directly."""
    cfg = {"EC2_AMI_ID": world["ami"], "EC2_INSTANCE_TYPES": "t3.micro,t3.small",
           "EC2_SUBNET_IDS": ",".join(world["subnets"][:2]), "EC2_SECURITY_GROUP_IDS": "",
           "EC2_INSTANCE_PROFILE": "spot-preflight-instance", "EC2_ROOT_VOLUME_GB": "50", "MAX_RUNTIME_SECONDS": "4200",
           "SPOT_MAX_PRICE": "", "AWS_REGION": "us-east-1", "EC2_OWNER": "t", **overrides}
    path = directory / "pairs"
    path.write_bytes(b"".join(f"{k}={v}\0".encode() for k, v in cfg.items()))
    return path


def spot(world: dict, *args: str, timeout: float = 600, **overrides: str) -> subprocess.CompletedProcess[str]:
    """spot_train.sh on the demo's config (unless `args` name another), with the ssm environment."""
    return subprocess.run(spot_argv(world["repo"], *args), env=ssm_env(world, **overrides), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def instances(run_id: str) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    reply = ec2.describe_instances(Filters=[{"Name": "tag:RunId", "Values": [run_id]}])
    return {i["InstanceId"]: i["State"]["Name"] for r in reply["Reservations"] for i in r["Instances"]}


def all_objects() -> dict[str, list[str]]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return {b["Name"]: [o["Key"] for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", [])]
            for b in s3.list_buckets()["Buckets"]}




def live_instances() -> dict[str, str]:
    """Every spot-preflight instance still pending or running, of any run."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    reply = ec2.describe_instances(Filters=[{"Name": "tag:Project", "Values": ["spot-preflight"]},
                                            {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return {i["InstanceId"]: i["State"]["Name"] for r in reply["Reservations"] for i in r["Instances"]}
