"""Issue 25: `preflight probe --junit PATH --sarif PATH` and GitHub Actions output, as a subprocess on a
real project; a report path that cannot be written is a usage error before any check runs."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests import report_schemas

TRAIN = """
import pickle
import torch

def train(model):
    model = model.to('cuda')  # preflight: ignore[gpu-code-gpu-check-off]
    pickle.dump(model, open('model.pkl', 'wb'))
"""


def project(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    (root / "proj").mkdir(parents=True)
    (root / "proj" / "train.py").write_text(textwrap.dedent(TRAIN))
    config = root / "w.env"
    config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI=\n"
                      "PREFLIGHT_REQUIRED_ENV=NEEDED_VAR\nTRAIN_TIMEOUT_SECONDS=1800\n")
    return root, config


def test_probe_writes_junit_sarif_and_github_output(tmp_path: Path, run_cli):
    root, config = project(tmp_path)
    summary = tmp_path / "step-summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(root),
           "NO_COLOR": "1"}
    out = run_cli("probe", "--config", str(config), "--json", "--junit", str(tmp_path / "out" / "junit.xml"),
                  "--sarif", str(tmp_path / "out" / "lint.sarif"), env=env, cwd=root / "proj")
    assert out.returncode == 1, out.stderr  # NEEDED_VAR is missing
    artifact = json.loads(out.stdout)  # --json: stdout is the artifact and nothing else
    xml = report_schemas.junit(tmp_path / "out" / "junit.xml")
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {c["id"] for c in artifact["checks"]}
    assert not cases["env"].is_passed and cases["env"].result[0].message == artifact["failures"][0]["message"]
    sarif = json.loads((tmp_path / "out" / "lint.sarif").read_text())
    report_schemas.sarif(sarif)
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                bool(r.get("suppressions"))) for r in sarif["runs"][0]["results"]}
    assert ("ephemeral-save", "proj/train.py", False) in results  # relative to GITHUB_WORKSPACE
    assert ("gpu-code-gpu-check-off", "proj/train.py", True) in results
    assert "::error title=preflight check env::" in out.stderr
    assert "::warning file=proj/train.py,line=7,title=lint ephemeral-save::" in out.stderr
    assert "### spot-preflight FAILED" in summary.read_text()


def test_no_github_output_outside_actions_or_with_format_text(tmp_path: Path, run_cli):
    root, config = project(tmp_path)
    plain = run_cli("probe", "--config", str(config), env={"NEEDED_VAR": "1"}, cwd=root / "proj")
    forced_off = run_cli("probe", "--config", str(config), "--format", "text",
                         env={"NEEDED_VAR": "1", "GITHUB_ACTIONS": "true"}, cwd=root / "proj")
    assert plain.returncode == 0 and forced_off.returncode == 0
    assert "::" not in plain.stderr and "::" not in forced_off.stderr


def test_unwritable_report_path_is_a_usage_error_before_any_check(tmp_path: Path, run_cli):
    root, config = project(tmp_path)
    (tmp_path / "a-file").write_text("")
    out = run_cli("probe", "--config", str(config), "--out", str(tmp_path / "a.json"),
                  "--junit", str(tmp_path / "a-file" / "junit.xml"), "--sarif", str(tmp_path / "lint.sarif"),
                  cwd=root / "proj")
    assert out.returncode == 2 and "--junit" in out.stderr and "is not a directory" in out.stderr
    assert out.stdout == "" and not (tmp_path / "a.json").exists() and not (tmp_path / "lint.sarif").exists()
    directory = run_cli("probe", "--config", str(config), "--sarif", str(tmp_path), cwd=root / "proj")
    assert directory.returncode == 2 and "is a directory" in directory.stderr


def test_help_names_the_report_flags(run_cli):
    probe = run_cli("probe", "--help").stdout
    assert "--junit PATH" in probe and "--sarif PATH" in probe and "GITHUB_ACTIONS=true" in probe
    assert "--json" in run_cli("verify", "--help").stdout
