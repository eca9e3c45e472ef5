"""The bench's markdown: the table of rows with their spread, and its section of BENCHMARKS.md."""

from __future__ import annotations

import re
from pathlib import Path

from measure import Row

QUICK_SECTION = "Latest run (`make bench`)"
FULL_SECTION = "Cold-install rows (`make bench-full`)"


def table(rows: list[Row]) -> str:
    marks = {True: "yes", False: "**no**", None: "—"}
    lines = ["| benchmark | spot-preflight | baseline | ratio | goal | met | spread: min / median / max, runs |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.ours} | {r.baseline} | {r.ratio} | {r.goal} | {marks[r.met]} | {r.spread or '—'} |"
              for r in rows]
    return "\n".join(lines)


def summary(rows: list[Row], run: dict) -> str:
    missed = [r.name for r in rows if r.met is False]
    counts = sum(r.kind == "count" for r in rows)
    return (f"{len(rows)} rows ({counts} counts) in {run['seconds']} s, {run['date']}, {run['machine']} with "
            f"{run['cores']} cores, python {run['python']}, load average {run['load'][0]} at the start and "
            f"{run['load'][1]} at the end; goals missed: {', '.join(missed) or 'none'}")


def section(rows: list[Row], run: dict) -> str:
    return f"{summary(rows, run)}.\n\n{table(rows)}\n"


def write_section(path: Path, heading: str, body: str) -> None:
    """Replace the body under `## heading` (up to the next `## `), or add the section at the end."""
    text = path.read_text()
    pattern = re.compile(rf"(^## {re.escape(heading)}\n\n).*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: m.group(1) + body + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n{body}"
    path.write_text(text)
