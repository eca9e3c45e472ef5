"""Rows: the lint check over a 50,000-line project, the files it parses (a count: every file on an empty
facts cache, none on a warm one), and what it adds to the probe's wall time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from measure import ROOT, Row, Sample, median_time, sec, spreads

MODULE = '''
import torch


class Trainer{n}:
    def __init__(self, model, loader):
        self.model, self.loader = model, loader

    def step(self, batch):
        loss = self.model(batch).mean()
        loss.backward()
        return float(loss)

    def run(self, epochs: int) -> list[float]:
        losses = []
        for epoch in range(epochs):
            for batch in self.loader:
                losses.append(self.step(batch))
            torch.save(self.model.state_dict(), f"ckpt-{{epoch}}.pt")
        return losses
'''


# `make preflight` on a fresh clone (BENCHMARKS.md row 9, measured by bench-full): a cold local run.
COLD_RUN_S = 20.4


def project(root: Path, lines: int) -> Path:
    """Realistic training code: classes, loops, saves and calls, in files of ~1,000 lines."""
    block = MODULE.count("\n")
    per_file = max(1, 1000 // block)
    files = max(1, lines // (per_file * block))
    for number in range(files):
        (root / f"mod_{number}.py").write_text("".join(MODULE.format(n=i) for i in range(per_file)))
    return root


def _probe(config: Path, cwd: Path, cache: Path, seed: Path | None = None) -> float:
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{cwd / 'src'}", "XDG_CACHE_HOME": str(cache)}
    if seed is not None:  # the launcher's lint facts, as spot_train.sh hands them to the probe
        env["PREFLIGHT_LINT_SEED"] = str(seed)
    subprocess.run([sys.executable, "-m", "preflight", "probe", "--config", str(config)], cwd=cwd, check=False,
                   capture_output=True, env=env)
    return time.perf_counter() - started


def lint_rows(work: Path, lines: int, repeat: int, judge: bool) -> list[Row]:
    import shutil

    from preflight.child import run_guarded
    from preflight.demo import seed
    from preflight.lint.files import python_files

    # The demo project as the probe normally sees it (imports, project check, ArcticDB), plus the code.
    code = work / "lint-project"
    shutil.copytree(ROOT / "examples" / "predictor", code)
    project(code / "src", lines)
    store = f"lmdb://{work / 'lint-store'}"
    seed(store, "demo", 48, {})  # the probe's usual company: the ArcticDB checks run beside lint
    settings = {"has_flash_attn_requirement": False, "gpu_check": "off", "train_timeout_s": 3600,
                "longest_train_s": None}
    request = {"root": str(code), "paths": [], "ignore": [], "settings": settings}

    def lint_all(cache: Path) -> dict:  # what the check runs: its own process, parsing spread over the cores
        return run_guarded("preflight.lint", request, 60, {**os.environ, "XDG_CACHE_HOME": str(cache)}).value

    counted = sum(p.read_text().count("\n") for p in python_files(code, []))
    alone = median_time(lambda: lint_all(cache=work / f"lint-cache-{time.monotonic_ns()}"), repeat)
    configs = {}
    for state in ("on", "off"):
        configs[state] = work / f"lint-{state}.env"
        configs[state].write_text(f"PREFLIGHT_LINT={state}\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI={store}\n"
                                  "PREFLIGHT_REQUIRED_ENV=\nPREFLIGHT_PROJECT_CHECKS=predictor.preflight:TrainingPreflight\n")
    warm = work / "lint-cache-warm"
    empty = lint_all(cache=warm)
    again = lint_all(cache=warm)
    from preflight.lint.seed import write_seed

    seed_file = work / "lint-seed" / "lint-seed.json"
    seeding = median_time(lambda: write_seed(code, seed_file), 1)  # on the launcher, while the host boots
    walls: dict[str, list[float]] = {"off": [], "cold": [], "warm": [], "seeded": []}
    for n in range(repeat):  # interleaved, so a slow moment on the machine lands on every side
        walls["off"].append(_probe(configs["off"], code, work / "lint-cache-off"))
        walls["cold"].append(_probe(configs["on"], code, work / f"lint-cache-cold-{n}"))
        walls["warm"].append(_probe(configs["on"], code, warm))
        walls["seeded"].append(_probe(configs["on"], code, work / f"lint-cache-seeded-{n}", seed_file))
    samples = {k: Sample.of(v) for k, v in walls.items()}
    off, cold, hot, seeded = (samples[k].median for k in ("off", "cold", "warm", "seeded"))
    parsed_ok = empty["parsed"] == empty["files"] and again["parsed"] == 0
    return [Row(f"lint, {counted:,} lines of training code (empty facts cache)", f"{alone.median:.2f} s", "—", "—",
                "≤ 1 s", (alone.median <= 1.0) if judge else None, spread=spreads(lint=sec(alone))),
            Row(f"lint, {counted:,} lines: files parsed (count)",
                f"{empty['parsed']} of {empty['files']} files on an empty facts cache, {again['parsed']} on a warm one",
                "—", "—", "every file parsed once when the cache is empty, none when it is warm",
                parsed_ok if judge else None, "the lint child's own `parsed` and `files`",
                "count: the same on every run", "count"),
            # Context since issue 25 item 5: its seeded row replaces this cold "+10%" goal, which cannot be
            # met inside the probe on 2 cores; an unseeded cold host is left only with REPO_URL (cloned there).
            Row("lint's cost to the probe's wall time, empty facts cache, no seed (REPO_URL, or all code changed)",
                f"{cold:.2f} s with lint", f"{off:.2f} s without", f"{cold / off - 1:+.0%}", "(context)", None,
                spread=spreads(with_lint=sec(samples["cold"]), without=sec(samples["off"]))),
            Row("lint's cost to the probe's wall time, warm facts cache (a rerun, or a warm image)",
                f"{hot:.2f} s with lint", f"{off:.2f} s without", f"{hot / off - 1:+.0%}", "≤ +10%",
                (hot / off - 1 <= 0.10) if judge else None, spread=spreads(with_lint=sec(samples["warm"]))),
            # Issue 25 item 5: the launcher parses while the host boots and installs (off the critical
            # path: ssm boot is 30 s to minutes, deps longer); the cold host then parses nothing.
            # Issue 25 item 5's goal is +2% of a cold run (empty caches, deps cold), not of the probe alone:
            # the cold local run is `make preflight` on a fresh clone (COLD_RUN_S); the probe alone is the
            # stricter view, shown beside it.
            Row("lint's cost, cold host seeded by the launcher (spot_train.sh's way), against a cold run",
                f"{seeded:.2f} s probe with lint", f"{off:.2f} s without",
                f"+{seeded - off:.2f} s: {(seeded - off) / COLD_RUN_S:+.1%} of a cold run "
                f"({seeded / off - 1:+.1%} of the probe)", "≤ +2% of a cold run",
                ((seeded - off) / COLD_RUN_S <= 0.02) if judge else None,
                spread=spreads(with_lint=sec(samples["seeded"]))),
            Row("the launcher's lint seed, beside the boot (not on the critical path)", f"{seeding.median:.2f} s",
                "—", "—", "finishes before deps", None, spread=spreads(seed=sec(seeding)))]
