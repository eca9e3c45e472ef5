"""Deadlines, raising checks and the ignore list — bounded, no sleep longer than a few seconds."""

import sys
import threading

from preflight.model import Check, Outcome, passed
from preflight.runner import apply_ignores, run_checks


def test_hanging_check_fails_at_its_deadline_while_others_pass():
    release, returned = threading.Event(), threading.Event()

    def hang() -> Outcome:
        release.wait(30)
        returned.set()
        return passed("never reported")

    checks = [Check("hangs", "t", 0.3, hang), Check("fine", "t", 5, lambda: passed("ok"))]
    results = run_checks(checks, overall_deadline_s=5)
    # Bounded by the deadline, not by the hanging work: the results came while it still hung.
    hung_throughout = not returned.is_set()
    release.set()
    assert hung_throughout, "run_checks waited for the hanging check"
    assert [r.status for r in results] == ["fail", "pass"]
    assert "did not finish within its deadline of 0.3s" in results[0].message


def test_overall_deadline_caps_every_check():
    release = threading.Event()
    results = run_checks([Check("slow", "t", 20, lambda: release.wait(30) and passed("x"))], overall_deadline_s=0.2)
    release.set()
    assert results[0].status == "fail" and "0.2s" in results[0].message


def test_raising_check_becomes_fail_with_reason():
    def boom() -> Outcome:
        raise KeyError("missing-thing")

    result = run_checks([Check("boom", "t", 5, boom)], 5)[0]
    assert result.status == "fail" and "check raised KeyError: 'missing-thing'" in result.message


def test_ignore_list_downgrades_named_failures_only():
    results = run_checks([Check("a", "t", 5, lambda: Outcome("fail", "bad a")),
                          Check("b", "t", 5, lambda: Outcome("fail", "bad b"))], 5)
    results = apply_ignores(results, ["a"])
    assert (results[0].status, results[1].status) == ("warn", "fail")
    assert results[0].details["ignored_failure"] is True and "[ignored failure]" in results[0].message


def test_a_check_slow_to_start_reports_its_own_childs_kill_not_the_runners_deadline(tmp_path, monkeypatch):
    """The runner and the child count one deadline from one moment. On a loaded machine the check's
    module took seconds to import in its thread before the child was spawned; the child then had its
    whole deadline from the spawn, outlived the runner's, and the result said only "did not finish"
    instead of what the child was doing when it was killed."""
    from functools import partial

    from preflight.checks import _call
    from tests.conftest import make_context

    (tmp_path / "slow_to_import_check.py").write_text(
        "import time\ntime.sleep(1.5)  # what a loaded machine does to the check module's import\n"
        "from preflight.checks.imports import check_imports\n")
    (tmp_path / "pf_sleeps.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_to_import_check", raising=False)  # imported afresh, slowly
    ctx = make_context(tmp_path, {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                       PREFLIGHT_IMPORTS="pf_sleeps", PREFLIGHT_IMPORT_NAMES="")
    check = Check("imports", "t", 5.0, partial(_call, "slow_to_import_check:check_imports", ctx, 5.0))
    result = run_checks([check], overall_deadline_s=10)[0]
    assert result.status == "fail" and "killed at its deadline" in result.message, result.message
    assert "still importing pf_sleeps" in result.message
