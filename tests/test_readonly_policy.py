"""The spot host's read-only policy, loaded from the shipped template, under moto's IAM enforcement.

moto authorizes `head_bucket` as a made-up `s3:HeadBucket` action where AWS checks `s3:ListBucket`.
That quirk is bridged here, in the test's copy of the policy, never in the shipped template.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from preflight.checks.arctic import check_freshness, check_library
from preflight.checks.aws_env import check_s3
from preflight.demo import seed
from tests.conftest import FAKE_AWS, ROOT, MotoHarness, make_context

TEMPLATE = ROOT / "infra_scripts" / "cfn" / "spot-preflight.yaml"
BUCKET = "training-data"
MOTO_HEAD_BUCKET_BRIDGE = {"Sid": "MotoQuirkHeadBucket", "Effect": "Allow", "Action": "s3:HeadBucket",
                           "Resource": f"arn:aws:s3:::{BUCKET}"}


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Sub, !Ref, !GetAtt) read as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                                 if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node))


def spot_host_policy() -> dict:
    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    policy = template["Resources"]["SpotInstanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    text = json.dumps(policy)
    for name, value in {"${AWS::Partition}": "aws", "${DataBucketName}": BUCKET, "${DataPrefix}": ""}.items():
        text = text.replace(name, value)
    return json.loads(text)


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory):
    harness = MotoHarness(tmp_path_factory.mktemp("iam-hosts"))  # its own server: enforcement is server-wide
    yield harness
    harness.stop()


def user_keys(iam, name: str, policy: dict | None) -> dict[str, str]:
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="spot-host", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def test_probe_reads_pass_and_writes_are_denied(enforcing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for key, value in dict(FAKE_AWS, AWS_ENDPOINT_URL=enforcing.endpoint).items():
        monkeypatch.setenv(key, value)
    admin_s3 = boto3.client("s3", region_name="us-east-1")
    admin_s3.create_bucket(Bucket=BUCKET)
    admin_s3.put_object(Bucket=BUCKET, Key="manifests/latest.json", Body=b"{}")
    port = enforcing.endpoint.rsplit(":", 1)[1]
    seed(f"s3://127.0.0.1:{BUCKET}?port={port}&access=testing&secret=x", "demo", rows=5, stale={})
    iam = boto3.client("iam", region_name="us-east-1")
    policy = spot_host_policy()
    policy["Statement"].append(MOTO_HEAD_BUCKET_BRIDGE)
    host = user_keys(iam, "spot-host", policy)
    nobody = user_keys(iam, "no-policy", None)
    objects_before = admin_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"]
    # From now on every request must be signed by an IAM user whose policies allow it.
    urllib.request.urlopen(urllib.request.Request(f"{enforcing.endpoint}/moto-api/reset-auth", data=b"0",
                                                  headers={"Content-Type": "text/plain"}))

    for key, value in host.items():
        monkeypatch.setenv(key, value)
    ctx = make_context(tmp_path, dict(host), PREFLIGHT_S3_BUCKETS=BUCKET,
                       PREFLIGHT_S3_KEYS=f"{BUCKET}/manifests/latest.json", ARCTICDB_LIBRARY="demo",
                       ARCTICDB_URI=f"s3://127.0.0.1:{BUCKET}?port={port}&access={host['AWS_ACCESS_KEY_ID']}"
                                    f"&secret={host['AWS_SECRET_ACCESS_KEY']}", ARCTICDB_REQUIRED_SYMBOLS="ES")
    assert check_s3(ctx, 10).status == "pass"
    assert check_library(ctx, 10).status == "pass"
    assert check_freshness(ctx, 10).status == "pass"
    host_s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id=host["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=host["AWS_SECRET_ACCESS_KEY"])
    with pytest.raises(ClientError) as denied:
        host_s3.put_object(Bucket=BUCKET, Key="oops", Body=b"1")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"

    for key, value in nobody.items():  # enforcement is really on: no policy, no read
        monkeypatch.setenv(key, value)
    nobody_ctx = make_context(tmp_path, dict(nobody), PREFLIGHT_S3_BUCKETS=BUCKET)  # its own AWS session
    refused = check_s3(nobody_ctx, 10)
    assert refused.status == "fail" and "403 access denied" in refused.message
    for key, value in host.items():
        monkeypatch.setenv(key, value)
    assert host_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == objects_before
