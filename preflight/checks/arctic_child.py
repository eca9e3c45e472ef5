"""In a guarded child on the project venv's Python: both ArcticDB verdicts, read with the project's own
arcticdb (see arctic.py). One process for both, as LMDB allows one open of a store per process.

`python -m preflight.checks.arctic_child RESULT_FILE`, request on stdin: the ARCTICDB_* config values,
the base directory and the deadline. Standard library here; arcticdb and pandas are the project's.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from dataclasses import asdict
from typing import Any

from preflight.checks.arctic import freshness_outcome, library_outcome
from preflight.child import child_reply, child_request, project_namespace
from preflight.config import Config
from preflight.model import Context, Outcome


def _verdict(check: Any, ctx: Context, deadline_s: float) -> dict[str, Any]:
    try:
        return asdict(check(ctx, deadline_s))
    except Exception as exc:  # what the runner would make of it in the probe: a failure with the reason
        return asdict(Outcome("fail", f"{type(exc).__name__}: {exc}"[:500],
                              "the project's arcticdb could not read the store: compare its version with the "
                              "one that wrote the data"))


def _load_arcticdb() -> None:
    """arcticdb (and what it imports) from training's path, where a project may keep it (PYTHONPATH); the
    checks below then use the loaded one. A failure is theirs to report: they import it again."""
    with project_namespace(), contextlib.suppress(Exception):
        importlib.import_module("arcticdb.config")


def main(argv: list[str]) -> int:
    request = child_request()
    _load_arcticdb()
    ctx = Context(config=Config(values=request["config"], source="probe"), environ=dict(os.environ),
                  base_dir=request["base_dir"], aws=None)
    deadline_s = float(request["deadline_s"])
    child_reply(argv[0], {"library": _verdict(library_outcome, ctx, deadline_s),
                          "freshness": _verdict(freshness_outcome, ctx, deadline_s)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
