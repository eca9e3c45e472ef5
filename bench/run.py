"""`make bench`: every benchmark side by side in one run, as a markdown table and bench/results.json.

`--smoke` runs the same code at tiny sizes (part of `make test`, so the runner cannot rot) and judges
nothing; the full run judges each goal.
"""

from __future__ import annotations

import argparse
import json
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
from measure import ROOT, Row  # noqa: E402

FULL = {"sizes": [1_000, 100_000, 5_000_000], "symbols": 2_000, "delay": 0.5, "repeat": 5, "big_repeat": 3,
        "lint_lines": 50_000, "clone_repeat": 3, "fleet": 4}
SMOKE = {"sizes": [1_000, 5_000], "symbols": 50, "delay": 0.05, "repeat": 1, "big_repeat": 1, "lint_lines": 2_000,
         "clone_repeat": 0, "fleet": 1}


def table(rows: list[Row]) -> str:
    marks = {True: "yes", False: "**no**", None: "—"}
    lines = ["| benchmark | spot-preflight | baseline | ratio | goal | met |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.ours} | {r.baseline} | {r.ratio} | {r.goal} | {marks[r.met]} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, nothing judged")
    args = parser.parse_args()
    plan, judge = (SMOKE, False) if args.smoke else (FULL, True)
    started = time.time()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="spot-preflight-bench-") as tmp:
        work = Path(tmp)
        rows += cases_data.freshness_one_symbol(f"lmdb://{cases_data.scratch(work, 'one')}", "LMDB", plan["sizes"],
                                                plan["big_repeat"], judge)
        server, uri = cases_data.moto_s3_uri("bench-one")
        try:
            rows += cases_data.freshness_one_symbol(uri, "S3", plan["sizes"], plan["big_repeat"], judge)
        finally:
            server.stop()
        rows.append(cases_data.freshness_universe(cases_data.scratch(work, "universe"), plan["symbols"],
                                                  plan["repeat"], judge))
        rows.append(cases_probe.concurrency(plan["delay"], judge))
        rows.append(cases_data.fail_fast(judge))
        image = ROOT / ".preflight" / "test-image" if args.smoke else None
        rows += cases_orchestration.orchestration(cases_data.scratch(work, "repo"), image, plan["big_repeat"], judge)
        rows += cases_fleet.fleet_rows(cases_data.scratch(work, "fleet"), image, plan["fleet"], judge)
        rows += cases_probe.startup(work, plan["repeat"], judge)
        rows += cases_plan.plan_rows(plan["repeat"], judge)
        rows += cases_lint.lint_rows(work, plan["lint_lines"], plan["repeat"], judge)
        rows += cases_entry.entry_rows(work, plan["lint_lines"], plan["repeat"], judge)
        rows += cases_deps.deps_rows(cases_data.scratch(work, "deps"), plan["big_repeat"], judge)
        rows += cases_clone.make_preflight_rows(cases_data.scratch(work, "clones"), plan["clone_repeat"], judge)
        rows += cases_deps.tool_venv_rows(cases_data.scratch(work, "tool-venv"), plan["big_repeat"], judge)
    report = table(rows)
    print(report)
    missed = [r.name for r in rows if r.met is False]
    print(f"\n{len(rows)} rows in {time.time() - started:.0f} s on {platform.machine()}, python "
          f"{platform.python_version()}; goals missed: {', '.join(missed) or 'none'}")
    if not args.smoke:
        results = {"rows": [r.to_dict() for r in rows], "python": platform.python_version(),
                   "machine": platform.machine(), "seconds": round(time.time() - started)}
        (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
