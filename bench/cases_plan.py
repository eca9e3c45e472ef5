"""Rows: the launch plan against a moto server — every call at once versus one after another (each call
given a real AWS round trip, which moto on localhost does not have), the AWS calls one plan makes (a
count, the same on any machine), and the whole command's wall time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import ROOT, Row, median_time, sec, spreads


def _world() -> tuple[object, dict[str, str]]:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"}
    os.environ.update(env)
    ec2, iam = boto3.client("ec2", region_name="us-east-1"), boto3.client("iam", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.5.{i}.0/24")["Subnet"]["SubnetId"] for i in range(3)]
    # A route out and public IPs: the plan proves the subnets reach SSM (plan.ssm_reachable).
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet in subnets:
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="bench")
    iam.add_role_to_instance_profile(InstanceProfileName="bench", RoleName="bench")
    pairs = {**env, "EC2_AMI_ID": ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"],
             "EC2_INSTANCE_TYPES": "t3.micro,t3.small,m5.large,g5.xlarge", "EC2_SUBNET_IDS": ",".join(subnets),
             "EC2_SECURITY_GROUP_IDS": "", "EC2_INSTANCE_PROFILE": "bench", "EC2_ROOT_VOLUME_GB": "50",
             "EC2_OWNER": "bench", "MAX_RUNTIME_SECONDS": "4200", "SPOT_MAX_PRICE": ""}
    return server, pairs


# moto does not implement ListServiceQuotas: it answers 500, which botocore retries four times with backoff,
# so every plan paid five round trips and their backoff on the quotas call. AWS answers it; so does this.
SPOT_QUOTAS = {"Quotas": [
    {"QuotaName": "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "QuotaCode": "L-34B43A08",
     "Value": 640.0},
    {"QuotaName": "All G and VT Spot Instance Requests", "QuotaCode": "L-3819A6DF", "Value": 64.0}]}


def _quotas_answer(round_trip_s: float, calls: list[str]):  # noqa: ANN202
    from botocore.awsrequest import AWSResponse

    def answer(**_: object) -> tuple[object, dict]:  # the more specific event: before the counting handler
        calls.append("ListServiceQuotas")
        time.sleep(round_trip_s)
        return AWSResponse("https://servicequotas.us-east-1.amazonaws.com/", 200, {}, None), dict(SPOT_QUOTAS)
    return answer


def plan_rows(repeat: int, judge: bool, round_trip_s: float = 0.1) -> list[Row]:
    from preflight.aws import plan_calls
    from preflight.aws.__main__ import _spec
    from preflight.aws.clients import client
    from preflight.aws.plan import make_plan
    from preflight.config import Config
    from preflight.parallel import timed

    server, pairs = _world()
    try:
        clients = plan_calls.Clients(client("ec2", "us-east-1"), client("iam", "us-east-1"),
                                     client("service-quotas", "us-east-1"))
        calls: list[str] = []
        for each in (clients.ec2, clients.iam, clients.quotas):  # AWS answers in ~50-150 ms, moto in ~5 ms
            each.meta.events.register("before-send", lambda **_: time.sleep(round_trip_s))
            each.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
        quotas_call = "before-call.service-quotas.ListServiceQuotas"
        clients.quotas.meta.events.register(quotas_call, _quotas_answer(round_trip_s, calls))
        spec = _spec(Config(pairs, "bench"), "bench", "preflight-only")
        make_plan(clients, spec, 1800, "")  # warm botocore's loaders for both sides
        made, calls[:] = list(calls), []

        def one_by_one(work: dict, deadline: float) -> dict:
            return {name: timed(call)() for name, call in work.items()}

        together = median_time(lambda: make_plan(clients, spec, 1800, ""), repeat)
        original, plan_calls.concurrently = plan_calls.concurrently, one_by_one
        try:
            apart = median_time(lambda: make_plan(clients, spec, 1800, ""), repeat)
        finally:
            plan_calls.concurrently = original
        with tempfile.TemporaryDirectory() as tmp:
            env_file = Path(tmp) / "pairs"
            env_file.write_bytes(b"".join(f"{k}={v}\0".encode() for k, v in pairs.items()))
            wall = median_time(lambda: subprocess.run(
                [sys.executable, "-m", "preflight.aws", "plan", "--env-file", str(env_file), "--run-id", "b",
                 "--mode", "preflight-only", "--budget-seconds", "1800", "--out", str(Path(tmp) / "plan.json")],
                env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, check=True), repeat)
    finally:
        server.stop()
    kinds = len(set(made))
    ratio = apart.median / together.median
    return [Row(f"launch plan, AWS calls (moto + {round_trip_s * 1000:.0f} ms per call, 4 types x 3 subnets)",
                f"{together.median:.3f} s concurrent", f"{apart.median:.3f} s one by one", f"{ratio:.1f}x faster",
                "≥ 3x faster", (ratio >= 3) if judge else None,
                spread=spreads(concurrent=sec(together, 3), one_by_one=sec(apart, 3))),
            Row("launch plan, AWS calls made by one plan, 4 types x 3 subnets (count)",
                f"{len(made)} calls, {kinds} operations", "—", "—",
                "≤15 calls: one per fact, not per type or subnet", (len(made) <= 15) if judge else None,
                "botocore before-call events on the plan's clients (pages counted): " + ", ".join(sorted(set(made))),
                "count: the same on every run", "count"),
            Row("launch plan, whole `preflight.aws plan` command (moto)", f"{wall.median:.2f} s", "—", "—", "≤ 3 s",
                (wall.median <= 3.0) if judge else None, "process start, clients, every call, plan.json; "
                "moto answers ListServiceQuotas 500, which the command's client retries with backoff",
                spreads(command=sec(wall)))]
