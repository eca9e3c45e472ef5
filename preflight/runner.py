"""Run checks concurrently, each under its own deadline inside an overall one. Never raises."""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from preflight.model import Check, CheckResult, Outcome


@dataclass
class _Slot:
    check: Check
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    duration_s: float = 0.0


def _work(slot: _Slot) -> None:
    started = time.monotonic()
    try:
        outcome = slot.check.run()
        if not isinstance(outcome, Outcome):
            outcome = Outcome("fail", f"check returned {type(outcome).__name__}, not an Outcome")
    except BaseException as exc:  # a check that raises is a failed check, never a crashed probe
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
        outcome = Outcome("fail", f"check raised {type(exc).__name__}: {exc}{where}",
                          "this is a bug in the check or an unexpected environment; rerun with the "
                          "same config to reproduce")
    slot.duration_s = time.monotonic() - started
    slot.outcome = outcome
    slot.done.set()


def _result(slot: _Slot, timed_out_after: float | None) -> CheckResult:
    result = _plain_result(slot, timed_out_after)
    if slot.check.advisory and result.status == "fail":  # lint: advice that could not be given is no failure
        result.status = "warn"
        result.message = f"advisory check, not a failure: {result.message}"
    return result


def _plain_result(slot: _Slot, timed_out_after: float | None) -> CheckResult:
    check = slot.check
    if timed_out_after is not None:
        return CheckResult(check.id, check.category, "fail",
                           f"did not finish within its deadline of {timed_out_after:.1f}s",
                           f"raise CHECK_TIMEOUTS={check.id}:<seconds> only if the slowness is expected; "
                           "otherwise the dependency it waits on is hanging", round(timed_out_after, 3), {})
    outcome = slot.outcome
    assert outcome is not None
    return CheckResult(check.id, check.category, outcome.status, outcome.message, outcome.remediation,
                       round(slot.duration_s, 3), dict(outcome.details))


def run_checks(checks: list[Check], overall_deadline_s: float) -> list[CheckResult]:
    """One result per check, in the order given, within roughly the overall deadline."""
    started = time.monotonic()
    slots = [_Slot(check) for check in checks]
    ends: list[float] = []
    for slot in slots:
        threading.Thread(target=_work, args=(slot,), name=f"check-{slot.check.id}", daemon=True).start()
        # Each check's clock starts once its thread runs (start() returns then), no earlier than the
        # check's own (checks/__init__.py _call): starting sixteen threads on a loaded machine takes a
        # while. The overall deadline still caps them all.
        ends.append(min(time.monotonic() + slot.check.deadline_s, started + overall_deadline_s))
    results = []
    for slot, end in zip(slots, ends):
        finished = slot.done.wait(timeout=max(0.0, end - time.monotonic()))
        results.append(_result(slot, None if finished else min(slot.check.deadline_s, overall_deadline_s)))
    return results


def apply_ignores(results: list[CheckResult], ignored: list[str]) -> list[CheckResult]:
    """kubeadm-style --ignore-preflight-errors: named failing checks become recorded warnings."""
    names = set(ignored)
    for result in results:
        if result.status == "fail" and (result.id in names or "all" in names):
            result.status = "warn"
            result.message = f"[ignored failure] {result.message}"
            result.details["ignored_failure"] = True
    return results


def stragglers() -> list[str]:
    """Checks still running after their deadline; their threads must not hold the process open."""
    return [t.name for t in threading.enumerate() if t.name.startswith("check-") and t.is_alive()]
