"""One summary for a fleet run: a row per project (status, failing checks, wall time, cost), the fleet's
exit code, the table people read, and `artifacts/preflight/_all/<run_id>/summary.json` (JSON Schema:
preflight/schema/fleet-summary.schema.json, validated before it is written)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SIGNALS = {"INT": 130, "TERM": 143}
# What each class of run means for the fleet; a code outside it (a child killed by a signal: 137, ...)
# is a run that ended without its own verdict, read as a failed step.
TIER_STEP = (3, 4, 5, 6)


def fleet_exit(codes: list[int], signal: str = "") -> int:
    """0 only if every project is READY; else 7 over everything (an instance may be running), then the
    parent's own interruption (130/143), then 2, then the highest of 3/4/5/6 (any other code counts as
    5), then 1."""
    if 7 in codes:
        return 7
    if signal:
        return SIGNALS[signal]
    if 2 in codes:
        return 2
    stepped = [c if c in TIER_STEP else 5 for c in codes if c not in (0, 1)]
    if stepped:
        return max(stepped)
    return 1 if 1 in codes else 0


def status_word(code: int | None) -> str:
    if code is None:
        return "NOT_STARTED"
    return {0: "READY", 1: "FAILED", 2: "CONFIG_ERROR", 3: "NO_CAPACITY", 4: "UNREACHABLE", 5: "STEP_FAILED",
            6: "ARTIFACT_INVALID", 7: "TEARDOWN_UNCONFIRMED", 130: "INTERRUPTED", 143: "INTERRUPTED"}.get(
                code, "KILLED" if code > 128 else "ERROR")


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class Exit:
    code: int
    wall_s: float


def read_exits(directory: Path) -> dict[str, Exit]:
    """exits/<project>: `<exit code>\\t<wall seconds>`, written by each child's wrapper when it ends."""
    found: dict[str, Exit] = {}
    for path in sorted((directory / "exits").glob("*")) if (directory / "exits").is_dir() else []:
        fields = path.read_text(encoding="utf-8").split()
        if len(fields) >= 2 and fields[0].isdigit():
            found[path.name] = Exit(int(fields[0]), float(fields[1]))
    return found


def project_row(member: dict[str, str], ended: Exit | None, results_root: Path,
                plan: dict[str, Any]) -> dict[str, Any]:
    results = results_root / member["project"] / member["run_id"]
    record, artifact = _json(results / "run.json"), _json(results / "preflight-readiness.json")
    code = ended.code if ended else None
    failing = [f.get("id", "?") for f in artifact.get("failures", []) if isinstance(f, dict)]
    reason = record.get("reason") or ""
    if ended and not record:
        reason = f"ended with exit {code} and no run.json" + (f" (killed by signal {code - 128})" if code > 128 else "")
    cost = record.get("estimated_cost_usd")
    return {"project": member["project"], "config": member["config"], "transport": member["transport"],
            "run_id": member["run_id"], "status": status_word(code), "exit_code": code,
            "failing_checks": failing, "reason": reason, "wall_seconds": round(ended.wall_s, 1) if ended else None,
            "estimated_cost_usd": cost if isinstance(cost, (int, float)) else None,
            "cost_ceiling_usd": plan.get("estimated_cost_usd"),
            "results": str(results) if results.is_dir() else None}


def build(run_id: str, members: list[dict[str, str]], directory: Path, results_root: Path,
          times: dict[str, Any], signal: str = "", stopped: int = 0) -> dict[str, Any]:
    """stopped: the exit code of whatever ended the launching early (a failed fleet plan: 2 or 3)."""
    exits = read_exits(directory)
    fleet = _json(directory / "fleet_plan.json") or None
    rows = [project_row(m, exits.get(m["project"]), results_root, _json(directory / "plans" / f"{m['project']}.json"))
            for m in members]
    codes = [r["exit_code"] for r in rows if r["exit_code"] is not None]
    if stopped:
        codes.append(stopped)
    elif not signal and len(codes) < len(rows):  # a project that never ran is never READY
        codes.append(5)
    code = fleet_exit(codes, signal)
    return {"schema_version": SCHEMA_VERSION, "run_id": run_id, "status": _fleet_status(code), "exit_code": code,
            "interrupted_by": signal or None, "started_at": times["started_at"], "finished_at": times["finished_at"],
            "wall_seconds": times["wall_seconds"], "concurrency": times["concurrency"], "fleet_plan": fleet,
            "projects": rows,
            "counts": {word: sum(r["status"] == word for r in rows) for word in sorted({r["status"] for r in rows})}}


def _fleet_status(code: int) -> str:
    return {0: "READY", 1: "FAILED", 7: "TEARDOWN_UNCONFIRMED", 130: "INTERRUPTED", 143: "INTERRUPTED"}.get(
        code, "ERROR")


def load_schema() -> dict[str, Any]:
    return json.loads(resources.files("preflight").joinpath("schema/fleet-summary.schema.json").read_text())


def validate(summary: dict[str, Any]) -> None:
    import jsonschema

    jsonschema.validate(summary, load_schema())


def _cell(row: dict[str, Any]) -> str:
    if row["failing_checks"]:
        return ", ".join(row["failing_checks"])
    if row["status"] == "READY":
        return "-"
    return f"({row['reason']})" if row["reason"] else "-"


def _money(row: dict[str, Any]) -> str:
    if row["estimated_cost_usd"] is not None:
        return f"${row['estimated_cost_usd']:.4f}"
    if row["cost_ceiling_usd"] is not None and row["status"] == "NOT_STARTED":
        return f"<= ${row['cost_ceiling_usd']:.4f}"
    return "-"


def table(summary: dict[str, Any]) -> str:
    head = ("project", "status", "failing checks", "wall", "cost")
    rows = [(r["project"], r["status"], _cell(r), "-" if r["wall_seconds"] is None else f"{r['wall_seconds']:.1f}s",
             _money(r)) for r in summary["projects"]]
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(x[:-1], widths)) + "  " + x[-1] for x in [head, *rows]]
    counts = ", ".join(f"{n} {word}" for word, n in summary["counts"].items())
    lines.append(f"{summary['status']}: {len(rows)} projects ({counts}), exit {summary['exit_code']}, "
                 f"{summary['wall_seconds']:.1f}s at concurrency {summary['concurrency']['used']}")
    return "\n".join(lines)
