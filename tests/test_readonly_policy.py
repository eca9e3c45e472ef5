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
from botocore.exceptions import ClientError

from preflight.checks.arctic import check_freshness, check_library
from preflight.checks.aws_env import check_s3
from preflight.demo import seed
from tests.conftest import FAKE_AWS, ROOT, MotoHarness, make_context, public_subnets

BUCKET = "training-data"
MOTO_HEAD_BUCKET_BRIDGE = {"Sid": "MotoQuirkHeadBucket", "Effect": "Allow", "Action": "s3:HeadBucket",
                           "Resource": f"arn:aws:s3:::{BUCKET}"}


def template_policy(resource: str) -> dict:
    """The policy document of one IAM resource in the shipped template (its first inline policy for a role),
    with parameters, conditions and intrinsic functions resolved as CloudFormation would (tests/iam_offline.py)."""
    from tests.iam_offline import Stack

    stack = Stack(parameters={"ControllerInstanceId": "i-0c0c0c0c0c0c0c0c0", "ControllerRoleName": "controller",
                              "DefinitionBucket": "definitions", "DataBucketName": BUCKET, "DataPrefix": ""})
    properties = stack.resolve(stack.template["Resources"][resource]["Properties"])
    return properties.get("PolicyDocument") or properties["Policies"][0]["PolicyDocument"]


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
    policy = template_policy("SpotInstanceRole")
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


@pytest.fixture(scope="module")
def role_server(tmp_path_factory: pytest.TempPathFactory):
    harness = MotoHarness(tmp_path_factory.mktemp("role-hosts"))  # enforcement is server-wide: its own server
    yield harness
    harness.stop()


# A write the botocore guard cannot see: `python -I` skips PYTHONPATH, so no sitecustomize, no guard.
UNGUARDED_WRITER = """
import os, subprocess, sys
subprocess.run([sys.executable, "-I", "-c", "import boto3, os; boto3.client('s3', region_name='us-east-1')"
                ".put_object(Bucket='training-data', Key=os.environ['PF_TEST_KEY'], Body=b'1')"], check=False)
"""


def test_readonly_role_denies_a_write_the_guard_cannot_see(role_server, tmp_path: Path, monkeypatch, run_cli):
    """Issue 10 item 1: PREFLIGHT_READONLY_ROLE_ARN is the hard guarantee, proven under IAM enforcement."""
    for key, value in dict(FAKE_AWS, AWS_ENDPOINT_URL=role_server.endpoint).items():
        monkeypatch.setenv(key, value)
    iam, admin_s3 = boto3.client("iam", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")
    admin_s3.create_bucket(Bucket=BUCKET)
    prober = user_keys(iam, "prober", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "sts:AssumeRole"], "Resource": "*"}]})
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "AWS": iam.get_user(UserName="prober")["User"]["Arn"]}}]}
    role_arn = iam.create_role(RoleName="probe-read-only", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="probe-read-only", PolicyName="probe-read-only",
                        PolicyDocument=json.dumps(template_policy("ProbeReadOnlyRole")))
    urllib.request.urlopen(urllib.request.Request(f"{role_server.endpoint}/moto-api/reset-auth", data=b"0",
                                                  headers={"Content-Type": "text/plain"}))
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pf_unguarded.py").write_text(UNGUARDED_WRITER)
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\nARCTICDB_URI=\nPREFLIGHT_IMPORTS=pf_unguarded\n"
                      "PREFLIGHT_IMPORT_NAMES=\n")
    env = {**FAKE_AWS, **prober, "AWS_ENDPOINT_URL": role_server.endpoint,
           "PYTHONPATH": f"{tmp_path / 'proj'}:{ROOT}"}
    prober_s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id=prober["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=prober["AWS_SECRET_ACCESS_KEY"])

    def keys() -> list[str]:
        return [o["Key"] for o in prober_s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    without = run_cli("probe", "--config", str(config), "--json", env={**env, "PF_TEST_KEY": "unguarded"})
    readonly = next(c for c in json.loads(without.stdout)["checks"] if c["id"] == "aws.readonly")
    assert keys() == ["unguarded"], "without the role the guard cannot stop a -I process: the write lands"
    assert readonly["status"] == "warn" and "not covered" in readonly["message"]

    with_role = run_cli("probe", "--config", str(config), "--json",
                        env={**env, "PF_TEST_KEY": "with-role", "PREFLIGHT_READONLY_ROLE_ARN": role_arn})
    artifact = json.loads(with_role.stdout)
    readonly = next(c for c in artifact["checks"] if c["id"] == "aws.readonly")
    assert keys() == ["unguarded"], "the role's credentials must make the same write fail"
    assert readonly["status"] == "pass" and role_arn in readonly["message"], readonly
    assert with_role.returncode == 0 and artifact["status"] == "READY"


def test_readonly_role_that_cannot_be_assumed_runs_nothing(tmp_path: Path, run_cli, aws_env):
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_READONLY_ROLE_ARN=arn:aws:iam::123456789012:role/missing\n")
    # moto hands out credentials even for a role that does not exist; an STS that cannot be reached
    # is a failure every AWS gives. No check may run with the caller's (possibly writing) credentials.
    out = run_cli("probe", "--config", str(config), "--json",
                  env={**aws_env, "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"})
    artifact = json.loads(out.stdout)
    assert out.returncode == 1 and [c["id"] for c in artifact["checks"]] == ["aws.readonly"]
    assert "could not assume PREFLIGHT_READONLY_ROLE_ARN" in artifact["checks"][0]["message"]


def launcher_policy(without_run_instances: bool = False) -> dict:
    policy = template_policy("LauncherPolicy")
    if without_run_instances:
        policy["Statement"] = [s for s in policy["Statement"] if s["Action"] != "ec2:RunInstances"]
    # moto authorizes every non-S3 request against Resource "*" and ignores Condition (its
    # moto/iam/access_control.py: "TODO add support for the Resource and Condition parts of IAM
    # policies"), so a scoped statement could never match there. The bridge widens this copy only:
    # what the test proves is that the template grants the *actions* the plan needs.
    for statement in policy["Statement"]:
        statement["Resource"] = "*"
        statement.pop("Condition", None)
    return policy


@pytest.fixture(scope="module")
def launcher_server(tmp_path_factory: pytest.TempPathFactory):
    harness = MotoHarness(tmp_path_factory.mktemp("launcher-hosts"))
    yield harness
    harness.stop()


def test_plan_dry_run_names_a_missing_run_instances_permission(launcher_server, tmp_path: Path, monkeypatch, run_cli):
    """Issue 11: EC2's DryRun under moto's IAM enforcement; the shipped launcher policy passes."""
    for key, value in dict(FAKE_AWS, AWS_ENDPOINT_URL=launcher_server.endpoint).items():
        monkeypatch.setenv(key, value)
    ec2, iam = boto3.client("ec2", region_name="us-east-1"), boto3.client("iam", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    public_subnets(ec2, vpc, [subnet])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName="spot-host", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="spot-preflight-instance")
    iam.add_role_to_instance_profile(InstanceProfileName="spot-preflight-instance", RoleName="spot-host")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    allowed = user_keys(iam, "launcher", launcher_policy())
    refused = user_keys(iam, "launcher-no-run", launcher_policy(without_run_instances=True))
    urllib.request.urlopen(urllib.request.Request(f"{launcher_server.endpoint}/moto-api/reset-auth", data=b"0",
                                                  headers={"Content-Type": "text/plain"}))
    pairs = {"AWS_REGION": "us-east-1", "EC2_AMI_ID": ami, "EC2_INSTANCE_TYPES": "t3.micro", "EC2_SUBNET_IDS": subnet,
             "EC2_SECURITY_GROUP_IDS": "", "EC2_INSTANCE_PROFILE": "spot-preflight-instance",
             "EC2_ROOT_VOLUME_GB": "50", "EC2_OWNER": "t", "MAX_RUNTIME_SECONDS": "4200", "SPOT_MAX_PRICE": ""}
    env_file = tmp_path / "pairs"
    env_file.write_bytes(b"".join(f"{k}={v}\0".encode() for k, v in pairs.items()))

    def plan(keys: dict[str, str]) -> tuple[int, dict]:
        out = tmp_path / "plan.json"
        run = run_cli("plan", "--env-file", str(env_file), "--run-id", "r", "--mode", "m",
                      "--budget-seconds", "1800", "--out", str(out), module="preflight.aws",
                      env={**FAKE_AWS, **keys, "AWS_ENDPOINT_URL": launcher_server.endpoint})
        assert out.is_file(), run.stderr
        return run.returncode, {c["id"]: c for c in json.loads(out.read_text())["checks"]}

    code, checks = plan(allowed)
    assert code == 0 and checks["plan.permissions"]["status"] == "pass", \
        [(c["id"], c["status"], c["message"]) for c in checks.values() if c["status"] != "pass"]
    code, checks = plan(refused)
    assert code == 2 and checks["plan.permissions"]["status"] == "fail"
    assert "ec2:RunInstances is not allowed" in checks["plan.permissions"]["message"]


class _Sts:
    """Records AssumeRole's DurationSeconds; refuses more than `max_s` as AWS does (ValidationError)."""

    def __init__(self, max_s: int) -> None:
        self.max_s, self.asked = max_s, []

    def assume_role(self, **request):
        self.asked.append(request["DurationSeconds"])
        if request["DurationSeconds"] > self.max_s:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "The requested DurationSeconds "
                                         "exceeds the MaxSessionDuration set for this role."}}, "AssumeRole")
        return {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t"}}


def test_the_read_only_session_lasts_as_long_as_the_probe_can():
    """Item 15: DurationSeconds from the probe's budget (it was a fixed 900 s, shorter than a 20-minute probe),
    up to what the role allows."""
    from preflight.aws.readonly_role import assume

    long_probe = _Sts(max_s=43200)
    assume("arn:aws:iam::1:role/r", "us-east-1", long_probe, probe_seconds=2400)
    assert long_probe.asked == [2460]
    capped = _Sts(max_s=3600)  # the template's MaxSessionDuration
    assume("arn:aws:iam::1:role/r", "us-east-1", capped, probe_seconds=7200)
    assert capped.asked == [7260, 3600]
    short = _Sts(max_s=3600)
    assume("arn:aws:iam::1:role/r", "us-east-1", short, probe_seconds=60)
    assert short.asked == [900]
