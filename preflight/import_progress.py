"""Which module a slow import is in: the guarded import children write each module as it starts, so a
deadline kill can say "still importing transformers.trainer" instead of "a module hangs".

The child side (install, begin) is standard library only and 3.9-safe: it runs in the project venv.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

MAX_LINE = 200


class _Recorder:
    """A meta-path finder that finds nothing: it only notes each module name as its import starts."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        try:
            self.out.write(f"  {name[:MAX_LINE]}\n")
            self.out.flush()
        except (OSError, ValueError):
            pass
        return None


def install(path: str) -> TextIO | None:
    """In the child: record every import from now on into `path` (None when there is nowhere to write)."""
    if not path:
        return None
    try:
        out = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the child's whole life)
    except OSError:
        return None
    sys.meta_path.insert(0, _Recorder(out))
    return out


def begin(out: TextIO | None, module: str) -> None:
    """In the child: a top-level import the check asked for starts now."""
    if out is not None:
        out.write(f"> {module[:MAX_LINE]}\n")
        out.flush()


def last_seen(path: Path) -> tuple[str, str]:
    """In the parent: (the requested module being imported, the last module whose import started)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "", ""
    asked = next((line[2:] for line in reversed(lines) if line.startswith("> ")), "")
    last = next((line.strip() for line in reversed(lines) if line.startswith("  ")), "")
    return asked, last


def describe_hang(path: Path, seconds: float) -> str:
    asked, last = last_seen(path)
    if not asked:
        return f"no import had started after {seconds:.1f}s (the interpreter itself was slow to start)"
    inner = f" (the last module to start was {last})" if last and last != asked else ""
    return f"still importing {asked} after {seconds:.1f}s{inner}"
