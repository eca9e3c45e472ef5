"""Issue 25: suppressed lint findings are kept, marked with how they were suppressed, so that SARIF can
show them with a suppression instead of losing them; every rule has the metadata SARIF lists."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from preflight.lint import facts, rules

SETTINGS = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=3600,
                          longest_train_s=None)
SAVES = """
import torch
torch.save(a, 'a.pt')  # preflight: ignore[ephemeral-save]
torch.save(b, 'b.pt')
model = model.to('cuda')
"""


def test_each_finding_says_how_it_is_suppressed():
    files = [facts.read("train.py", textwrap.dedent(SAVES))]
    judged = rules.judge(files, SETTINGS)
    hows = rules.suppressions(judged, files, {"gpu-code-gpu-check-off"})
    assert {(f.rule, f.line): how for f, how in zip(judged, hows, strict=True)} == {
        ("ephemeral-save", 3): "inSource", ("ephemeral-save", 4): "", ("gpu-code-gpu-check-off", 5): "external"}
    assert [(f.rule, f.line) for f in rules.unsuppressed(judged, files, {"gpu-code-gpu-check-off"})] == [
        ("ephemeral-save", 4)]


def test_every_rule_has_metadata():
    assert set(rules.DOCS) == set(rules.RULES) | {"syntax-error"}
    for rule, doc in rules.DOCS.items():
        assert doc.severity in ("warn", "info") and doc.summary and doc.why and doc.remediation, rule


def test_the_lint_check_keeps_suppressed_findings_apart(tmp_path: Path, run_cli):
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(textwrap.dedent(SAVES))
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI=\n"
                      "PREFLIGHT_REQUIRED_ENV=\nTRAIN_TIMEOUT_SECONDS=1800\nPREFLIGHT_LINT_IGNORE=gpu-code-gpu-check-off\n")
    out = run_cli("probe", "--config", str(config), "--json", cwd=project)
    lint = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "lint")
    details = lint["details"]
    assert [(f["rule"], f["line"]) for f in details["findings"]] == [("ephemeral-save", 4)]
    assert details["total"] == 1 and details["suppressed_total"] == 2  # never counted as findings
    assert {(f["rule"], f["line"], f["suppression"]) for f in details["suppressed"]} == {
        ("ephemeral-save", 3, "inSource"), ("gpu-code-gpu-check-off", 5, "external")}
