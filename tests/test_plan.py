"""Issue 11: the launch plan, against the moto server — every failure class exits before any launch."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.conftest import environ
from tests.ssm_support import instances, live_instances, pairs_file, spot

ALL_CHECKS = ("plan.ami", "plan.instance_types", "plan.network", "plan.instance_profile", "plan.offerings",
              "plan.spot_price", "plan.quota", "plan.candidates", "plan.permissions", "plan.unprovable",
              "plan.ssm_reachable")


@pytest.fixture(autouse=True)
def default_emulator(world, moto_harness):
    moto_harness.reset()
    yield
    moto_harness.reset()
    assert live_instances() == {}


@pytest.fixture(scope="module")
def zone_e_subnet(world_setup) -> str:
    """A subnet in us-east-1e, where moto (like AWS) offers no t3 types."""
    with environ(world_setup["env"]):
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.describe_subnets(SubnetIds=[world_setup["subnets"][0]])["Subnets"][0]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.200.0/24",
                                   AvailabilityZone="us-east-1e")["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        return subnet


def _plan_json(world, run_id: str) -> dict:
    return json.loads((world["repo"] / "artifacts" / "preflight" / "predictor"
                           / run_id / "plan.json").read_text())


def test_plan_prints_every_verdict_and_the_ordered_candidates(world):
    out = spot(world, "--plan", "--run-id", "plan-ok")
    assert out.returncode == 0, out.stderr[-3000:]
    for check_id in ALL_CHECKS:
        assert check_id in out.stderr, check_id
    plan = _plan_json(world, "plan-ok")
    a, b = world["subnets"][:2]
    assert [(c["instance_type"], c["subnet"]) for c in plan["candidates"]] == \
        [("t3.micro", a), ("t3.micro", b), ("t3.small", a), ("t3.small", b)]
    assert plan["root_device"] == {"name": "/dev/sda1", "snapshot_gb": 15}
    assert "plan.permissions" in out.stderr and "DryRun" in out.stderr
    assert "launch would proceed" in out.stderr and instances("plan-ok") == {}
    assert "WARN plan.quota" in out.stderr and "no spot vCPU quota listed" in out.stderr  # none set: a warning


def _other_vpc_group() -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    return ec2.create_security_group(GroupName="elsewhere", Description="x", VpcId=vpc)["GroupId"]


@pytest.mark.parametrize("case, overrides, code, reason", [
    ("ami", {"EC2_AMI_ID": "ami-12345678"}, 2, "AMI ami-12345678 does not exist in this region"),
    ("profile", {"EC2_INSTANCE_PROFILE": "no-such-profile"}, 2, "instance profile no-such-profile does not exist"),
    ("subnet", {"EC2_SUBNET_IDS": "subnet-0000000000000000f"}, 2, "ec2:DescribeSubnets: InvalidSubnetID.NotFound"),
    ("type", {"EC2_INSTANCE_TYPES": "t3.nosuch"}, 2, "InvalidInstanceType"),
    ("arch", {"EC2_INSTANCE_TYPES": "t4g.micro"}, 2, "no type runs the x86_64 AMI"),
    ("vpc", {"EC2_SECURITY_GROUP_IDS": "OTHER_VPC_GROUP"}, 2, "span 2 VPCs"),
    ("price", {"SPOT_MAX_PRICE": "0.000001"}, 3, "above SPOT_MAX_PRICE"),
    # Item 7: a quota, a zone's offerings, an architecture are configuration: exit 2, never "no capacity" (3,
    # which Step Functions retries); only a price above SPOT_MAX_PRICE may change by itself.
    ("quota", {}, 2, "spot vCPU quota 0 (L-34B43A08) is below its 2 vCPUs"),
    ("zone", {"EC2_SUBNET_IDS": "ZONE_E"}, 2, "not offered in this zone"),
])
def test_plan_failure_classes(world, moto_harness, zone_e_subnet, case, overrides, code, reason):
    values = {k: {"OTHER_VPC_GROUP": _other_vpc_group() if v == "OTHER_VPC_GROUP" else v,
                  "ZONE_E": zone_e_subnet}.get(v, v) for k, v in overrides.items()}
    if case == "quota":
        moto_harness.configure(spot_vcpu_quotas={"L-34B43A08": 0})
    run_id = f"plan-fail-{case}"
    out = spot(world, "--preflight-only", "--run-id", run_id, **values)
    assert out.returncode == code, out.stderr[-3000:]
    assert reason in out.stderr and "nothing launched" in out.stderr
    assert instances(run_id) == {}, "a plan failure must launch nothing"
    assert not (world["repo"] / "artifacts" / "preflight" / "predictor" / run_id).exists()
    if case in ("ami", "quota"):  # --plan alone says the same and exits 1 (one class of each exit code)
        alone = spot(world, "--plan", "--run-id", f"{run_id}-alone", **values)
        assert alone.returncode == 1 and reason in alone.stderr


def test_pruned_zone_launches_the_next_candidate_with_the_plans_root_device(world, moto_harness, zone_e_subnet,
                                                                           tmp_path, capsys):
    from preflight.aws.__main__ import main

    # Real EC2 answers Unsupported for a type its zone does not offer; the plan must make that unreachable.
    a = world["subnets"][0]
    moto_harness.configure(launch_errors={f"t3.micro/{zone_e_subnet}": "Unsupported"})
    pairs, plan = pairs_file(world, tmp_path, EC2_INSTANCE_TYPES="t3.micro",
                             EC2_SUBNET_IDS=f"{zone_e_subnet},{a}"), tmp_path / "plan.json"
    common = ["--env-file", str(pairs), "--run-id", "plan-pruned", "--mode", "preflight-only"]
    assert main(["plan", *common, "--budget-seconds", "1800", "--out", str(plan)]) == 0
    assert main(["launch", *common, "--plan", str(plan)]) == 0
    err = capsys.readouterr().err
    assert "Unsupported" not in err and "not offered in this zone" in err
    assert [c["subnet"] for c in json.loads(plan.read_text())["candidates"]] == [a]
    assert f"t3.micro in {a}, root /dev/sda1 50 GB" in err
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (instance_id,) = instances("plan-pruned")
    ec2.terminate_instances(InstanceIds=[instance_id])


def test_skip_plan_is_recorded(world):
    # A bad AMI the plan would have caught: with --skip-plan the launch itself meets it (exit 5).
    out = spot(world, "--preflight-only", "--run-id", "plan-skipped", "--skip-plan", EC2_AMI_ID="ami-12345678")
    assert out.returncode == 5 and "plan.ami" not in out.stderr, out.stderr[-2000:]
    record = json.loads((world["repo"] / "artifacts" / "preflight" / "predictor"
                           / "plan-skipped" / "run.json").read_text())
    assert record["plan"] == "skipped" and instances("plan-skipped") == {}



def test_plan_refuses_a_subnet_that_cannot_reach_ssm(world, moto_harness):
    """Item 8: no public IP on launch, no NAT route and no VPC endpoints for ssm, ssmmessages and ec2messages:
    SSM would never come online; the plan says so (exit 2, naming the fix) instead of minutes of waiting."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.describe_subnets(SubnetIds=[world["subnets"][0]])["Subnets"][0]["VpcId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.210.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    out = spot(world, "--preflight-only", "--run-id", "plan-private", EC2_SUBNET_IDS=private["SubnetId"])
    assert out.returncode == 2, out.stderr[-3000:]
    assert f"{private['SubnetId']} cannot reach SSM" in out.stderr and "ssmmessages" in out.stderr
    assert instances("plan-private") == {}
    endpoints = [ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.us-east-1.{name}",
                                         VpcEndpointType="Interface", SubnetIds=[private["SubnetId"]])
                 ["VpcEndpoint"]["VpcEndpointId"] for name in ("ssm", "ssmmessages", "ec2messages")]
    try:
        alone = spot(world, "--plan", "--run-id", "plan-endpoints", EC2_SUBNET_IDS=private["SubnetId"])
    finally:
        ec2.delete_vpc_endpoints(VpcEndpointIds=endpoints)
    assert alone.returncode == 0 and "PASS plan.ssm_reachable" in alone.stderr, alone.stderr[-3000:]


def test_plan_without_credentials_says_so_once(world, tmp_path):
    """Item 9: one line naming the missing credentials, before any AWS call; the header says mode plan."""
    out = spot(world, "--plan", "--run-id", "plan-no-credentials", AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="",
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               PASS_ENV="AWS_ENDPOINT_URL")
    assert out.returncode == 1, out.stderr[-2000:]
    assert out.stderr.count("no AWS credentials") == 1 and "not allowed" not in out.stderr
    assert "plan.ami" not in out.stderr and " · mode plan · " in out.stderr


def test_p5_has_its_own_spot_quota(world, moto_harness):
    """Item 10: P5 types count against "All P5 Spot Instance Requests", not the P4/P3/P2 quota; the codes come
    from ListServiceQuotas (every page), not from a table."""
    moto_harness.configure(spot_vcpu_quotas={"L-34B43A08": 64, "L-3819A6DF": 8, "L-7212CCBC": 1000,
                                             "L-P5STANDIN": 0})
    out = spot(world, "--plan", "--run-id", "plan-p5", EC2_INSTANCE_TYPES="p5.48xlarge",
               EC2_SUBNET_IDS=world["subnets"][0])
    assert out.returncode == 1, out.stderr[-3000:]
    assert "spot vCPU quota 0 (L-P5STANDIN) is below its 192 vCPUs" in out.stderr
