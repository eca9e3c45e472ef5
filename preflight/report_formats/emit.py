"""Write every report asked for, from one Run: JUnit and SARIF files, and in GitHub Actions the
workflow commands (on stderr: stdout may be --json's) and the step summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from preflight.report_formats import github, junit, outputs, sarif
from preflight.report_formats.places import Places
from preflight.report_formats.run import Run


def wants_github(fmt: str | None, environ: Mapping[str, str]) -> bool:
    """--format github, or (no --format) inside GitHub Actions."""
    return fmt == "github" or (fmt is None and environ.get("GITHUB_ACTIONS") == "true")


def _step_summary(run: Run, places: Places, environ: Mapping[str, str]) -> str:
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return ""
    try:
        with open(target, "a", encoding="utf-8") as out:
            out.write(github.step_summary(run, places))
    except OSError as exc:
        return f"GITHUB_STEP_SUMMARY {target}: {exc.strerror or exc}"
    return ""


def emit(run: Run, places: Places, *, junit_path: Path | None, sarif_path: Path | None, github_mode: bool,
         environ: Mapping[str, str], stream: TextIO = sys.stderr) -> list[str]:
    """The problems met (a report that could not be written), each a sentence; [] when all is written."""
    problems = []
    for path, make in ((junit_path, lambda: junit.render(run)),
                       (sarif_path, lambda: (json.dumps(sarif.render(run, places), indent=2) + "\n").encode())):
        if path is None:
            continue
        try:
            outputs.write(path, make())
        except OSError as exc:
            problems.append(f"{path}: not written: {exc.strerror or exc}")
    if github_mode:
        for line in github.commands(run, places):
            print(line, file=stream)
        stream.flush()
        summary_problem = _step_summary(run, places, environ)
        if summary_problem:
            print(f"warning: {summary_problem}", file=stream)
    return problems
