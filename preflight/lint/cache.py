"""Each file's facts kept by the sha256 of its path and text, so a rerun parses only the files that
changed (ruff and mypy keep such caches too). The rules still judge every file's facts: the cache
skips parsing, never a finding. On the host it lives in the image's cache directory
(XDG_CACHE_HOME), so a warm image or a weekly rerun of mostly unchanged code pays almost nothing.

A cache that cannot be read or written is ignored: it only ever costs the parse it would have saved.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from preflight.lint import facts as fact_reader
from preflight.lint import import_facts
from preflight.lint.facts import Facts


def key(shown: str, source: str) -> str:
    return hashlib.sha256(f"{shown}\0{source}".encode("utf-8", "replace")).hexdigest()


def _reader_version() -> str:
    """Facts depend on the reader's code: a changed reader starts a new cache."""
    digest = hashlib.sha256()
    for module in (fact_reader, import_facts):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def _from_dict(data: dict[str, Any]) -> Facts:
    return Facts(path=data["path"], saves=[tuple(s) for s in data["saves"]], uploads=data["uploads"],
                 push_without_id=data["push_without_id"], flash=data["flash"],
                 entries=[tuple(e) for e in data["entries"]], tracking=data["tracking"],
                 reads_back=data["reads_back"], cuda=data["cuda"],
                 ignored={int(line): set(rules) for line, rules in data["ignored"].items()},
                 syntax_error=data["syntax_error"], imports=[tuple(i) for i in data["imports"]],
                 defines={str(k): int(v) for k, v in data["defines"].items()},
                 attrs=[tuple(a) for a in data["attrs"]], shadowed=list(data["shadowed"]))


def _to_dict(facts: Facts) -> dict[str, Any]:
    data = asdict(facts)
    data["ignored"] = {str(line): sorted(rules) for line, rules in facts.ignored.items()}
    return data


class FactsCache:
    """One JSON file per linted root: {"reader": version, "files": {key: facts}}."""

    def __init__(self, path: Path, version: str, entries: dict[str, dict[str, Any]]) -> None:
        self.path, self.version, self.entries = path, version, entries
        self.changed = False

    @classmethod
    def open(cls, root: Path) -> FactsCache:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = base / "spot-preflight" / "lint" / (hashlib.sha256(str(root).encode()).hexdigest()[:16] + ".json")
        version = _reader_version()
        try:
            data = json.loads(path.read_text())
            entries = data["files"] if data.get("reader") == version else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        return cls(path, version, entries)

    def get(self, digest: str) -> Facts | None:
        data = self.entries.get(digest)
        try:
            return _from_dict(data) if data is not None else None
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # an entry of another shape: parse again

    def put(self, digest: str, facts: Facts) -> None:
        self.entries[digest] = _to_dict(facts)
        self.changed = True

    def save(self, keep: set[str]) -> None:
        """Write the entries of the files linted now (others are gone or changed), if anything moved."""
        if not self.changed and set(self.entries) <= keep:
            return
        data = {"reader": self.version, "files": {k: v for k, v in self.entries.items() if k in keep}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".lint-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
