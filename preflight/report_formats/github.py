"""GitHub Actions: workflow commands for failures, warnings and lint findings (escaped as the Actions
toolkit escapes them), and a Markdown summary for $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import html
from typing import Any

from preflight.report_formats import lint_results
from preflight.report_formats.places import Places
from preflight.report_formats.run import Run, plain

MAX_LINT_COMMANDS = 50  # GitHub shows at most 10 annotations of a kind per step; the rest is noise
ANNOTATED_LOG_LINES = 10  # of a failed step's log, in its annotation (the JUnit error has 40)
_LEVELS = {"warn": "warning", "info": "notice"}
_ICONS = {"fail": "❌ fail", "warn": "⚠️ warn", "pass": "✅ pass", "skip": "⏭️ skip", "bootstrapped": "🔧 bootstrapped"}


def escape_data(text: str) -> str:
    return plain(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties: Any) -> str:
    """`::level k=v,...::message`; properties that are None are left out."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def _said(message: str, remediation: str) -> str:
    return f"{message}\n{remediation}" if remediation else message


def _lint_commands(run: Run, places: Places) -> list[str]:
    shown = [f for f in lint_results.read(run.artifact).findings if not f.suppression]
    out = [command(_LEVELS.get(f.severity, "warning"), _said(f.message, f.remediation), file=places.relative(f.file),
                   line=f.line or None, title=f"lint {f.rule}") for f in shown[:MAX_LINT_COMMANDS]]
    if len(shown) > MAX_LINT_COMMANDS:
        out.append(command("notice", f"{len(shown) - MAX_LINT_COMMANDS} more lint findings: see the SARIF file or "
                                     "the readiness artifact", title="lint"))
    return out


def commands(run: Run, places: Places) -> list[str]:
    out = []
    for step in run.steps:
        if step.outcome != "ok":
            where = f" (log: {run.results}/logs/{step.name}.log)" if run.results else ""
            tail = "\n".join(step.log_tail.splitlines()[-ANNOTATED_LOG_LINES:])
            said = f"{step.name} step {step.outcome}, exit {step.exit_code}{where}\n{tail}"
            out.append(command("error", said.rstrip(), title=f"preflight step {step.name}"))
    error = run.run_error()
    if error:
        out.append(command("error", error, title="preflight run"))
    for check in (run.artifact or {}).get("checks", []):
        if check["status"] in ("fail", "warn"):
            out.append(command("error" if check["status"] == "fail" else "warning",
                               _said(check["message"], check["remediation"]), title=f"preflight check {check['id']}"))
    return out + _lint_commands(run, places)


def _cell(value: Any) -> str:
    return html.escape(plain(value), quote=False).replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def _checks_table(checks: list[dict[str, Any]]) -> list[str]:
    order = {"fail": 0, "warn": 1, "bootstrapped": 2, "pass": 3, "skip": 4}
    rows = ["| status | check | message | remediation |", "| --- | --- | --- | --- |"]
    for check in sorted(checks, key=lambda c: order.get(c["status"], 5)):
        rows.append(f"| {_ICONS.get(check['status'], check['status'])} | `{_cell(check['id'])}` | "
                    f"{_cell(check['message'])} | {_cell(check['remediation'])} |")
    return rows


def _lint_table(run: Run, places: Places) -> list[str]:
    findings = lint_results.read(run.artifact).findings
    if not findings:
        return []
    silenced = sum(1 for f in findings if f.suppression)
    rows = [f"<details><summary>lint: {len(findings) - silenced} finding(s), {silenced} suppressed</summary>", "",
            "| rule | where | message | suppressed |", "| --- | --- | --- | --- |"]
    for f in findings:
        where = f"{places.relative(f.file) or f.file}" + (f":{f.line}" if f.line else "")
        rows.append(f"| `{_cell(f.rule)}` | `{_cell(where)}` | {_cell(f.message)} | {_cell(f.suppression)} |")
    return rows + ["", "</details>"]


def step_summary(run: Run, places: Places) -> str:
    lines = [f"### spot-preflight {run.status} · run `{_cell(run.run_id)}`", ""]
    artifact = run.artifact
    facts = [f"exit {run.exit_code}"]
    if artifact:
        s = artifact["checks_summary"]
        facts.append(f"{s['passed']} passed, {s['failed']} failed, {s['warnings']} warnings, {s['skipped']} skipped, "
                     f"{s['bootstrapped']} bootstrapped of {s['total']} checks")
    if run.results:
        facts.append(f"results `{_cell(run.results)}`")
    lines += [" · ".join(facts), ""]
    if run.steps:
        lines += ["| step | outcome | exit | seconds |", "| --- | --- | --- | --- |"]
        lines += [f"| {s.name} | {s.outcome} | {s.exit_code} | {s.duration_s:.1f} |" for s in run.steps] + [""]
    if run.run_error():
        lines += [f"**{_cell(run.run_error())}**", ""]
    if artifact:
        if artifact["status"] != "READY":
            lines += [f"**next action:** {_cell(artifact['next_action'])}", ""]
        lines += _checks_table(artifact["checks"]) + [""] + _lint_table(run, places)
    elif run.artifact_problem:
        lines += [_cell(run.artifact_problem), ""]
    return "\n".join(lines).rstrip() + "\n\n"
