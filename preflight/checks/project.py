"""The project's own preflight: PREFLIGHT_PROJECT_CHECKS, each `module:callable` its own check.

Contract (README, "Project checks"): a function, or a class whose instance has run(), check() or
__call__(). Returning normally (None or a truthy value) passes; returning a falsy value fails;
returning a list of problems fails listing them (an empty list passes); raising fails with the
exception. It runs like the imports check: in a guarded child process, killed at its deadline.
"""

from __future__ import annotations

from preflight.child import run_guarded
from preflight.model import Context, Outcome, failed, passed


def check_project(ctx: Context, deadline_s: float, target: str) -> Outcome:
    child = run_guarded("preflight.checks.project_child", {"target": target}, deadline_s, ctx.environ,
                        ctx.guard_log)
    fix = f"run it in the project venv to see why: python -c 'import {target.partition(':')[0]}'"
    if child.timed_out:
        return failed(f"{target} did not finish within {child.limit_s:.1f}s (killed)",
                      f"make it faster or raise CHECK_TIMEOUTS=project:{target.rpartition(':')[2]}:<seconds>")
    if child.value is None:
        return failed(f"{target} ended its process (exit {child.returncode}) without a result", fix)
    left = (f"; killed {len(child.leftovers)} process{'' if len(child.leftovers) == 1 else 'es'} it left running: "
            + "; ".join(child.leftovers)) if child.leftovers else ""
    if child.value["status"] == "pass":
        return passed(child.value["message"] + left, killed=list(child.leftovers))
    return failed(child.value["message"] + left, fix, problems=child.value.get("problems", []),
                  killed=list(child.leftovers))
