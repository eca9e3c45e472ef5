"""Shared fixtures: one moto server per session, LMDB demo stores, config and environment helpers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# spot_train.sh and the probe annotate and write the job summary when they see GitHub Actions: a suite
# run in Actions must not, so tests that want that output set these themselves.
for _name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE"):
    os.environ.pop(_name, None)
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


# The AWS calls of every moto server already stopped in this session (tests/test_iam_offline.py).
STOPPED_CALLS: list[dict] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last_in_session: run after every other test of the session")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that judge what the whole session did (the AWS calls it recorded) run last."""
    last = [item for item in items if item.get_closest_marker("last_in_session")]
    items[:] = [item for item in items if item not in last] + last


class MotoHarness:
    """The moto server process and the control line of its SSM agent emulator."""

    def __init__(self, hosts_root: Path) -> None:
        self.hosts_root = hosts_root
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.harness.moto_host", str(hosts_root)], cwd=ROOT,
                                     text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        assert self.proc.stdout is not None
        line = ""
        for line in self.proc.stdout:  # moto announces itself first; our line comes once it listens
            if line.startswith("READY "):
                break
        assert line.startswith("READY "), f"moto harness did not start: {line!r}"
        self.endpoint = f"http://127.0.0.1:{line.split()[1]}"

    def configure(self, **settings: object) -> None:
        import json

        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(settings) + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "OK"

    def calls(self) -> list[dict]:
        """Every AWS call the tool made against this server so far (tests/harness/calls.py)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write('{"dump_calls": true}\n')
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def end_instance(self, instance_id: str, code: str) -> None:
        """EC2 ends the instance with this StateReason code (a spot reclaim: Server.SpotInstanceTermination)."""
        self.configure(end_instance={"id": instance_id, "code": code})

    def reset(self) -> None:
        """Every emulator setting back to its default (the real-AWS-like baseline)."""
        self.configure(reset=True)

    def stop(self) -> None:
        assert self.proc.stdin is not None
        STOPPED_CALLS.extend(self.calls())  # the offline IAM test judges every server's calls at the end
        self.proc.stdin.close()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="session")
def moto_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoHarness]:
    harness = MotoHarness(tmp_path_factory.mktemp("ssm-hosts"))
    yield harness
    harness.stop()


@pytest.fixture(autouse=True)
def _emulator_back_to_default(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that may have set an emulator fault leaves the worker's server as it found it. A fault
    left behind (boot_failure: every instance ends at launch) failed whatever ran next on that xdist
    worker: the Step Functions tests' controller instance ended, so no command was ever sent."""
    yield
    if "moto_harness" in request.fixturenames:
        request.getfixturevalue("moto_harness").reset()


@pytest.fixture(scope="session")
def moto_endpoint(moto_harness: MotoHarness) -> str:
    return moto_harness.endpoint


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = dict(FAKE_AWS, AWS_ENDPOINT_URL=moto_endpoint)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set, restored as it was on the way out (fixtures wider than a test)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def aws_env_module(moto_endpoint: str) -> Iterator[dict[str, str]]:
    env = dict(FAKE_AWS, AWS_ENDPOINT_URL=moto_endpoint)
    with environ(env):
        yield env


# The example project's config, relative to a checkout or a copy_repo copy: what `make preflight` runs. The
# root workflow.env is the neutral reference and names no project.
DEMO_CONFIG = Path("examples", "predictor", "workflow.env")


def demo_args(repo: Path, args: tuple[str, ...] | list[str]) -> list[str]:
    """spot_train.sh's arguments with --config naming the demo's config in `repo`, unless they name one."""
    if any(arg == "--config" or arg.startswith("--config=") for arg in args):
        return list(args)
    return ["--config", str(repo / DEMO_CONFIG), *args]


def spot_argv(repo: Path, *args: str) -> list[str]:
    """The command line of `repo`'s spot_train.sh with `args`, on the demo's config unless they name one."""
    return [str(repo / "infra_scripts" / "spot_train.sh"), *demo_args(repo, args)]


def copy_repo(dest: Path) -> Path:
    """What spot_train.sh needs, copied, so a test run never writes into the real checkout."""
    for name in ("infra_scripts", "preflight", "examples", "workflow.env"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def local_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("local-repo"))


@pytest.fixture
def s3(aws_env: dict[str, str]):
    import boto3

    return boto3.client("s3", region_name="us-east-1")


def write_files(root: Path, files: dict[str, str]) -> Path:
    """A project tree: each relative path with its text, folders made as needed; returns `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def make_config(**values: str):
    """A resolved Config from defaults plus `values`, ignoring the caller's environment."""
    from preflight.config import load

    return load(None, {}, values)


def make_context(tmp_path: Path, environ: dict[str, str] | None = None, **values: str):
    from preflight.model import Context

    return Context(config=make_config(**values), environ=dict(environ or {}), base_dir=str(tmp_path))


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh demo store shared by read-only tests."""
    from preflight.demo import seed

    path = tmp_path_factory.mktemp("store") / "demo-store"
    seed(f"lmdb://{path}", "demo", rows=24, stale={})
    return path


@pytest.fixture
def run_cli(tmp_path: Path):
    """Run `python -m preflight ...` in a subprocess with a controlled environment."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, module: str = "preflight"):
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ARCTICDB_", "PREFLIGHT_"))}
        full = {**base, "PYTHONPATH": str(ROOT), **(env or {})}
        return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd or tmp_path, env=full,
                              capture_output=True, text=True, timeout=120)

    return run


def public_subnets(ec2, vpc: str, subnets: list[str]) -> None:
    """What reaches SSM without endpoints: an internet gateway as the main route table's default route and a
    public IP on launch (the launch plan's plan.ssm_reachable checks it)."""
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                              {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    for subnet in subnets:
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})


@pytest.fixture(scope="session")
def world_setup(moto_harness, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A copy of the repo, a VPC with three subnets, an instance profile, an AMI, a data bucket; built
    once per session (per xdist worker: each has its own moto server). os.environ is left as it was:
    tests get the AWS environment from `world`, for their own duration only."""
    env = dict(FAKE_AWS, AWS_ENDPOINT_URL=moto_harness.endpoint)
    with environ(env):
        return _build_world(env, tmp_path_factory)


@pytest.fixture
def world(world_setup: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """The session's world, with its AWS environment set for this test (boto3 clients reach moto)."""
    for key, value in world_setup["env"].items():
        monkeypatch.setenv(key, value)
    return world_setup


def _build_world(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # Zones named: moto, like AWS, offers no t3 type in us-east-1e, and the launch plan prunes what cannot exist.
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")
               ["Subnet"]["SubnetId"] for i, zone in enumerate("abc")]
    public_subnets(ec2, vpc, subnets)
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_instance_profile(InstanceProfileName="spot-preflight-instance")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="spot-preflight-instance", AssumeRolePolicyDocument=json.dumps(trust))
    iam.add_role_to_instance_profile(InstanceProfileName="spot-preflight-instance", RoleName="spot-preflight-instance")
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="training-data")
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    store = repo / ".preflight" / "demo-store"
    subprocess.run([sys.executable, "-m", "preflight", "demo-seed", "--uri", f"lmdb://{store}"],
                   cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, check=True, capture_output=True)
    # The emulated instance role: its credentials sit on the host, the step is told only where.
    role = tmp_path_factory.mktemp("instance-role") / "credentials"
    role.write_text(f"[default]\naws_access_key_id = {FAKE_AWS['AWS_ACCESS_KEY_ID']}\n"
                    f"aws_secret_access_key = {FAKE_AWS['AWS_SECRET_ACCESS_KEY']}\n")
    return {"env": env, "subnets": subnets, "ami": ami, "repo": repo, "store": store, "role_credentials": role,
            **_ssm_host_dirs()}


def _ssm_host_dirs() -> dict[str, Path]:
    """REMOTE_WORK_DIR of the emulated hosts: runs of their own per xdist worker (a run's dirs, and what a
    test looks for in them, never meet another worker's), one warm image for all ("the AMI": its venvs
    and caches are built under locks, as concurrent runs on one image are). Kept between sessions."""
    shared = ROOT / ".preflight" / "test-ssm-host"
    mine = shared / "workers" / os.environ.get("PYTEST_XDIST_WORKER", "main")
    (shared / "image").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(mine / "runs", ignore_errors=True)  # this worker's runs of an earlier session
    mine.mkdir(parents=True, exist_ok=True)
    if not (mine / "image").is_symlink():
        (mine / "image").symlink_to(Path("..", "..", "image"))
    return {"remote_work_dir": mine, "image": shared / "image"}


def python39() -> str | None:
    """A Python 3.9 interpreter (pyenv's or PATH's), the oldest a training host may have; None when absent."""
    import glob
    import shutil

    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9.*/bin/python3.9")))
    return found[-1] if found else shutil.which("python3.9")


# The probe runs on the training host's Python, as old as 3.9 (Amazon Linux 2023); the suite itself runs newer.
PY39_REQUIRED = "PREFLIGHT_REQUIRE_PY39"  # set by `make test` (Makefile): a missing 3.9 fails instead of skipping


def need_python39(reason: str) -> None:
    """Skip for want of Python 3.9, or fail under `make test`, where the 3.9 coverage is required."""
    if os.environ.get(PY39_REQUIRED):
        pytest.fail(f"{reason}; {PY39_REQUIRED} is set (make test): the Python 3.9 coverage is required",
                    pytrace=False)
    pytest.skip(f"{reason}: Python 3.9 is NOT covered by this run")


@pytest.fixture(scope="session")
def venv39() -> Path:
    """The Python 3.9 venv holding the probe's requirements (.venv39, built by `make test`)."""
    python = ROOT / ".venv39" / "bin" / "python"
    if not python.exists():
        need_python39("no Python 3.9 venv at .venv39 (make test builds it from ~/.pyenv/versions/3.9.* or "
                      "python3.9 on PATH)")
    return python


def pytest_terminal_summary(terminalreporter) -> None:
    """A 3.9 skip (possible only outside `make test`) is said in the summary, not only under -rs."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "Python 3.9 is NOT covered" in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"Python 3.9 NOT covered: {len(skipped)} test(s) skipped for want of 3.9 "
                                    "(make test builds .venv39, and fails when no 3.9 can be found)", yellow=True)


@pytest.fixture(scope="session")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project venv with nothing installed, on Python 3.9 when this machine has one (else the base
    interpreter): what the probe's children must make do with. Returns its python."""
    base = python39() or getattr(sys, "_base_executable", sys.executable)
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True)
    return venv / "bin" / "python"
