"""Issue 25: `spot_train.sh --json` names the failing and warning checks (bounded like the artifact)
and the results directory, and matches its published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from preflight import artifact as art
from preflight.model import CheckResult

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "preflight" / "schema" / "run-summary.schema.json").read_text())


def check(id_: str, status: str, message: str = "m", remediation: str = "") -> CheckResult:
    return CheckResult(id_, "test", status, message, remediation, 0.1, {})


def results_dir(tmp_path: Path, results: list[CheckResult]) -> Path:
    run = tmp_path / "artifacts" / "preflight" / "r1"
    run.mkdir(parents=True)
    artifact = art.build(results, run_id="r1", mode="preflight-only", identity_hash="sha256:" + "0" * 64,
                         runtime_config_hash="sha256:" + "1" * 64, duration_s=1.0, environ={}, diagnostics={})
    art.write_atomic(artifact, run / "preflight-readiness.json")
    (run / "steps.tsv").write_text("bootstrap\t0\t0.2\ndeps\t0\t0.1\nprobe\t1\t1.5\n")
    return run


def summarise(run_cli, run: Path, *fields: str) -> dict:
    out = run_cli(str(run), "run_id=r1", "mode=preflight-only", "transport=local", "exit_code=1", "status=FAILED",
                  "reason=checks failed", f"artifact={run / 'preflight-readiness.json'}", *fields,
                  module="preflight.runrecord")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    jsonschema.validate(summary, SCHEMA)
    return summary


def test_summary_lists_failures_then_warnings_with_their_remediation_and_the_results_dir(tmp_path: Path, run_cli):
    run = results_dir(tmp_path, [check("a", "pass"), check("lint", "warn", "1 finding", "advisory: fix"),
                                 check("arcticdb.freshness", "fail", "CL: last row 5d old", "reseed CL"),
                                 check("b", "skip")])
    summary = summarise(run_cli, run)
    assert summary["checks"] == [
        {"id": "arcticdb.freshness", "status": "fail", "message": "CL: last row 5d old", "remediation": "reseed CL"},
        {"id": "lint", "status": "warn", "message": "1 finding", "remediation": "advisory: fix"}]
    assert summary["checks_omitted"] == 0
    assert summary["results"] == str(run) and summary["status"] == "FAILED"
    record = json.loads((run / "run.json").read_text())
    assert record["results"] == str(run) and record["readiness"]["checks"] == summary["checks"]


def test_summary_is_bounded_in_count_and_length(tmp_path: Path, run_cli):
    many = [check(f"w{i:02}", "warn", "short") for i in range(45)]
    long = [check("big", "fail", "x" * 3000, "y" * 3000)]
    summary = summarise(run_cli, results_dir(tmp_path, many + long))
    assert len(summary["checks"]) == 40 and summary["checks_omitted"] == 6
    assert summary["checks"][0]["id"] == "big"  # failures first: they are what a gate needs
    assert len(summary["checks"][0]["message"]) <= 600 and summary["checks"][0]["message"].endswith("[truncated]")


def test_a_run_without_an_artifact_still_matches_the_schema(tmp_path: Path, run_cli):
    run = tmp_path / "r2"
    run.mkdir()
    (run / "steps.tsv").write_text("bootstrap\t1\t0.2\n")
    out = run_cli(str(run), "run_id=r2", "mode=preflight-only", "transport=local", "exit_code=5", "status=ERROR",
                  "reason=bootstrap step failed", "artifact=", module="preflight.runrecord")
    summary = json.loads(out.stdout)
    jsonschema.validate(summary, SCHEMA)
    assert summary["checks"] == [] and summary["checks_summary"] is None and summary["results"] == str(run)
    # the fallback spot_train.sh prints when even run.json's writer crashed
    jsonschema.validate({"exit_code": 5, "reason": "run.json NOT written", "run_id": "r2", "status": "ERROR"}, SCHEMA)
