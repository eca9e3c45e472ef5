"""Row 5: what spot_train.sh adds around its steps, and the deps step on a warm rerun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from measure import ROOT, Row, Sample, sec, spreads

# The example project's config (the root workflow.env is the neutral reference and names no project).
DEMO_CONFIG = Path("examples", "predictor", "workflow.env")


def copy_repo(dest: Path) -> Path:
    for name in ("infra_scripts", "preflight", "examples", "workflow.env"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, dest / name)
    subprocess.run([sys.executable, "-m", "preflight", "demo-seed", "--config", str(DEMO_CONFIG)], cwd=dest,
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(dest)})
    return dest


def run(repo: Path, image: Path, run_id: str, **config: str) -> tuple[float, dict]:
    env = {**os.environ, "PREFLIGHT_IMAGE_DIR": str(image), "PREFLIGHT_PYTHON": sys.executable, "NO_COLOR": "1",
           **config}
    started = time.perf_counter()
    out = subprocess.run([str(repo / "infra_scripts" / "spot_train.sh"), "--preflight-only", "--config",
                          str(repo / DEMO_CONFIG), "--run-id", run_id],
                         env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return wall, json.loads((repo / "artifacts" / "preflight" / "predictor" / run_id / "run.json").read_text())


def deps_seconds(record: dict) -> float:
    return next(s["duration_s"] for s in record["steps"] if s["step"] == "deps")


def orchestration(workdir: Path, image: Path | None, repeat: int, judge: bool) -> list[Row]:
    repo = copy_repo(workdir)
    rows = []
    if image is None:  # a cold image: the first run installs, the rerun must not
        image = workdir / "image"
        _wall, cold = run(repo, image, "bench-cold")
        cold_deps = f"{deps_seconds(cold):.1f} s (cold image, installs)"
    else:
        cold_deps = "skipped in smoke (shared warm image)"
    runs = [run(repo, image, f"bench-warm-{n}") for n in range(repeat)]
    overheads = [wall - record["steps_seconds"] for wall, record in runs]
    over_t = Sample.of(overheads)
    deps_t = Sample.of(deps_seconds(record) for _wall, record in runs)
    total_t = Sample.of(wall for wall, _ in runs)
    overhead, warm_deps, total = over_t.median, deps_t.median, total_t.median
    rows.append(Row("5. orchestration overhead (local, preflight-only)", f"{overhead:.2f} s around the steps",
                    f"{total:.2f} s total wall", f"{overhead / total:.0%} of the run", "≤1 s",
                    overhead <= 1 if judge else None, "total wall minus the steps' own durations from run.json",
                    spreads(overhead=sec(over_t), total=sec(total_t))))
    rows.append(Row("5. deps step, warm rerun vs first install", f"{warm_deps:.2f} s (install skipped)", cold_deps,
                    "—", "warm rerun skips the install", (warm_deps < 1) if judge else None,
                    spread=spreads(warm_deps=sec(deps_t)) + ("; cold: n=1" if image is None else "")))
    return rows
