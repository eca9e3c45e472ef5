"""`python -m preflight.lint RESULT_FILE` with the request on stdin: lint in a process of its own, so the
AST work runs beside the other checks instead of competing with them for the probe's GIL."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from preflight.child import child_reply, child_request
from preflight.lint import facts as fact_reader
from preflight.lint import rules
from preflight.lint.files import python_files


def _read(item: tuple[str, str]) -> tuple[fact_reader.Facts, int]:
    path, shown = item
    source = Path(path).read_text(encoding="utf-8", errors="replace")
    return fact_reader.read(shown, source), source.count("\n") + 1


def _read_all(root: Path, paths: list[str]) -> tuple[list[fact_reader.Facts], int]:
    """Parsing dominates on a large project: spread it over the cores once there is enough of it."""
    items = [(str(p), str(p.relative_to(root) if root in p.parents else p)) for p in python_files(root, paths)]
    if len(items) < 16:
        results = [_read(item) for item in items]
    else:
        with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
            results = list(pool.map(_read, items, chunksize=4))
    return [facts for facts, _ in results], sum(lines for _, lines in results)


def main(argv: list[str]) -> int:
    request = child_request()
    root = Path(request["root"])
    files, lines = _read_all(root, request["paths"])
    found = rules.unsuppressed(rules.judge(files, rules.Settings(**request["settings"])), files,
                               set(request["ignore"]))
    child_reply(argv[0], {"findings": [f.to_dict() for f in found], "files": len(files), "lines": lines})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
