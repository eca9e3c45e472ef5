"""Rows: the entry-point closure over a 50,000-line project, and what entrypoint adds to the probe."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from cases_lint import project
from measure import ROOT, Row, Sample, sec, spreads


def _closure_once(code: Path, cache: Path) -> tuple[float, int, int]:
    """(seconds, project modules, files parsed) of the static closure alone, in a fresh interpreter."""
    script = ("import json, os, sys, time\nfrom pathlib import Path\n"
              "from preflight.entry.closure import FileFacts, closure_of\n"
              "from preflight.entry.command import find_entries\n"
              "root = Path(sys.argv[1]); t = time.perf_counter()\n"
              "files = FileFacts(root)\n"
              "c = closure_of(find_entries('python train.py', 'TRAIN_CMD', root), root, [], files)\n"
              "files.save()\n"
              "print(json.dumps([time.perf_counter() - t, len(c.modules), c.parsed]))\n")
    out = subprocess.run([sys.executable, "-c", script, str(code)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cache)})
    seconds, modules, parsed = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    return seconds, modules, parsed


def _probe(config: Path, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "preflight", "probe", "--config", str(config)], cwd=cwd, check=False,
                   capture_output=True, env={**os.environ, "PYTHONPATH": f"{ROOT}:{cwd / 'src'}"})
    return time.perf_counter() - started


def entry_rows(work: Path, lines: int, repeat: int, judge: bool) -> list[Row]:
    import shutil

    from preflight.demo import seed

    code = work / "entry-project"
    code.mkdir()
    project(code, lines)
    modules = sorted(p.stem for p in code.glob("mod_*.py"))
    # The entry reaches every module, half of them lazily inside a function body.
    (code / "train.py").write_text("".join(f"import {m}\n" for m in modules[::2])
                                   + "def main():\n" + "".join(f"    from {m} import Trainer0\n" for m in modules[1::2])
                                   + "main()\n")
    counted = sum(p.read_text().count("\n") for p in code.glob("*.py"))
    cold = [_closure_once(code, work / f"entry-cache-{n}") for n in range(repeat)]
    warm_cache = work / "entry-cache-warm"
    _closure_once(code, warm_cache)
    warm = [_closure_once(code, warm_cache) for _ in range(repeat)]
    cold_t, warm_t = Sample.of(r[0] for r in cold), Sample.of(r[0] for r in warm)
    cold_s, warm_s = cold_t.median, warm_t.median
    rows = [Row(f"entry-point closure, {counted:,} lines in {cold[0][1]} modules, empty facts cache "
                f"({cold[0][2]} files parsed)", f"{cold_s:.2f} s", "—", "—", "≤ 1 s",
                (cold_s <= 1.0) if judge else None, spread=spreads(closure=sec(cold_t))),
            Row(f"entry-point closure, warm facts cache ({warm[0][2]} files parsed)", f"{warm_s:.2f} s", "—", "—",
                "≤ 1 s", (warm_s <= 1.0) if judge else None, spread=spreads(closure=sec(warm_t)))]
    # The example as `make preflight` probes it, with and without the entrypoint check.
    example = work / "entry-example"
    shutil.copytree(ROOT / "examples" / "predictor", example)
    store = f"lmdb://{work / 'entry-store'}"
    seed(store, "demo", 48, {})
    configs = {}
    for state, command in (("on", "python -m predictor.cli train"), ("off", "")):
        configs[state] = work / f"entry-{state}.env"
        configs[state].write_text(f"TRAIN_CMD={command}\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI={store}\n"
                                  "PREFLIGHT_REQUIRED_ENV=\nPREFLIGHT_LINT=off\n"
                                  "PREFLIGHT_PROJECT_CHECKS=predictor.preflight:TrainingPreflight\n")
    walls: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(max(repeat, 1)):  # interleaved, so a slow moment lands on both sides
        walls["off"].append(_probe(configs["off"], example))
        walls["on"].append(_probe(configs["on"], example))
    on_t, off_t = Sample.of(walls["on"]), Sample.of(walls["off"])
    on, off = on_t.median, off_t.median
    rows.append(Row("entrypoint's cost to the probe's wall time (the example)", f"{on:.2f} s with",
                    f"{off:.2f} s without", f"{on / off - 1:+.0%}", "≤ +10%",
                    (on / off - 1 <= 0.10) if judge else None,
                    spread=spreads(with_entry=sec(on_t), without=sec(off_t))))
    return rows
