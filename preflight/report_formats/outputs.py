"""Report files: can one be written where the user asked (checked before anything runs), and writing
it whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def unwritable(path: Path) -> str:
    """"" when a file can be created or replaced at `path` (missing folders are created), else why not."""
    if path.is_dir():
        return f"{path} is a directory"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is not writable"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable"
    return ""


def problems(named: dict[str, Path | None]) -> list[str]:
    """For each flag given a path (e.g. {"--junit": path}), a sentence when it cannot be written."""
    out = []
    for flag, path in named.items():
        why = unwritable(path) if path is not None else ""
        if why:
            out.append(f"{flag} {path}: cannot write there: {why}")
    return out


def write(path: Path, data: bytes) -> None:
    """Temp file beside it, fsync, rename: a reader sees the old report or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
