"""The lint findings a readiness artifact holds: whole ones, ones known only by rule, file and line
(beyond the first 20), suppressed ones; and what the artifact does not hold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from preflight.lint.rules import DOCS


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # warn · info
    file: str
    line: int  # 0: no line (the config, a file that does not parse)
    message: str
    remediation: str
    suppression: str = ""  # "" · inSource (`# preflight: ignore[rule]`) · external (PREFLIGHT_LINT_IGNORE)


@dataclass(frozen=True)
class Lint:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ran: bool = True  # False: lint did not run to the end, so an empty list proves nothing


def _finding(item: dict[str, Any], suppression: str = "") -> Finding:
    return Finding(str(item.get("rule")), str(item.get("severity", "warn")), str(item.get("file")),
                   int(item.get("line") or 0), str(item.get("message", "")), str(item.get("remediation", "")),
                   suppression)


def _located(rule: str, file: str, line: int) -> Finding:
    doc = DOCS.get(rule)
    if doc is None:
        return Finding(rule, "warn", file, line, f"{rule} (details cut from the artifact)", "")
    return Finding(rule, doc.severity, file, line, f"{doc.summary}: {doc.why}", doc.remediation)


def _the_rest(details: dict[str, Any], whole: list[Finding]) -> list[Finding]:
    """Findings known by location only: every location minus the ones the whole findings cover."""
    covered = Counter((f.rule, f.file, f.line) for f in whole)
    rest = []
    for rule, files in (details.get("locations") or {}).items():
        for file, lines in files.items():
            for line in lines:
                if covered[(rule, file, line)]:
                    covered[(rule, file, line)] -= 1
                else:
                    rest.append(_located(rule, file, int(line)))
    return rest


def read(artifact: dict[str, Any] | None) -> Lint:
    check = next((c for c in (artifact or {}).get("checks", []) if c["id"] == "lint"), None)
    if check is None:
        return Lint(notes=["no lint verdict: " + ("no readiness artifact" if artifact is None else
                                                  "the artifact has no lint check")], ran=False)
    details = check.get("details") or {}
    if check["status"] == "skip" or "findings" not in details:
        cut = details.get("truncated")
        note = ("the lint details were cut from the artifact to keep it under 16 KB" if cut else
                f"lint {'skipped' if check['status'] == 'skip' else 'did not finish'}: {check['message']}")
        return Lint(notes=[note], ran=bool(cut))
    whole = [_finding(f) for f in details["findings"]]
    suppressed = [_finding(f, f.get("suppression") or "external") for f in details.get("suppressed") or []]
    notes = []
    missing = int(details.get("suppressed_total") or 0) - len(suppressed)
    if missing > 0:
        notes.append(f"{missing} more suppressed finding(s) are not in the artifact (it keeps the first 20)")
    return Lint(whole + _the_rest(details, whole) + suppressed, notes)
