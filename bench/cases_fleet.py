"""Row: four local projects with preflight_all.sh (all at once) against the same four run one after
another with spot_train.sh, on a warm image. Goal: the fleet's wall time ≤ 1.5 × its slowest project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from cases_orchestration import DEMO_CONFIG, copy_repo
from measure import Row, Sample, sec, spreads


def _configs(repo: Path, count: int) -> list[Path]:
    base = (repo / DEMO_CONFIG).read_text()
    paths = []
    for n in range(count):
        name = f"bench-{n}"
        path = repo / DEMO_CONFIG.parent / f"{name}.env"  # beside the demo's config: its relative paths hold
        path.write_text(base.replace("PROJECT_NAME=predictor", f"PROJECT_NAME={name}")
                        .replace("/.preflight/demo-store", f"/.preflight/store-{name}"))
        subprocess.run([sys.executable, "-m", "preflight", "demo-seed", "--config", str(path)], cwd=repo, check=True,
                       capture_output=True, env={**os.environ, "PYTHONPATH": str(repo)})
        paths.append(path)
    return paths


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return time.perf_counter() - started


def fleet_rows(workdir: Path, image: Path | None, count: int, judge: bool) -> list[Row]:
    repo = copy_repo(workdir)
    configs = _configs(repo, count)
    env = {**os.environ, "PREFLIGHT_IMAGE_DIR": str(image or workdir / "image"), "PREFLIGHT_PYTHON": sys.executable,
           "NO_COLOR": "1"}
    everyone = [str(repo / "infra_scripts" / "preflight_all.sh"), "--concurrency", str(count), "--json",
                *map(str, configs)]
    if judge:  # warm: every project's venv built once (smoke judges nothing and stays cheap)
        _timed(everyone, env)
    singles = [_timed([str(repo / "infra_scripts" / "spot_train.sh"), "--preflight-only", "--config", str(c)], env)
               for c in configs]
    fleet = _timed(everyone, env)
    summaries = sorted((repo / "artifacts" / "preflight" / "_all").glob("*/summary.json"))
    statuses = {r["status"] for r in json.loads(summaries[-1].read_text())["projects"]}
    slowest, ratio = max(singles), fleet / max(singles)
    return [Row(f"24. preflight_all.sh, {count} local projects at once vs one after another (warm)",
                f"{fleet:.1f} s wall ({', '.join(sorted(statuses))})",
                f"{sum(singles):.1f} s in sequence; slowest alone {slowest:.1f} s", f"{ratio:.2f}× the slowest",
                "≤1.5× the slowest single project", (ratio <= 1.5) if judge else None,
                f"{os.cpu_count()} cores; each project a copy of the example with its own venv and LMDB store",
                spreads(singles=sec(Sample.of(singles), 1)) + "; fleet: n=1")]
