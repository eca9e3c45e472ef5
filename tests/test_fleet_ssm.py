"""Issue 24 on ssm: preflight_all.sh against the moto server and the SSM agent emulator — the fleet-wide
plan holds the projects' summed spot vCPUs to the quota, and a stopped fleet leaves no instance."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import DEMO_CONFIG
from tests.ssm_support import SLOW_PYTHON, instances, live_instances, ssm_env

STANDARD = "L-34B43A08"  # "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"


@pytest.fixture(autouse=True)
def default_emulator(world, moto_harness):
    moto_harness.reset()
    yield
    moto_harness.reset()
    assert live_instances() == {}, "a fleet run left an instance pending or running"


def configs(world, *names: str) -> list[str]:
    """Copies of the demo's config next to it (so its relative paths still hold), one per project."""
    base = (world["repo"] / DEMO_CONFIG).read_text()
    paths = []
    for name in names:
        path = world["repo"] / DEMO_CONFIG.parent / f"fleet-{name}.env"
        path.write_text(base.replace("PROJECT_NAME=predictor", f"PROJECT_NAME={name}"))
        paths.append(str(path))
    return paths


def preflight_all(world, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(world["repo"] / "infra_scripts" / "preflight_all.sh"), *args],
                          env=ssm_env(world, **overrides), capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL)


def summary_of(world, stdout: str) -> dict:
    from preflight.fleet.summary import validate

    summary = json.loads(stdout)
    validate(summary)
    on_disk = world["repo"] / "artifacts" / "preflight" / "_all" / summary["run_id"] / "summary.json"
    assert json.loads(on_disk.read_text()) == summary
    return summary


def most_at_once(world, summary: dict) -> int:
    """How many of the fleet's runs overlapped at most, from each run.json's start and end."""
    edges = []
    for row in summary["projects"]:
        record = json.loads((Path(row["results"]) / "run.json").read_text())
        start, end = (datetime.fromisoformat(record[k].replace("Z", "+00:00")) for k in ("started_at", "finished_at"))
        edges += [(start, 1), (end, -1)]
    running = peak = 0
    for _when, step in sorted(edges):  # an end sorts before a start at the same second: no overlap
        running += step
        peak = max(peak, running)
    return peak


def test_three_projects_over_the_quota_run_two_at_a_time_all_ready(world, moto_harness):
    moto_harness.configure(spot_vcpu_quotas={STANDARD: 4})  # t3.micro / t3.small: 2 vCPUs each
    out = preflight_all(world, "--json", *configs(world, "fleet-a", "fleet-b", "fleet-c"))
    assert out.returncode == 0, out.stderr[-4000:]
    summary = summary_of(world, out.stdout)
    assert [r["status"] for r in summary["projects"]] == ["READY"] * 3
    (standard,) = summary["fleet_plan"]["classes"]
    assert (standard["quota_class"], standard["quota_vcpus"], standard["demand_vcpus"]) == ("Standard", 4, 6)
    assert standard["demand_at_concurrency_vcpus"] == 4 and standard["fits_at_once"] == 2
    assert summary["concurrency"] == {"requested": None, "default": 3, "used": 2}
    assert out.stderr.count("concurrency lowered from 3 to 2") == 1
    assert most_at_once(world, summary) <= 2
    for row in summary["projects"]:
        assert set(instances(row["run_id"]).values()) == {"terminated"}
        assert row["estimated_cost_usd"] is not None


def test_a_project_over_the_quota_alone_exit_2_nothing_launched(world, moto_harness):
    moto_harness.configure(spot_vcpu_quotas={STANDARD: 2})
    out = preflight_all(world, "--json", *configs(world, "fleet-big"), EC2_INSTANCE_TYPES="t3.xlarge")
    assert out.returncode == 2, out.stderr[-3000:]
    assert "fleet-big alone does not fit the spot vCPU quota" in out.stderr
    assert "spot vCPU quota 2 (L-34B43A08) is below its 4 vCPUs" in out.stderr and "nothing launched" in out.stderr
    summary = summary_of(world, out.stdout)
    assert summary["projects"][0]["status"] == "NOT_STARTED" and summary["concurrency"]["used"] == 0
    assert instances(summary["projects"][0]["run_id"]) == {}
    assert not (world["repo"] / "artifacts" / "preflight" / "fleet-big").exists()


def _wait(condition, what: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"preflight_all.sh ended before {what}: {proc.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.2)


def test_sigterm_to_the_parent_reaches_every_run_and_each_tears_down(world, tmp_path: Path):
    slow = tmp_path / "slowpy"
    slow.write_text(SLOW_PYTHON.format(seconds=3041))
    slow.chmod(0o755)
    env = ssm_env(world, PYTHON=str(slow), REMOTE_WORK_DIR=str(tmp_path / "cold-host"))
    proc = subprocess.Popen([str(world["repo"] / "infra_scripts" / "preflight_all.sh"), "--json",
                             *configs(world, "fleet-x", "fleet-y")], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pgrep = ["pgrep", "-f", "sleep 3041"]
    _wait(lambda: len(subprocess.run(pgrep, capture_output=True, text=True).stdout.split()) >= 2,
          "both bootstraps running", proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err[-3000:]
    summary = summary_of(world, out)
    assert summary["status"] == "INTERRUPTED" and summary["interrupted_by"] == "TERM"
    assert [r["exit_code"] for r in summary["projects"]] == [143, 143]
    for row in summary["projects"]:
        assert set(instances(row["run_id"]).values()) == {"terminated"}
    deadline = time.monotonic() + 10  # the emulator reaps a terminated host's step on its next poll
    while subprocess.run(pgrep, capture_output=True).returncode == 0:
        assert time.monotonic() < deadline, "a terminated host's step still runs"
        time.sleep(0.2)
