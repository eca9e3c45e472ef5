"""Report the run's outcome to a Step Functions task token (.waitForTaskToken)."""

from __future__ import annotations

import json
from typing import Any

# The SNS message is the failure's cause: a few failing checks, each field cut, within SendTaskFailure's limit.
MAX_FAILURES, MAX_FIELD, MAX_CAUSE = 5, 300, 32000
ERRORS = {1: "Preflight.ChecksFailed", 2: "Preflight.Usage", 3: "Preflight.NoCapacity",
          4: "Preflight.Unreachable", 5: "Preflight.StepFailed", 6: "Preflight.ArtifactInvalid",
          7: "Preflight.TeardownUnconfirmed", 8: "Preflight.SpotInterrupted", 130: "Preflight.Interrupted",
          143: "Preflight.Interrupted"}


def error_name(exit_code: int) -> str:
    return ERRORS.get(exit_code, "Preflight.Error")


def report(sfn: Any, token: str, exit_code: int, summary_json: str, fallback: dict[str, str] | None = None) -> None:
    """`fallback` fills what an early exit (a usage error, a refused gate) has no summary for: its reason."""
    try:
        summary = json.loads(summary_json) if summary_json else {}
    except json.JSONDecodeError:
        summary = {"raw": summary_json[:1000]}
    for key, value in (fallback or {}).items():
        if value and not summary.get(key):
            summary[key] = value
    compact = {k: summary.get(k) for k in ("status", "run_id", "mode", "checks_summary", "next_action")}
    if exit_code == 0:
        sfn.send_task_success(taskToken=token, output=json.dumps(compact, sort_keys=True))
        return
    # The SNS message is this cause: what failed and how to fix it, not only next_action.
    cause = {**compact, "exit_code": exit_code, "reason": summary.get("reason"), "instance": summary.get("target"),
             "failures": failures(summary), "failed_step": summary.get("failed_step"),
             "results": summary.get("results")}
    sfn.send_task_failure(taskToken=token, error=error_name(exit_code), cause=json.dumps(cause)[:MAX_CAUSE])


def failures(summary: dict[str, Any]) -> list[dict[str, str]]:
    """The summary's failing checks (it lists them before the warnings), fewer and shorter."""
    def cut(text: Any) -> str:
        text = str(text or "")
        return text if len(text) <= MAX_FIELD else text[:MAX_FIELD - 1] + "…"

    failing = [c for c in summary.get("checks") or [] if isinstance(c, dict) and c.get("status") == "fail"]
    return [{"id": str(c.get("id")), "message": cut(c.get("message")), "remediation": cut(c.get("remediation"))}
            for c in failing[:MAX_FAILURES]]


def heartbeat(sfn: Any, token: str) -> None:
    sfn.send_task_heartbeat(taskToken=token)
