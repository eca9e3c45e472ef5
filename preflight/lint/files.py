"""Which files are the project's own code: not venvs, not tests, not hidden directories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Larger than any hand-written module; a generated one this big is not training code to lint.
MAX_FILE_BYTES = 2 * 1024 * 1024
SKIP_DIRS = {"tests", "test", "__pycache__", "node_modules", "site-packages", "venv", "env", "build", "dist"}


def _skip_dir(path: Path) -> bool:
    return path.name.startswith(".") or path.name in SKIP_DIRS or (path / "pyvenv.cfg").exists()


def _code(name: str) -> bool:
    return name.endswith(".py") and not name.startswith("test_") and not name.endswith("_test.py") \
        and name != "conftest.py"


def python_files(root: Path, paths: list[str]) -> Iterator[Path]:
    for start in [root / p for p in paths] or [root]:
        if start.is_file():
            yield start
            continue
        for folder, dirs, names in os.walk(start):
            dirs[:] = sorted(d for d in dirs if not _skip_dir(Path(folder) / d))
            yield from (Path(folder) / n for n in sorted(names) if _code(n))
