"""Issue 25: `preflight verify --json` prints its verdict as one JSON object matching
preflight/schema/verify-result.schema.json, and nothing else on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from preflight import artifact as art
from preflight.config import load
from preflight.model import CheckResult

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "preflight" / "schema" / "verify-result.schema.json").read_text())


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "w.env"
    path.write_text("PREFLIGHT_REQUIRED_ENV=AWS_REGION\n")
    return path


def write(tmp_path: Path, config: Path, *statuses: str) -> Path:
    results = [CheckResult(f"c{n}", "test", s, f"message {n}", f"fix {n}" if s == "fail" else "", 0.1, {})
               for n, s in enumerate(statuses)]
    artifact = art.build(results, run_id="r9", mode="preflight-only", identity_hash=load(config, {}).identity_hash(),
                         runtime_config_hash="sha256:" + "1" * 64, duration_s=1.0, environ={}, diagnostics={})
    path = tmp_path / "a.json"
    art.write_atomic(artifact, path)
    return path


def verdict(run_cli, *args: str, code: int) -> dict:
    out = run_cli("verify", *args, "--json")
    assert out.returncode == code, out.stdout + out.stderr
    result = json.loads(out.stdout)  # the whole of stdout is one JSON object
    jsonschema.validate(result, SCHEMA)
    assert result["exit_code"] == code
    return result


def test_ready(tmp_path: Path, run_cli, config: Path):
    result = verdict(run_cli, str(write(tmp_path, config, "pass", "warn")), "--config", str(config), code=0)
    assert result["verdict"] == "READY" and result["run_id"] == "r9" and result["failures"] == []
    assert result["binding"] == {"path": str(config), "checked": True} and result["kind"] == "readiness"
    assert result["checks_summary"]["warnings"] == 1 and result["next_action"] == "proceed"


def test_failed_lists_the_failures(tmp_path: Path, run_cli, config: Path):
    result = verdict(run_cli, str(write(tmp_path, config, "pass", "fail")), "--config", str(config), code=1)
    assert result["verdict"] == "FAILED" and result["status"] == "FAILED"
    assert result["failures"] == [{"id": "c1", "message": "message 1", "remediation": "fix 1"}]
    assert result["next_action"] == "c1: fix 1"


def test_unusable_and_usage(tmp_path: Path, run_cli, config: Path):
    missing = verdict(run_cli, str(tmp_path / "none.json"), code=6)
    assert missing["verdict"] == "UNUSABLE" and "missing" in missing["reason"] and "run_id" not in missing
    assert missing["binding"] == {"path": None, "checked": False}
    other = tmp_path / "other.env"
    other.write_text("PREFLIGHT_REQUIRED_ENV=SOMETHING_ELSE\n")
    mismatch = verdict(run_cli, str(write(tmp_path, config, "pass")), "--config", str(other), code=6)
    assert "config hash mismatch" in mismatch["reason"]
    usage = verdict(run_cli, str(tmp_path / "a.json"), "--max-age", "soon", code=2)
    assert usage["verdict"] == "USAGE" and "--max-age" in usage["reason"]


def test_campaign(tmp_path: Path, run_cli):
    usage = verdict(run_cli, str(tmp_path / "a.json"), "--campaign", str(tmp_path / "none.yaml"), code=2)
    assert usage["kind"] == "campaign" and usage["verdict"] == "USAGE"
    campaign = ROOT / "examples" / "campaign" / "ml_metaopt_campaign.yaml"
    missing = verdict(run_cli, str(tmp_path / "a.json"), "--campaign", str(campaign), code=6)
    assert missing["binding"] == {"path": str(campaign), "checked": True} and "missing" in missing["reason"]


def test_without_json_the_human_line_is_unchanged(tmp_path: Path, run_cli, config: Path):
    out = run_cli("verify", str(write(tmp_path, config, "pass")), "--config", str(config))
    assert out.returncode == 0 and out.stdout.startswith(str(tmp_path / "a.json") + ": READY run r9")
