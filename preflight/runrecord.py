"""run.json for one orchestrator run, built from the steps.tsv the bash side appends to.

`python3 -m preflight.runrecord DIR KEY=VALUE ...` writes DIR/run.json and prints the compact
summary (the `--json` output of spot_train.sh). Standard library only: it runs on every exit path,
including ones where the venv does not exist.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

_NUMBERS = ("exit_code", "instance_seconds", "estimated_cost_usd")
# The failing and warning checks the summary lists, bounded as the artifact bounds its text: a CI
# system reads which checks failed and why from the summary alone.
LISTED_CHECKS = 40
LISTED_TEXT = 600
# The failing step's log, bounded: its last lines, each cut, are what a failure report shows.
MAX_LINES, MAX_LINE = 20, 200


def failing_step(run_dir: Path, steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last step that failed, with the last lines of its log (the readiness frame left out)."""
    from preflight.artifact import _shorten, without_frame  # standard library only, like this module

    failed = [s for s in steps if s.get("exit_code") not in (0, None)]
    if not failed:
        return None
    step = failed[-1]
    try:
        text = (run_dir / "logs" / f"{step['step']}.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    lines = [_shorten(line, MAX_LINE) for line in without_frame(text.splitlines())]
    return {"step": step["step"], "exit_code": step["exit_code"], "last_lines": lines[-MAX_LINES:]}


def read_steps(path: Path) -> list[dict[str, Any]]:
    steps = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, code, seconds = (line.split("\t") + ["", "", ""])[:3]
            steps.append({"step": name, "exit_code": int(code or 0), "duration_s": float(seconds or 0)})
    return steps


def build(run_dir: Path, fields: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {k: (float(v) if k in _NUMBERS and v else v) for k, v in fields.items()}
    if "exit_code" in record:
        record["exit_code"] = int(record["exit_code"])
    record["results"] = str(run_dir.absolute())
    record["steps"] = read_steps(run_dir / "steps.tsv")
    record["steps_seconds"] = round(sum(s["duration_s"] for s in record["steps"]), 3)
    artifact_path = run_dir / "preflight-readiness.json"
    if artifact_path.is_file():
        try:
            artifact = json.loads(artifact_path.read_text(encoding="utf-8"))
            record["readiness"] = {k: artifact.get(k) for k in ("status", "checks_summary", "next_action")}
            record["readiness"]["checks"], record["readiness"]["checks_omitted"] = flagged_checks(artifact)
        except (OSError, json.JSONDecodeError):
            record["readiness"] = {"status": "unreadable"}
    record["failed_step"] = failing_step(run_dir, record["steps"])
    return record


def flagged_checks(artifact: dict[str, Any]) -> tuple[list[dict[str, str]], int]:
    """(the failing, then the warning checks: id, status, message, remediation; how many were left out)."""
    from preflight.artifact import _shorten  # the artifact's own cut: "… [truncated]"

    checks = [c for c in artifact.get("checks") or [] if isinstance(c, dict)]
    flagged = [c for status in ("fail", "warn") for c in checks if c.get("status") == status]
    listed = [{"id": str(c.get("id")), "status": c["status"],
               "message": _shorten(str(c.get("message", "")), LISTED_TEXT),
               "remediation": _shorten(str(c.get("remediation", "")), LISTED_TEXT)} for c in flagged[:LISTED_CHECKS]]
    return listed, len(flagged) - len(listed)


def summary(record: dict[str, Any]) -> dict[str, Any]:
    readiness = record.get("readiness") or {}
    return {"status": record.get("status"), "exit_code": record.get("exit_code"), "run_id": record.get("run_id"),
            "mode": record.get("mode"), "transport": record.get("transport"),
            "artifact": record.get("artifact"), "results": record.get("results"),
            "checks_summary": readiness.get("checks_summary"), "checks": readiness.get("checks", []),
            "checks_omitted": readiness.get("checks_omitted", 0),
            "next_action": readiness.get("next_action"), "reason": record.get("reason"),
            "target": record.get("target"), "failed_step": record.get("failed_step")}


def write(run_dir: Path, record: dict[str, Any]) -> None:
    from preflight.artifact import write_atomic  # standard library only, like this module

    write_atomic(record, run_dir / "run.json")


# The run's own exit code when only its record failed: a run nobody can audit is not a clean success.
RECORD_FAILED = 5


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m preflight.runrecord DIR KEY=VALUE ...", file=sys.stderr)
        return 2
    run_dir = Path(argv[0])
    fields = dict(item.split("=", 1) for item in argv[1:] if "=" in item)
    record = build(run_dir, fields)
    try:
        write(run_dir, record)
    except OSError as exc:
        problem = f"run.json NOT written in {run_dir}: {exc.strerror or exc}"
        print(f"spot_train: {problem}", file=sys.stderr)
        if record.get("exit_code") == 0:
            record.update(exit_code=RECORD_FAILED, status="ERROR", reason=problem)
        else:
            record["reason"] = "; ".join(filter(None, [record.get("reason"), problem]))
        print(json.dumps(summary(record), sort_keys=True))
        return RECORD_FAILED
    print(json.dumps(summary(record), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
