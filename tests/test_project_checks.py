"""Issue 12 item 5: the project's own preflight (PREFLIGHT_PROJECT_CHECKS), each its own check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKS = '''
import os

def env_ok():
    return None                      # returning normally: pass

def says_false():
    return False                     # a falsy value: fail

def lists_problems():
    return ["DATA_BUCKET is not set", "MODEL_DIR is not writable"]

def raises():
    raise RuntimeError("bucket s3://models unreachable")

class TrainingPreflight:             # the predictor's shape: a class whose instance has run()
    def run(self):
        return [] if os.environ.get("AWS_REGION") else ["AWS_REGION missing"]

class Callable_:
    def __call__(self):
        return True

def hangs():
    import time
    time.sleep(60)
'''


@pytest.fixture
def probe(tmp_path: Path, run_cli):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "proj_checks.py").write_text(CHECKS)

    def run(targets: str, **env: str) -> dict:
        config = tmp_path / "w.env"
        config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\n"
                          f"ARCTICDB_URI=\nPREFLIGHT_PROJECT_CHECKS={targets}\nCHECK_TIMEOUTS=project:hangs:2\n")
        out = run_cli("probe", "--config", str(config), "--json",
                      env={"PYTHONPATH": f"{tmp_path / 'proj'}:{ROOT}", **env})
        return {c["id"]: c for c in json.loads(out.stdout)["checks"]}

    return run


def test_each_callable_is_its_own_check_with_the_contract(probe):
    checks = probe("proj_checks:env_ok,proj_checks:says_false,proj_checks:lists_problems,proj_checks:raises,"
                   "proj_checks:TrainingPreflight,proj_checks:Callable_", AWS_REGION="eu-west-1")
    assert checks["project:env_ok"]["status"] == "pass"
    falsy = checks["project:says_false"]
    assert falsy["status"] == "fail" and "returned False" in falsy["message"]
    listed = checks["project:lists_problems"]
    assert listed["status"] == "fail" and "DATA_BUCKET is not set" in listed["message"]
    assert "MODEL_DIR is not writable" in listed["message"]
    raised = checks["project:raises"]
    assert raised["status"] == "fail" and "RuntimeError: bucket s3://models unreachable" in raised["message"]
    assert checks["project:TrainingPreflight"]["status"] == "pass"
    assert checks["project:Callable_"]["status"] == "pass"
    assert all(c["category"] == "project" for i, c in checks.items() if i.startswith("project:"))
    # User code ran: the read-only verdict says what it covered (here: no credentials to write with).
    readonly = checks["aws.readonly"]
    assert readonly["status"] in ("warn", "pass") and "botocore guard" in readonly["message"]


def test_class_contract_fails_listing_its_problems(probe):
    checks = probe("proj_checks:TrainingPreflight")  # no AWS_REGION in the child's environment
    assert checks["project:TrainingPreflight"]["status"] == "fail"
    assert "AWS_REGION missing" in checks["project:TrainingPreflight"]["message"]


def test_a_hanging_project_check_is_killed_at_its_deadline(probe):
    checks = probe("proj_checks:hangs")
    assert checks["project:hangs"]["status"] == "fail" and "did not finish" in checks["project:hangs"]["message"]


def test_bad_targets_are_config_errors(tmp_path: Path, run_cli):
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_PROJECT_CHECKS=no_colon_here\n")
    out = run_cli("probe", "--config", str(config))
    assert out.returncode == 2 and "PREFLIGHT_PROJECT_CHECKS" in out.stderr and "module:callable" in out.stderr
