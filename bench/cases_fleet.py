"""Row: four local projects with preflight_all.sh (all at once) against the same four run one after
another with spot_train.sh, on a warm image. Goal: the fleet's wall time ≤ 1.5 × its slowest project."""

from __future__ import annotations

import json
import os
import resource
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


def _cpu() -> float:
    """CPU seconds (user + system) of every child process this one has waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


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
    cpu_before = _cpu()
    singles = [_timed([str(repo / "infra_scripts" / "spot_train.sh"), "--preflight-only", "--config", str(c)], env)
               for c in configs]
    cpu = _cpu() - cpu_before
    fleet = _timed(everyone, env)
    # However well the runs overlap, they cannot finish before their CPU work spread over every core: on
    # 2 cores, 4 runs that each keep one core busy cannot come within 1.5x of one run (issue 24's goal
    # assumes the cores to run them side by side). Judged on the goal, or, where the cores are too few
    # for it, within 1.25x of that bound: what is left then is preflight_all's own cost.
    cores = os.cpu_count() or 1
    bound = cpu / cores
    fits = cpu / (1.5 * max(singles)) <= cores
    summaries = sorted((repo / "artifacts" / "preflight" / "_all").glob("*/summary.json"))
    statuses = {r["status"] for r in json.loads(summaries[-1].read_text())["projects"]}
    slowest, ratio = max(singles), fleet / max(singles)
    met = ratio <= 1.5 if fits else fleet <= 1.25 * bound
    return [Row(f"24. preflight_all.sh, {count} local projects at once vs one after another (warm)",
                f"{fleet:.1f} s wall ({', '.join(sorted(statuses))})",
                f"{sum(singles):.1f} s in sequence; slowest alone {slowest:.1f} s", f"{ratio:.2f}× the slowest",
                "≤1.5× the slowest single project (with too few cores for that: ≤1.25× the CPU bound)",
                met if judge else None,
                f"{cores} cores; the runs' CPU is {cpu:.1f} s, so at best {bound:.1f} s on {cores} cores "
                f"({fleet / bound:.2f}× that); 1.5× needs {cpu / (1.5 * slowest):.1f} cores; each project a "
                "copy of the example with its own venv and LMDB store",
                spreads(singles=sec(Sample.of(singles), 1)) + "; fleet: n=1")]
