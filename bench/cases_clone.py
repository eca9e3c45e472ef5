"""Row 9: `make preflight` on a fresh clone (tool venv, demo data, cold example deps), the commit
before uv against this one, side by side. User-level caches (~/.cache/pip, ~/.cache/uv) are left as
they are, as on a developer's machine; the clone's own .venv and .preflight/ start empty."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from measure import ROOT, Row, Sample, sec, spreads

# The last commit before DEPS_INSTALLER and uv (issue 15): pip builds .venv and the project venv.
BEFORE_UV = "1617069"


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFLIGHT_", "DEPS_", "UV_", "MAKE", "VIRTUAL_ENV")) and k != "MFLAGS"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    return {**env, "NO_COLOR": "1"}


def _time_make_preflight(dest: Path, rev: str) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", rev], check=True)
    started = time.perf_counter()
    out = subprocess.run(["make", "preflight"], cwd=dest, env=_clean_env(), capture_output=True, text=True,
                         timeout=900, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"make preflight at {rev} failed: {out.stderr[-2000:]}")
    shutil.rmtree(dest)
    return wall


def make_preflight_rows(work: Path, repeat: int, judge: bool) -> list[Row]:
    if repeat == 0:  # smoke: a clone and two make runs cost a minute or more
        return [Row("9. make preflight on a fresh clone", "skipped in smoke", "skipped in smoke", "—", "≤35 s", None)]
    # Alternate the two so that a slow minute on the machine does not land on one side only.
    times: dict[str, list[float]] = {"before": [], "after": []}
    for n in range(repeat):
        for label, rev in (("before", BEFORE_UV), ("after", "HEAD")):
            times[label].append(_time_make_preflight(work / f"{label}-{n}", rev))
    samples = {k: Sample.of(v) for k, v in times.items()}
    before, after = samples["before"].median, samples["after"].median
    return [Row("9. make preflight on a fresh clone", f"{after:.1f} s (HEAD, uv)", f"{before:.1f} s ({BEFORE_UV}, pip)",
                f"{before / after:.1f}x faster", "≤35 s", after <= 35 if judge else None,
                "clone's .venv and .preflight/ empty; ~/.cache/pip and ~/.cache/uv as they are; HEAD is the "
                "committed tree", spreads(head=sec(samples["after"], 1), before_uv=sec(samples["before"], 1)))]
