"""SARIF 2.1.0 for the lint findings: every rule's metadata, each finding where it is (relative to
the repository, through the SRCROOT base), and the suppressed ones with their suppression."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from preflight.lint.rules import DOCS
from preflight.report_formats import lint_results
from preflight.report_formats.places import Places
from preflight.report_formats.run import Run

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVELS = {"warn": "warning", "info": "note"}
_JUSTIFICATIONS = {"inSource": "`# preflight: ignore[{rule}]` on the line", "external": "PREFLIGHT_LINT_IGNORE"}


def _rule(rule: str) -> dict[str, Any]:
    doc = DOCS[rule]
    return {"id": rule, "name": "".join(part.capitalize() for part in rule.split("-")),
            "shortDescription": {"text": doc.summary}, "fullDescription": {"text": f"{doc.summary}: {doc.why}."},
            "help": {"text": doc.remediation}, "defaultConfiguration": {"level": _LEVELS[doc.severity]},
            "properties": {"tags": ["spot-preflight", "lint"]}}


def _location(finding: lint_results.Finding, places: Places) -> dict[str, Any]:
    relative = places.relative(finding.file)
    where: dict[str, Any] = ({"uri": quote(relative), "uriBaseId": "SRCROOT"} if relative is not None else
                             {"uri": places.absolute(finding.file).as_uri()})
    physical: dict[str, Any] = {"artifactLocation": where}
    if finding.line > 0:
        physical["region"] = {"startLine": finding.line}
    return {"physicalLocation": physical}


def _result(finding: lint_results.Finding, index: dict[str, int], places: Places) -> dict[str, Any]:
    text = f"{finding.message} — {finding.remediation}" if finding.remediation else finding.message
    result: dict[str, Any] = {"ruleId": finding.rule, "level": _LEVELS.get(finding.severity, "warning"),
                              "message": {"text": text}, "locations": [_location(finding, places)]}
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    if finding.suppression:
        result["suppressions"] = [{"kind": finding.suppression, "status": "accepted",
                                   "justification": _JUSTIFICATIONS[finding.suppression].format(rule=finding.rule)}]
    return result


def render(run: Run, places: Places) -> dict[str, Any]:
    lint = lint_results.read(run.artifact)
    rules = list(DOCS)
    index = {rule: n for n, rule in enumerate(rules)}
    notes = [{"level": "warning" if not lint.ran else "note", "message": {"text": note}} for note in lint.notes]
    sarif_run: dict[str, Any] = {
        "tool": {"driver": {"name": "spot-preflight lint", "version": run.tool_version or "unknown",
                            "rules": [_rule(rule) for rule in rules]}},
        "automationDetails": {"id": f"spot-preflight-lint/{run.run_id}"},
        "originalUriBaseIds": {"SRCROOT": {"uri": Path(places.repo_root).as_uri().rstrip("/") + "/"}},
        "invocations": [{"executionSuccessful": lint.ran, "toolExecutionNotifications": notes}],
        "results": [_result(f, index, places) for f in lint.findings],
        "properties": {"run_id": run.run_id, "readiness": run.status},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [sarif_run]}
