"""`python -m preflight.lint RESULT_FILE` with the request on stdin: lint in a process of its own, so the
AST work runs beside the other checks instead of competing with them for the probe's GIL."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from preflight.bounded import NotRegular, read_regular
from preflight.child import child_reply, child_request
from preflight.lint import facts as fact_reader
from preflight.lint import rules
from preflight.lint.cache import FactsCache, key
from preflight.lint.files import MAX_FILE_BYTES, python_files


def _parse(item: tuple[str, str]) -> fact_reader.Facts:
    shown, source = item
    return fact_reader.read(shown, source)


def _parse_all(items: list[tuple[str, str]]) -> list[fact_reader.Facts]:
    """Parsing dominates on a large project: spread it over the cores once there is enough of it."""
    if len(items) < 16:
        return [_parse(item) for item in items]
    with ProcessPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        return list(pool.map(_parse, items, chunksize=4))


def _text(path: Path) -> str:
    """A regular file's text, at most MAX_FILE_BYTES: a .py that is /dev/zero, a FIFO or gigabytes is
    refused (NotRegular, OSError) before it is read."""
    return read_regular(path, MAX_FILE_BYTES, "a file lint reads").decode("utf-8", errors="replace")


def read_texts(root: Path, paths: list[str]) -> tuple[list[tuple[str, str]], list[fact_reader.Facts]]:
    """(shown path, text) of every file lint judges under `root`, and an `unreadable` finding for each file
    that cannot be read."""
    texts, refused = [], []
    for p in python_files(root, paths):
        shown = str(p.relative_to(root) if root in p.parents else p)
        try:
            texts.append((shown, _text(p)))
        except (OSError, NotRegular) as exc:
            refused.append(fact_reader.unreadable(shown, getattr(exc, "strerror", None) or str(exc)))
    return texts, refused


def _read_all(root: Path, paths: list[str]) -> tuple[list[fact_reader.Facts], int, int]:
    """Every file's facts: from the cache when its text is unchanged, else parsed now. A file that cannot
    be read is one `unreadable` finding; the others are linted as ever."""
    texts, refused = read_texts(root, paths)
    cache = FactsCache.open(root)
    keys = [key(shown, text) for shown, text in texts]
    found = [cache.get(k, shown) for k, (shown, _) in zip(keys, texts)]
    missing = [i for i, facts in enumerate(found) if facts is None]
    parsed = _parse_all([texts[i] for i in missing])
    for n, i in enumerate(missing):
        found[i] = parsed[n]
        cache.put(keys[i], parsed[n])
    cache.save(set(keys))
    return ([f for f in found if f is not None] + refused, sum(text.count("\n") + 1 for _, text in texts),
            len(missing))


def main(argv: list[str]) -> int:
    request = child_request()
    root = Path(request["root"])
    files, lines, parsed = _read_all(root, request["paths"])
    judged = rules.judge(files, rules.Settings(**request["settings"]))
    hows = rules.suppressions(judged, files, set(request["ignore"]))
    child_reply(argv[0], {"findings": [f.to_dict() for f, how in zip(judged, hows) if not how],
                          "suppressed": [dict(f.to_dict(), suppression=how) for f, how in zip(judged, hows) if how],
                          "files": len(files), "lines": lines, "parsed": parsed})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
