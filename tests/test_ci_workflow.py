"""Issue 25: the example GitHub Actions workflow (docs/github-actions/preflight.yml) is a valid workflow
file — checked against the github-workflows schema check-jsonschema vendors (offline) — and the
preflight it runs uses flags spot_train.sh has, with the report files its later steps read."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "docs" / "github-actions" / "preflight.yml"


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=60)


def test_the_example_is_a_valid_workflow_and_a_broken_one_is_not(tmp_path: Path):
    valid = check_jsonschema(WORKFLOW)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    assert check_jsonschema(broken).returncode != 0  # the schema is really applied


def test_it_gates_pull_requests_with_the_flags_spot_train_has():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in workflow[True]  # PyYAML reads the key `on` as True
    (job,) = workflow["jobs"].values()
    run = next(step["run"] for step in job["steps"] if "spot_train.sh" in step.get("run", ""))
    helptext = subprocess.run([str(ROOT / "infra_scripts" / "spot_train.sh"), "--help"], capture_output=True,
                              text=True, timeout=30).stdout
    flags = set(re.findall(r"(--[a-z][a-z-]+)", run))
    assert {"--preflight-only", "--junit", "--sarif", "--json"} <= flags
    # A project's config: the root workflow.env names none, and a run of it exits 2 (issue 22).
    config = re.search(r"--config (\S+)", run).group(1)
    assert (ROOT / config).is_file() and "REPO_DIR=" in (ROOT / config).read_text()
    assert all(flag in helptext for flag in flags), flags
    junit = re.search(r"--junit (\S+)", run).group(1)
    sarif = re.search(r"--sarif (\S+)", run).group(1)
    uses = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == sarif
    assert uses["mikepenz/action-junit-report"]["with"]["report_paths"] == junit
    assert job["permissions"]["security-events"] == "write"
