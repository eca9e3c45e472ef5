"""Reading a file that came from outside: only a regular file (after links), only up to a size.

A FIFO blocks a reader forever, a device such as /dev/zero never ends, a directory is not data, and a
file of gigabytes fills memory; each is refused with a reason before any byte is read. Standard
library only (the orchestrator's config reader uses it before any venv exists).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegular(ValueError):
    """Not a regular file, or larger than the limit; the message says which."""


def kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def read_regular(path: Path | str, limit: int, what: str = "this file", tail: bool = False) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes (with `tail`: its last `limit` bytes).
    Raises NotRegular naming why, FileNotFoundError, or another OSError."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegular(f"not a regular file ({kind(info.st_mode)})")
    # O_NONBLOCK: should the path become a FIFO after the stat, the open still returns at once.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(f"not a regular file ({kind(info.st_mode)})")
        if info.st_size > limit and not tail:
            raise NotRegular(f"{info.st_size} bytes, over the {limit}-byte limit for {what}")
        if tail and info.st_size > limit:
            os.lseek(fd, info.st_size - limit, os.SEEK_SET)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            if tail:
                return b"".join(chunks)[-limit:]
            raise NotRegular(f"over the {limit}-byte limit for {what} (it grew while read)")
        return b"".join(chunks)
    finally:
        os.close(fd)
