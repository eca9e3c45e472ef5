"""`python -m preflight.fleet check|plan|summarize` — called by infra_scripts/preflight_all.sh.

check      every config validated (as `preflight config --for-run` does) and PROJECT_NAMEs unique;
           prints the manifest (project, transport, region, config, run id; tab-separated); exit 2
           naming every bad file and key, before anything starts
plan       the ssm projects' launch plans at once, their spot vCPU demand summed per quota class and
           compared with the quota; prints the concurrency to use; exit 2 (a plan's configuration
           problem, or a project that does not fit the quota alone) or 3 (no candidate), nothing launched
summarize  summary.json (schema-validated) and the table; exits with the fleet's exit code
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from preflight.config import ConfigError

CONFIG_ERROR = 2


def _say(text: str) -> None:
    print(f"preflight_all: {text}", file=sys.stderr, flush=True)


def read_manifest(directory: Path) -> list[dict[str, str]]:
    keys = ("project", "transport", "region", "config", "run_id")
    lines = (directory / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    return [dict(zip(keys, line.split("\t"))) for line in lines if line]


def cmd_check(args: argparse.Namespace) -> int:
    from preflight.fleet.configs import load_all

    members, problems = load_all(args.configs, os.environ, args.transport, args.run_id)
    for problem in problems:
        _say(f"config error: {problem}")
    if problems:
        _say(f"{len(problems)} problem(s) in {len(args.configs)} config(s): nothing was started for any project")
        return CONFIG_ERROR
    for member in members:
        print(member.row())
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from preflight.artifact import write_atomic
    from preflight.fleet.configs import Member, load_one
    from preflight.fleet.planrun import plan_all
    from preflight.fleet.quota import fleet_plan

    rows = [r for r in read_manifest(args.dir) if r["transport"] == "ssm"]
    try:
        members = [Member(r["project"], r["transport"], r["region"], r["config"], r["run_id"],
                          load_one(r["config"], os.environ, args.transport)) for r in rows]
    except ConfigError as exc:  # the file changed since the check
        _say(f"config error: {exc}")
        return CONFIG_ERROR
    _say(f"fleet plan: the launch plans of {len(members)} ssm project(s), at once")
    plans = plan_all(members, args.dir / "plans", Path(args.tool_root))
    result = fleet_plan({m.project: (m.region, plans[m.project]) for m in members}, args.concurrency)
    write_atomic(result.to_dict(), args.dir / "fleet_plan.json")
    for problem in result.problems:
        _say(f"fleet plan: {problem}")
    for line in result.lines:
        _say(f"fleet plan: {line}")
    if result.exit_code:
        _say(f"fleet plan: nothing launched for any project (exit {result.exit_code})")
        return result.exit_code
    if result.concurrency == args.concurrency:
        _say(f"fleet plan: every spot vCPU quota read holds {args.concurrency} project(s) at once")
    print(result.concurrency)
    return 0


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_summarize(args: argparse.Namespace) -> int:
    import json

    from preflight.artifact import write_atomic
    from preflight.fleet import summary as fleet_summary

    now = time.time()
    times = {"started_at": _stamp(args.started), "finished_at": _stamp(now),
             "wall_seconds": round(max(0.0, now - args.started), 1),
             "concurrency": {"requested": args.requested or None, "default": args.default, "used": args.used}}
    summary = fleet_summary.build(args.run_id, read_manifest(args.dir), args.dir, args.results, times, args.signal,
                                  args.stopped)
    try:
        fleet_summary.validate(summary)
    except ImportError:
        _say("jsonschema is not installed here: summary.json is written unvalidated")
    write_atomic(summary, args.dir / "summary.json")
    print(fleet_summary.table(summary), file=sys.stderr if args.json else sys.stdout, flush=True)
    _say(f"summary: {args.dir / 'summary.json'}")
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    return int(summary["exit_code"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m preflight.fleet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check")
    check.add_argument("--run-id", required=True)
    check.add_argument("--transport", default="", choices=("", "local", "ssm"))
    check.add_argument("configs", nargs="+")
    plan = sub.add_parser("plan")
    plan.add_argument("--dir", type=Path, required=True)
    plan.add_argument("--transport", default="", choices=("", "local", "ssm"))
    plan.add_argument("--concurrency", type=int, required=True)
    plan.add_argument("--tool-root", required=True)
    summarize = sub.add_parser("summarize")
    summarize.add_argument("--dir", type=Path, required=True)
    summarize.add_argument("--results", type=Path, required=True)
    summarize.add_argument("--run-id", required=True)
    summarize.add_argument("--started", type=float, required=True)
    summarize.add_argument("--requested", type=int, default=0)
    summarize.add_argument("--default", type=int, required=True)
    summarize.add_argument("--used", type=int, required=True)
    summarize.add_argument("--signal", default="", choices=("", "INT", "TERM"))
    summarize.add_argument("--stopped", type=int, default=0, help="why launching stopped early (its exit code)")
    summarize.add_argument("--json", action="store_true")
    return parser


def _summarize_or_say(args: argparse.Namespace) -> int:
    """A summary that cannot be built or written is exit 5, unless the runs' own codes say worse (a 7)."""
    try:
        return cmd_summarize(args)
    except Exception as exc:  # the exit code must still come out, and a 7 must never be lost
        from preflight.fleet.summary import fleet_exit, read_exits

        _say(f"summary NOT written: {type(exc).__name__}: {exc}")
        try:
            codes = [e.code for e in read_exits(args.dir).values()]
        except OSError:
            codes = []
        return fleet_exit([*codes, args.stopped or 5], args.signal)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return {"check": cmd_check, "plan": cmd_plan, "summarize": _summarize_or_say}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
