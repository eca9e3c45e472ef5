"""`python -m preflight.lint.seed PROJECT_DIR OUT`: every project file's lint facts, parsed on the launcher.

Lint needs only the source, which the launcher has while the host boots, bootstraps and installs
(issue 25 item 5). spot_train.sh starts this in the background at run start; the file it writes goes
to the host with the probe, whose facts cache takes every entry it names (preflight/lint/cache.py:
PREFLIGHT_LINT_SEED). Entries are keyed by each file's path and text, so a file that differs on the
host is parsed there as ever: the seed saves parsing, it never decides a finding.
"""

from __future__ import annotations

import sys
from pathlib import Path

from preflight.lint.cache import FactsCache, key, reader_version


def write_seed(root: Path, out: Path) -> int:
    """Parse every file lint could judge under `root` into `out`; returns how many."""
    from preflight.lint.__main__ import _parse_all, read_texts

    texts, _unreadable = read_texts(root, [])  # the probe names an unreadable file itself
    keys = [key(shown, text) for shown, text in texts]
    seed = FactsCache(out, reader_version(), {})
    for digest, facts in zip(keys, _parse_all(texts)):
        seed.put(digest, facts)
    seed.save(set(keys))
    return len(texts)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m preflight.lint.seed PROJECT_DIR OUT", file=sys.stderr)
        return 2
    root = Path(argv[0]).resolve()
    count = write_seed(root, Path(argv[1]))
    print(f"lint seed: {count} files parsed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
