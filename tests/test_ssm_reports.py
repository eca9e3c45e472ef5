"""Issue 25: on the ssm transport the probe runs on the instance, and the CI reports are still written
on the caller's machine, from the artifact brought back and verified there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import report_schemas
from tests.ssm_support import instances, live_instances, spot


@pytest.fixture(autouse=True)
def default_emulator(world, moto_harness):
    moto_harness.reset()
    yield
    assert live_instances() == {}, "an ssm path left an instance pending or running"


def test_reports_come_from_the_fetched_artifact(world, tmp_path: Path):
    summary = tmp_path / "summary.md"
    out = spot(world, "--preflight-only", "--run-id", "ssm-reports", "--json", "--junit", str(tmp_path / "j.xml"),
               "--sarif", str(tmp_path / "l.sarif"), GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary),
               GITHUB_WORKSPACE=str(world["repo"]))
    assert out.returncode == 0, out.stderr[-4000:]
    artifact = json.loads((world["repo"] / "artifacts" / "preflight" / "predictor" / "ssm-reports" /
                           "preflight-readiness.json").read_text())
    xml = report_schemas.junit(tmp_path / "j.xml")
    names = {case.name for suite in xml for case in suite}
    assert names == {c["id"] for c in artifact["checks"]} | {"bootstrap", "deps", "probe"}
    sarif = json.loads((tmp_path / "l.sarif").read_text())
    report_schemas.sarif(sarif)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"examples/predictor/src/predictor/train.py"}  # the host's project, as the repo has it
    assert "::warning file=examples/predictor/src/predictor/train.py,line=28," in out.stderr
    assert "### spot-preflight READY · run `ssm-reports`" in summary.read_text()
    assert json.loads(out.stdout)["status"] == "READY"
    assert set(instances("ssm-reports").values()) == {"terminated"}


def test_no_capacity_is_one_junit_error_naming_why(world, moto_harness, tmp_path: Path):
    moto_harness.configure(launch_errors={"t3.micro": "InsufficientInstanceCapacity",
                                            "t3.small": "InsufficientInstanceCapacity"})
    out = spot(world, "--preflight-only", "--run-id", "ssm-reports-nocap", "--junit", str(tmp_path / "j.xml"))
    assert out.returncode == 3
    xml = report_schemas.junit(tmp_path / "j.xml")
    by = {case.name: case for suite in xml for case in suite}
    assert by["run"].result[0].message.startswith("exit 3: ")
    assert [name for name, case in by.items() if case.is_skipped] == ["bootstrap", "deps", "probe"]
