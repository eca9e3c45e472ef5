"""`make bench`: every quick benchmark side by side in one run, as a markdown table, bench/results.json and
the "Latest run" section of BENCHMARKS.md.

`--cold-installs` (`make bench-full`) runs the slow rows instead: the deps step installing the example and
the 84-pin training file on empty caches several times with pip and with uv, `make preflight` on fresh
clones, and the tool venv on empty caches; they go to bench/results-full.json and their own section.
`--smoke` runs both sets at tiny sizes (part of `make test`, so the runner cannot rot), judges nothing
and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases_clone  # noqa: E402
import cases_data  # noqa: E402
import cases_deps  # noqa: E402
import cases_entry  # noqa: E402
import cases_fleet  # noqa: E402
import cases_lint  # noqa: E402
import cases_orchestration  # noqa: E402
import cases_plan  # noqa: E402
import cases_probe  # noqa: E402
import report  # noqa: E402
from measure import ROOT, Row  # noqa: E402

# Three runs where the spread has been small (fresh-process reads, start-up, plan, lint); the deps rows
# keep five for the example, whose downloads swing from run to run.
FULL = {"sizes": [1_000, 100_000, 5_000_000], "symbols": 2_000, "delay": 0.5, "repeat": 3, "big_repeat": 3,
        "lint_lines": 50_000, "clone_repeat": 3, "fleet": 4, "latency": 0.03}
SMOKE = {"sizes": [1_000, 5_000], "symbols": 50, "delay": 0.05, "repeat": 1, "big_repeat": 1, "lint_lines": 2_000,
         "clone_repeat": 0, "fleet": 1, "latency": 0.03}


def quick_rows(work: Path, plan: dict, judge: bool, smoke: bool) -> list[Row]:
    rows = cases_data.freshness_one_symbol(f"lmdb://{cases_data.scratch(work, 'one')}", "LMDB", plan["sizes"],
                                           plan["big_repeat"], judge)
    server, uri, upstream = cases_data.moto_s3_uri("bench-one")
    try:
        rows += cases_data.freshness_one_symbol(uri, "S3", plan["sizes"], plan["big_repeat"], judge)
        rows += cases_data.through_latency(upstream, "bench-one", max(plan["sizes"]), plan["latency"],
                                           plan["big_repeat"], judge)
    finally:
        server.stop()
    rows += cases_data.freshness_universe(cases_data.scratch(work, "universe"), plan["symbols"], plan["repeat"], judge)
    rows.append(cases_probe.concurrency(plan["delay"], judge))
    rows.append(cases_data.fail_fast(judge))
    image = ROOT / ".preflight" / "test-image" if smoke else None
    rows += cases_orchestration.orchestration(cases_data.scratch(work, "repo"), image, plan["big_repeat"], judge)
    rows += cases_fleet.fleet_rows(cases_data.scratch(work, "fleet"), image, plan["fleet"], judge)
    rows += cases_probe.startup(work, plan["repeat"], judge)
    rows += cases_plan.plan_rows(plan["repeat"], judge)
    rows += cases_lint.lint_rows(work, plan["lint_lines"], plan["repeat"], judge)
    rows += cases_entry.entry_rows(work, plan["lint_lines"], plan["repeat"], judge)
    rows += cases_deps.tool_venv_rows(cases_data.scratch(work, "tool-venv"), plan["big_repeat"], judge)
    return rows


def cold_install_rows(work: Path, plan: dict, judge: bool) -> list[Row]:
    rows = cases_deps.deps_rows(cases_data.scratch(work, "deps"), plan["big_repeat"], judge)
    rows += cases_clone.make_preflight_rows(cases_data.scratch(work, "clones"), plan["clone_repeat"], judge)
    if judge:
        rows += cases_deps.tool_venv_rows(cases_data.scratch(work, "tool-empty"), plan["big_repeat"], judge,
                                          empty_caches=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--smoke", action="store_true", help="tiny sizes, both sets, nothing judged or written")
    which.add_argument("--cold-installs", action="store_true", help="the slow cold-install rows (make bench-full)")
    args = parser.parse_args()
    plan, judge = (SMOKE, False) if args.smoke else (FULL, True)
    started, load_before = time.time(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="spot-preflight-bench-") as tmp:
        work = Path(tmp)
        rows: list[Row] = []
        if not args.cold_installs:
            rows += quick_rows(work, plan, judge, args.smoke)
        if args.cold_installs or args.smoke:
            rows += cold_install_rows(work, plan, judge)
    seconds = time.time() - started
    run = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), "machine": platform.machine(),
           "cores": os.cpu_count(), "python": platform.python_version(), "seconds": round(seconds),
           "load": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
    print(report.table(rows))
    print("\n" + report.summary(rows, run))
    if not args.smoke:
        name = "results-full.json" if args.cold_installs else "results.json"
        (ROOT / "bench" / name).write_text(json.dumps({**run, "rows": [r.to_dict() for r in rows]}, indent=2) + "\n")
        section = report.FULL_SECTION if args.cold_installs else report.QUICK_SECTION
        report.write_section(ROOT / "BENCHMARKS.md", section, report.section(rows, run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
