"""Issue 25: JUnit XML, SARIF 2.1.0 and GitHub Actions output, made from a readiness artifact (and a
run's results directory), validated against the published schemas (tests/vendor/, offline) and read
back by a real JUnit consumer (junitparser)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from preflight import artifact as art
from preflight.lint.rules import DOCS
from preflight.model import CheckResult
from preflight.report_formats import github, junit, outputs, run, sarif
from preflight.report_formats.emit import emit, wants_github
from preflight.report_formats.places import Places
from tests import report_schemas

SECRET = "SPOT-PREFLIGHT-FAKE-SECRET-7f2a"
FINDINGS = [
    {"rule": "ephemeral-save", "severity": "warn", "file": "src/predictor/train.py", "line": 28,
     "message": "pickle.dump saves to the instance's disk", "remediation": "upload what you save"},
    {"rule": "train-timeout-short", "severity": "warn", "file": "workflow.env", "line": 0,
     "message": "TRAIN_TIMEOUT_SECONDS=60 is short", "remediation": "raise TRAIN_TIMEOUT_SECONDS to 1800"},
]
LINT_DETAILS = {
    "findings": FINDINGS, "total": 4, "by_rule": {"ephemeral-save": 3, "train-timeout-short": 1},
    # every finding by rule, file and line: two beyond the whole ones shown above
    "locations": {"ephemeral-save": {"src/predictor/train.py": [28, 40], "src/predictor/util.py": [7]},
                  "train-timeout-short": {"workflow.env": [0]}},
    "suppressed": [{"rule": "no-resume", "severity": "warn", "file": "src/predictor/train.py", "line": 30,
                    "message": "checkpoints are never read back", "remediation": "resume",
                    "suppression": "inSource"},
                   {"rule": "gpu-code-gpu-check-off", "severity": "info", "file": "src/predictor/train.py", "line": 9,
                    "message": "cuda with GPU_CHECK=off", "remediation": "GPU_CHECK=required",
                    "suppression": "external"}],
    "suppressed_total": 2,
}


def result(id_: str, status: str, message: str = "m", remediation: str = "", category: str = "env",
           **details) -> CheckResult:
    return CheckResult(id_, category, status, message, remediation, 0.25, details)


def make_artifact(*results: CheckResult) -> dict:
    return art.build(list(results), run_id="r1", mode="preflight-only", identity_hash="sha256:" + "0" * 64,
                     runtime_config_hash="sha256:" + "1" * 64, duration_s=1.5, environ={}, diagnostics={})


READY = (result("python", "pass", "3.11"),
         result("lint", "warn", "4 findings", "advisory: fix", "code", **LINT_DETAILS),
         result("wandb", "skip", "WANDB_CHECK=off"), result("campaign.R1", "bootstrapped", "created .ml-metaopt"))
FAILED = (result("python", "pass", "3.11"),
          result("arcticdb.freshness", "fail", "CL: last row 5d old\x1b[0m\x00", "reseed CL", "data", symbol="CL"),
          result("lint", "warn", "4 findings", "advisory: fix", "code", **LINT_DETAILS))


@pytest.fixture
def places(tmp_path: Path) -> Places:
    return Places.make(tmp_path, tmp_path / "examples" / "predictor", tmp_path / "workflow.env", {})


def results_dir(tmp_path: Path, artifact: dict | None, steps: str, logs: dict[str, str] | None = None) -> Path:
    results = tmp_path / "artifacts" / "preflight" / "r1"
    (results / "logs").mkdir(parents=True)
    if artifact is not None:
        art.write_atomic(artifact, results / "preflight-readiness.json")
    (results / "steps.tsv").write_text(steps)
    for step, text in (logs or {}).items():
        (results / "logs" / f"{step}.log").write_text(text)
    return results


def junit_of(tmp_path: Path, facts: run.Run):
    path = tmp_path / "junit.xml"
    outputs.write(path, junit.render(facts))
    return report_schemas.junit(path), path.read_text()


def cases(xml) -> dict[str, object]:
    return {case.name: case for suite in xml for case in suite}


def test_junit_ready_probe_one_suite_one_case_per_check(tmp_path: Path):
    xml, text = junit_of(tmp_path, run.from_probe(make_artifact(*READY), "0.1.0"))
    suites = list(xml)
    assert len(suites) == 1 and suites[0].tests == 4 and suites[0].failures == 0 and suites[0].errors == 0
    assert suites[0].skipped == 1
    by = cases(xml)
    assert by["python"].is_passed and by["campaign.R1"].is_passed and by["wandb"].is_skipped
    assert by["lint"].is_passed and by["lint"].system_out.startswith("WARN: 4 findings\nremediation: advisory: fix")
    assert "src/predictor/train.py:28 [ephemeral-save]" in by["lint"].system_out
    assert by["python"].classname == "preflight.env" and by["python"].time == 0.25


def test_junit_failed_check_and_failed_step_from_a_results_directory(tmp_path: Path):
    log = (f"installing\n\x1b[31mERROR: no matching distribution for torch==9 token={SECRET}\x1b[0m\n"
           "-----BEGIN PREFLIGHT READINESS-----\n{\"not\": \"shown\"}\n-----END PREFLIGHT READINESS sha256=ab-----\n")
    results = results_dir(tmp_path, make_artifact(*FAILED), "bootstrap\t0\t0.2\ndeps\t3\t1.0\nprobe\t1\t2.0\n",
                          {"deps": log})
    facts = run.from_results(results, run_id="r1", mode="preflight-only", exit_code=5, status="ERROR",
                             reason="deps step failed", tool_version="0.1.0", environ={"PIP_TOKEN": SECRET})
    xml, text = junit_of(tmp_path, facts)
    suite = next(iter(xml))
    assert (suite.tests, suite.failures, suite.errors) == (6, 1, 1)
    by = cases(xml)
    failure = by["arcticdb.freshness"].result[0]
    assert failure.message == "CL: last row 5d old" and "remediation: reseed CL" in failure.text  # no colours, no \x00
    assert '"symbol": "CL"' in failure.text
    deps = by["deps"].result[0]
    assert deps.type == "step failed" and deps.message == "deps step failed, exit 3"
    assert "no matching distribution" in deps.text and "\x1b" not in deps.text and "not" not in deps.text.split(
        "distribution")[1]
    assert SECRET not in text and "***" in deps.text
    assert by["probe"].is_passed and by["bootstrap"].is_passed  # probe exit 1 = checks failed, the step worked
    props = {p.name: p.value for p in suite.properties()}
    assert props["status"] == "ERROR" and props["results"] == str(results) and props["exit_code"] == "5"


def test_junit_a_step_that_timed_out_and_no_artifact(tmp_path: Path):
    results = results_dir(tmp_path, None, "bootstrap\t124\t300.0\n", {"bootstrap": "still cloning\n"})
    facts = run.from_results(results, run_id="r1", mode="preflight-only", exit_code=5, status="ERROR",
                             reason="bootstrap step failed", tool_version="0.1.0", environ={})
    xml, _ = junit_of(tmp_path, facts)
    by = cases(xml)
    assert list(by) == ["bootstrap", "deps", "probe"]  # no artifact, no checks; the step says why
    assert by["bootstrap"].result[0].type == "step timed out" and "still cloning" in by["bootstrap"].result[0].text
    assert by["deps"].is_skipped and by["probe"].is_skipped  # the same tests in every run, never silently gone
    assert by["deps"].result[0].message == "did not run, or did not finish: the run ended first (bootstrap step failed)"


def test_junit_a_run_that_failed_before_any_step_is_one_error(tmp_path: Path):
    results = results_dir(tmp_path, None, "")
    facts = run.from_results(results, run_id="r1", mode="preflight-only", exit_code=3, status="ERROR",
                             reason="no spot capacity in any candidate", tool_version="0.1.0", environ={})
    xml, _ = junit_of(tmp_path, facts)
    error = cases(xml)["run"].result[0]
    assert error.message == "exit 3: no spot capacity in any candidate" and next(iter(xml)).errors == 1
    assert next(iter(xml)).skipped == 3  # bootstrap, deps, probe


def sarif_of(facts: run.Run, places: Places) -> dict:
    document = json.loads(json.dumps(sarif.render(facts, places)))
    report_schemas.sarif(document)
    return document


def test_sarif_rules_locations_and_suppressions(tmp_path: Path, places: Places):
    document = sarif_of(run.from_probe(make_artifact(*READY), "0.1.0"), places)
    (sarif_run,) = document["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(DOCS) and rules[0]["help"]["text"]
    assert sarif_run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.as_uri() + "/"
    located = [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"),
                [s["kind"] for s in r.get("suppressions", [])]) for r in sarif_run["results"]]
    assert located == [
        ("ephemeral-save", "examples/predictor/src/predictor/train.py", 28, []),
        ("train-timeout-short", "workflow.env", None, []),  # the config file, no line
        ("ephemeral-save", "examples/predictor/src/predictor/train.py", 40, []),  # known by location only
        ("ephemeral-save", "examples/predictor/src/predictor/util.py", 7, []),
        ("no-resume", "examples/predictor/src/predictor/train.py", 30, ["inSource"]),
        ("gpu-code-gpu-check-off", "examples/predictor/src/predictor/train.py", 9, ["external"]),
    ]
    levels = {r["ruleId"]: r["level"] for r in sarif_run["results"]}
    assert levels["ephemeral-save"] == "warning" and levels["gpu-code-gpu-check-off"] == "note"
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in sarif_run["results"])
    assert sarif_run["invocations"][0]["executionSuccessful"] is True


@pytest.mark.parametrize(("lint", "note", "ran"), [
    (result("lint", "skip", "PREFLIGHT_LINT=off"), "lint skipped: PREFLIGHT_LINT=off", False),
    (result("lint", "warn", "lint did not finish within its deadline"), "lint did not finish", False),
    (result("lint", "pass", "no findings", category="code", truncated=True), "cut from the artifact", True),
    (None, "the artifact has no lint check", False),
])
def test_sarif_says_what_it_could_not_see(places: Places, lint, note: str, ran: bool):
    document = sarif_of(run.from_probe(make_artifact(result("python", "pass"), *[lint] if lint else []), ""), places)
    invocation = document["runs"][0]["invocations"][0]
    assert document["runs"][0]["results"] == [] and invocation["executionSuccessful"] is ran
    assert note in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_without_an_artifact(tmp_path: Path, places: Places):
    facts = run.from_results(results_dir(tmp_path, None, "bootstrap\t1\t0.1\n"), run_id="r1", mode="preflight-only",
                             exit_code=5, status="ERROR", reason="bootstrap step failed", tool_version="", environ={})
    invocation = sarif_of(facts, places)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and "no readiness artifact" in str(invocation)


def test_workflow_command_escaping_is_the_actions_toolkits():
    assert github.escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github.command("error", "x:y\nz", file="src/a,b.py", line=3, title="t: u") == \
        "::error file=src/a%2Cb.py,line=3,title=t%3A u::x:y%0Az"
    assert github.command("warning", "plain") == "::warning::plain"


def test_github_actions_commands_and_step_summary(tmp_path: Path, places: Places):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    stream = io.StringIO()
    assert wants_github(None, environ) and not wants_github("text", environ) and wants_github("github", {})
    problems = emit(run.from_probe(make_artifact(*FAILED), "0.1.0"), places, junit_path=None, sarif_path=None,
                    github_mode=wants_github(None, environ), environ=environ, stream=stream)
    assert problems == []
    lines = stream.getvalue().splitlines()
    assert "::error title=preflight check arcticdb.freshness::CL%3A" not in lines[0]  # data keeps its colons
    assert lines[0].startswith("::error title=preflight check arcticdb.freshness::CL: last row 5d old")
    assert lines[0].endswith("%0Areseed CL")
    assert lines[1].startswith("::warning title=preflight check lint::4 findings%0Aadvisory: fix")
    assert ("::warning file=examples/predictor/src/predictor/train.py,line=28,title=lint ephemeral-save::"
            "pickle.dump saves to the instance's disk%0Aupload what you save") in lines
    assert any(line.startswith("::warning file=workflow.env,title=lint train-timeout-short::") for line in lines)
    assert not any("no-resume" in line for line in lines)  # suppressed findings are not annotated
    text = summary.read_text()
    assert text.startswith("earlier step\n### spot-preflight FAILED · run `r1`")  # appended, never replaced
    assert "| ❌ fail | `arcticdb.freshness` | CL: last row 5d old |" in text and "**next action:**" in text
    assert "\x1b" not in text and "\x00" not in text
    assert "| `no-resume` | `examples/predictor/src/predictor/train.py:30` |" in text


def test_step_summary_escapes_markdown_and_html(places: Places):
    facts = run.from_probe(make_artifact(result("x", "fail", "a | b <venv>/bin/python & c\nd", "fix")), "")
    text = github.step_summary(facts, places)
    assert "a \\| b &lt;venv&gt;/bin/python &amp; c<br>d" in text


def test_unwritable_report_paths(tmp_path: Path):
    (tmp_path / "file").write_text("")
    assert outputs.unwritable(tmp_path / "new" / "deeper" / "r.xml") == ""
    assert "is a directory" in outputs.unwritable(tmp_path)
    assert "is not a directory" in outputs.unwritable(tmp_path / "file" / "r.xml")
    assert outputs.problems({"--junit": tmp_path / "file" / "r.xml", "--sarif": None}) == [
        f"--junit {tmp_path / 'file' / 'r.xml'}: cannot write there: {tmp_path / 'file'} is not a directory"]
    assert not (tmp_path / "new").exists()  # checking writes nothing


def test_a_config_finding_points_at_the_config_the_run_was_given(tmp_path: Path, monkeypatch):
    """Lint names the config by the path spot_train.sh was given (PREFLIGHT_CONFIG_FILE): absolute, or
    relative to where it ran, which is where the reports are made too."""
    (tmp_path / "conf").mkdir()
    monkeypatch.chdir(tmp_path)
    places = Places.make(tmp_path, tmp_path / "proj", Path("conf/alpaca.env"), {})
    assert places.relative(str(tmp_path / "conf" / "alpaca.env")) == "conf/alpaca.env"
    assert places.relative("conf/alpaca.env") == "conf/alpaca.env"
    assert places.relative("workflow.env") == "conf/alpaca.env"  # an older probe's name for it
    assert places.relative("src/train.py") == "proj/src/train.py"
    assert places.relative("/elsewhere/x.py") is None
