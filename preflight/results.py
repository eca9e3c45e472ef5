"""A project's results folder: `python -m preflight.results prune DIR KEEP` keeps the newest KEEP run
folders (RESULTS_KEEP) and never the targets of `latest` / `latest-ready`. Standard library only:
it runs in the orchestrator before any venv exists."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

LINKS = ("latest", "latest-ready")


def prune(results: Path, keep: int) -> list[str]:
    """The run folders removed, oldest first. A run folder is a real directory holding run.json or
    logs/; anything else (links, stray files, a run still being claimed) is left alone."""
    if not results.is_dir():
        return []
    kept = {(results / link).resolve() for link in LINKS if (results / link).is_symlink()}
    runs = [p for p in results.iterdir()
            if p.is_dir() and not p.is_symlink() and ((p / "run.json").is_file() or (p / "logs").is_dir())]
    runs.sort(key=lambda p: p.stat().st_mtime)
    removable = [p for p in runs[: max(0, len(runs) - keep)] if p.resolve() not in kept]
    for path in removable:
        shutil.rmtree(path, ignore_errors=True)
    return [p.name for p in removable]


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "prune" or not argv[2].isdigit():
        print("usage: python -m preflight.results prune DIR KEEP", file=sys.stderr)
        return 2
    removed = prune(Path(argv[1]), int(argv[2]))
    if removed:
        print(f"pruned {len(removed)} old run folder{'s' if len(removed) > 1 else ''} of {argv[1]} "
              f"(RESULTS_KEEP={argv[2]}): {', '.join(removed[:5])}{' …' if len(removed) > 5 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
