"""The human report: one line per check, remediation under failures, a summary line last."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WORDS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "skip": "SKIP", "bootstrapped": "BOOT"}
_COLORS = {"pass": "32", "fail": "31", "warn": "33", "skip": "2", "bootstrapped": "36"}


def use_color(environ: Mapping[str, str], isatty: bool) -> bool:
    return isatty and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def check_lines(checks: list[dict[str, Any]], color: bool) -> list[str]:
    """One line per check, and the remediation under a failure or a warning."""
    lines = []
    width = max([20] + [len(check["id"]) for check in checks])
    for check in checks:
        word = _paint(f"{_WORDS[check['status']]:<4}", _COLORS[check["status"]], color)
        lines.append(f"{word} {check['id']:<{width}} {check['duration_s']:6.2f}s  {check['message']}")
        if check["status"] in ("fail", "warn") and check["remediation"]:
            lines.append(f"       ↳ {check['remediation']}")
        lines += _findings(check.get("details") or {})
    return lines


def _findings(details: dict[str, Any]) -> list[str]:
    """The lint check's findings, one line each, the first 20 and then a count."""
    shown = details.get("findings") or []
    lines = [f"       · {f['file']}:{f['line']} [{f['rule']}] {f['message']}" for f in shown]
    if details.get("total", 0) > len(shown):
        lines.append(f"       · … and {details['total'] - len(shown)} more (counts per rule above; narrow "
                     "PREFLIGHT_LINT_PATHS or suppress rules to see them)")
    return lines


def render(artifact: dict[str, Any], color: bool) -> str:
    lines = check_lines(artifact["checks"], color)
    s = artifact["checks_summary"]
    status = _paint(artifact["status"], "32" if artifact["status"] == "READY" else "31", color)
    lines.append(f"{status}: {s['passed']} passed, {s['failed']} failed, {s['warnings']} warnings, "
                 f"{s['skipped']} skipped of {s['total']} checks in {artifact['preflight_duration_seconds']:.1f}s"
                 f" · run {artifact['run_id']}")
    if artifact["status"] != "READY":
        lines.append(f"next action: {artifact['next_action']}")
    return "\n".join(lines)
