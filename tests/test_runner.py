"""Deadlines, raising checks and the ignore list — bounded, no long sleeps."""

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
