"""Import the training code exactly as the training entrypoint would, without running it.

The imports happen in a child process (preflight/child.py): the project's import-time code runs under
the read-only guard in that process and in every Python process it starts, and a hang is killed at
the check's deadline instead of holding the probe.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from preflight import import_progress
from preflight.child import run_guarded
from preflight.model import Context, Outcome, failed, passed, skipped


def check_imports(ctx: Context, deadline_s: float) -> Outcome:
    modules = ctx.config.list("PREFLIGHT_IMPORTS")
    names = ctx.config.list("PREFLIGHT_IMPORT_NAMES")
    if not modules and not names:
        return skipped("no PREFLIGHT_IMPORTS or PREFLIGHT_IMPORT_NAMES configured (the entrypoint check "
                       "proves the entry's imports; these are extras)")
    with tempfile.TemporaryDirectory(prefix="preflight-imports-") as tmp:
        progress = Path(tmp) / "progress"
        child = run_guarded("preflight.checks.import_child",
                            {"modules": modules, "names": names, "progress": str(progress)}, deadline_s,
                            ctx.environ, ctx.guard_log)
        hang = import_progress.describe_hang(progress, child.limit_s) if child.timed_out else ""
    if child.timed_out:
        return failed(f"importing the training code was killed at its deadline: {hang}",
                      "run python -X importtime -c 'import <module>' in the project venv to see where the time "
                      "goes; raise CHECK_TIMEOUTS=imports:<seconds> (or IMPORT_TIMEOUT_SECONDS) if it is just "
                      "slow, fix the module if it hangs")
    if child.value is None:
        return failed(f"the imports child exited {child.returncode} without a result: "
                      f"{child.output.strip().splitlines()[-1:] or 'no output'}",
                      "a module ended the interpreter at import time (os._exit, a crash in native code); "
                      "python -c 'import <module>' in the project venv shows it")
    problems = child.value["problems"]
    if problems:
        return failed(
            "; ".join(problems),
            "fix the import path or pin in the training repo, then rerun: "
            "python -c 'import <module>' inside the project venv shows the full traceback",
            problems=problems,
        )
    return passed(f"{len(modules)} modules and {len(names)} names import", modules=modules, names=names)
