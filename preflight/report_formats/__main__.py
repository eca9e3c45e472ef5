"""`python -m preflight.report_formats check|write` for spot_train.sh.

  check [--junit P] [--sarif P]        exit 2 naming each path that cannot be written; writes nothing
  write --results DIR --run-id ... [--junit P] [--sarif P] [--github]
                                       the reports of a finished run, from its verified artifact; exit 1
                                       when a report could not be written
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from preflight.report_formats import outputs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m preflight.report_formats")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("check", "write"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--junit", type=Path)
        cmd.add_argument("--sarif", type=Path)
    write = sub.choices["write"]
    write.add_argument("--github", action="store_true", help="workflow commands on stderr, $GITHUB_STEP_SUMMARY")
    write.add_argument("--results", type=Path, required=True, help="the run's results directory")
    for name in ("--run-id", "--mode", "--status", "--reason", "--tool-version"):
        write.add_argument(name, default="")
    write.add_argument("--exit-code", type=int, required=True)
    write.add_argument("--repo-root", type=Path, required=True, help="paths are relative to this (or GITHUB_WORKSPACE)")
    write.add_argument("--project-dir", default="", help="the project root lint paths start from")
    write.add_argument("--config", type=Path, help="the config file")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        found = outputs.problems({"--junit": args.junit, "--sarif": args.sarif})
        for problem in found:
            print(f"spot_train: {problem} (nothing launched)", file=sys.stderr)
        return 2 if found else 0
    from preflight.report_formats import run
    from preflight.report_formats.emit import emit
    from preflight.report_formats.places import Places

    facts = run.from_results(args.results, run_id=args.run_id, mode=args.mode, exit_code=args.exit_code,
                             status=args.status, reason=args.reason, tool_version=args.tool_version)
    places = Places.make(args.repo_root, Path(args.project_dir) if args.project_dir else None, args.config,
                         dict(os.environ))
    problems = emit(facts, places, junit_path=args.junit, sarif_path=args.sarif, github_mode=args.github,
                    environ=os.environ)
    for problem in problems:
        print(f"spot_train: report {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
