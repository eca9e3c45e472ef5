"""env + S3 (TrainingPreflight) against the moto server, and the read-only guard."""

import socket
from pathlib import Path

import pytest

from preflight.checks.aws_env import check_env, check_s3
from preflight.guard import ReadOnlyGuard, WriteRefused
from tests.conftest import make_context


def test_env_reports_presence_never_values(tmp_path: Path):
    ctx = make_context(tmp_path, {"A_TOKEN": "s3cr3t-value", "EMPTY": " "}, PREFLIGHT_REQUIRED_ENV="A_TOKEN,EMPTY,GONE")
    outcome = check_env(ctx)
    assert outcome.status == "fail" and "EMPTY, GONE" in outcome.message
    assert outcome.details["present"] == {"A_TOKEN": True, "EMPTY": False, "GONE": False}
    assert "s3cr3t-value" not in repr(outcome)


def test_s3_head_bucket_and_object(tmp_path: Path, s3, aws_env):
    s3.create_bucket(Bucket="train-data")
    s3.put_object(Bucket="train-data", Key="manifests/latest.json", Body=b"{}")
    ok = check_s3(make_context(tmp_path, aws_env, PREFLIGHT_S3_BUCKETS="train-data",
                               PREFLIGHT_S3_KEYS="train-data/manifests/latest.json"), 10)
    assert ok.status == "pass"
    bad = check_s3(make_context(tmp_path, aws_env, PREFLIGHT_S3_BUCKETS="no-such-bucket",
                                PREFLIGHT_S3_KEYS="train-data/manifests/missing.json"), 10)
    assert bad.status == "fail"
    assert "s3://no-such-bucket: 404 does not exist" in bad.message
    assert "s3://train-data/manifests/missing.json: 404 does not exist" in bad.message


def test_s3_unreachable_is_distinct(tmp_path: Path, aws_env, monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    outcome = check_s3(make_context(tmp_path, aws_env, PREFLIGHT_S3_BUCKETS="b"), 4)
    assert outcome.status == "fail" and "endpoint unreachable" in outcome.message


def test_guard_refuses_writes_and_bucket_stays_empty(s3, aws_env):
    import boto3

    s3.create_bucket(Bucket="guarded")
    with ReadOnlyGuard() as guard:
        client = boto3.client("s3", region_name="us-east-1")
        client.head_bucket(Bucket="guarded")
        client.list_objects_v2(Bucket="guarded")
        with pytest.raises(WriteRefused, match="refused s3:PutObject"):
            client.put_object(Bucket="guarded", Key="x", Body=b"1")
        with pytest.raises(WriteRefused):
            boto3.client("ec2", region_name="us-east-1").run_instances(ImageId="ami-1", MinCount=1, MaxCount=1)
    assert guard.refused == ["s3:PutObject", "ec2:RunInstances"]
    assert s3.list_objects_v2(Bucket="guarded").get("KeyCount") == 0
    # The guard is gone once the probe ends, also from sessions made while it was active.
    boto3.client("s3", region_name="us-east-1").put_object(Bucket="guarded", Key="after", Body=b"1")


GUARD_BEFORE_IMPORT = """
import sys
from preflight.guard import ReadOnlyGuard, WriteRefused
assert "botocore" not in sys.modules
with ReadOnlyGuard() as guard:
    import boto3  # first imported while the guard is active
    client = boto3.client("s3", region_name="us-east-1")
    client.list_buckets()
    try:
        client.create_bucket(Bucket="never")
    except WriteRefused:
        pass
print(guard.refused, [b["Name"] for b in client.list_buckets()["Buckets"]])
"""


def test_guard_patches_botocore_imported_during_the_probe(aws_env):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "-c", GUARD_BEFORE_IMPORT], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    refused, buckets = out.stdout.strip().split("] ")
    assert refused == "['s3:CreateBucket'" and "never" not in buckets
