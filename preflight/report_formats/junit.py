"""JUnit XML: one testsuite per run, one testcase per check, per step and, when neither says why the
run failed, one for the run. Shaped to the JUnit XSD Jenkins publishes (junit-10.xsd, which pytest
also validates against): a failing check is a <failure>, a step that failed or timed out and a failed
run are <error>s, a skipped check and a step the run never finished are <skipped>, a warning passes
with the warning in <system-out>."""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any

from preflight.report_formats.run import Run, plain

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WORDS = {"pass": "PASS", "warn": "WARN", "bootstrapped": "BOOTSTRAPPED"}


def _text(value: Any) -> str:
    """XML 1.0 cannot hold most control characters, even escaped: they are dropped (colours whole)."""
    return _NOT_XML.sub("", plain(value))


def _seconds(value: float) -> str:
    return f"{max(0.0, float(value)):.3f}"  # the XSD's time: at most three decimals


def _case(suite: ET.Element, classname: str, name: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", name=_text(name), classname=_text(classname), time=_seconds(seconds))


def _sub(parent: ET.Element, tag: str, body: str = "", **attrs: str) -> None:
    ET.SubElement(parent, tag, {k: _text(v) for k, v in attrs.items()}).text = _text(body) if body else None


def _check_body(check: dict[str, Any]) -> str:
    lines = [check["message"]]
    if check["remediation"]:
        lines.append(f"remediation: {check['remediation']}")
    for finding in (check.get("details") or {}).get("findings") or []:
        where = f"{finding.get('file')}" + (f":{finding['line']}" if finding.get("line") else "")
        lines.append(f"{where} [{finding.get('rule')}] {finding.get('message')}")
    if check["status"] == "fail" and check.get("details"):
        lines.append("details: " + json.dumps(check["details"], sort_keys=True, ensure_ascii=False))
    return "\n".join(lines)


def _checks(suite: ET.Element, run: Run) -> None:
    for check in (run.artifact or {}).get("checks", []):
        case = _case(suite, f"preflight.{check['category']}", check["id"], check["duration_s"])
        if check["status"] == "fail":
            _sub(case, "failure", _check_body(check), message=check["message"], type="check failed")
        elif check["status"] == "skip":
            _sub(case, "skipped", message=check["message"])
        else:
            _sub(case, "system-out", f"{_WORDS[check['status']]}: {_check_body(check)}")


def _steps(suite: ET.Element, run: Run) -> None:
    for step in run.steps:
        case = _case(suite, "preflight.steps", step.name, step.duration_s)
        if step.outcome == "ok":
            _sub(case, "system-out", f"exit {step.exit_code} in {step.duration_s:.1f}s")
            continue
        what = f"{step.name} step {step.outcome}" + (f", exit {step.exit_code}" if step.outcome == "failed" else "")
        log = f"{run.results}/logs/{step.name}.log" if run.results else ""
        body = f"{what}\nlast lines of {log}:\n{step.log_tail}" if step.log_tail else what
        _sub(case, "error", body, message=what, type=f"step {step.outcome}")
    for name in run.steps_not_run():
        _sub(_case(suite, "preflight.steps", name, 0), "skipped",
             message=f"did not run, or did not finish: the run ended first ({run.reason or run.status})")


def _properties(suite: ET.Element, run: Run) -> None:
    props = ET.SubElement(suite, "properties")
    artifact = run.artifact or {}
    for name, value in (("run_id", run.run_id), ("mode", run.mode), ("status", run.status),
                        ("exit_code", run.exit_code), ("reason", run.reason), ("results", run.results),
                        ("next_action", artifact.get("next_action", "")), ("tool_version", run.tool_version)):
        if value != "":
            ET.SubElement(props, "property", name=name, value=_text(value))


def _counted(suite: ET.Element) -> dict[str, str]:
    cases = suite.findall("testcase")
    return {"tests": str(len(cases)), "failures": str(sum(len(c.findall("failure")) for c in cases)),
            "errors": str(sum(len(c.findall("error")) for c in cases))}


def render(run: Run) -> bytes:
    artifact = run.artifact or {}
    seconds = sum(s.duration_s for s in run.steps) if run.steps else artifact.get("preflight_duration_seconds", 0)
    root = ET.Element("testsuites", name="spot-preflight")
    suite = ET.SubElement(root, "testsuite", name="spot-preflight", id=_text(run.run_id), time=_seconds(seconds),
                          timestamp=artifact.get("emitted_at") or datetime.now(timezone.utc).isoformat(),
                          hostname=_text((artifact.get("host") or {}).get("hostname") or socket.gethostname()))
    _properties(suite, run)
    _steps(suite, run)
    _checks(suite, run)
    error = run.run_error()
    if error:
        _sub(_case(suite, "preflight.run", "run", 0), "error", error, message=error, type=run.status)
    suite.attrib.update(_counted(suite), skipped=str(len(suite.findall("testcase/skipped"))))
    root.attrib.update(_counted(suite), time=suite.get("time", "0"))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
