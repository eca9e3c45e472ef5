"""Each file's facts kept by the sha256 of its path and text, so a rerun parses only the files that
changed (ruff and mypy keep such caches too). The rules still judge every file's facts: the cache
skips parsing, never a finding. On the host it lives in the image's cache directory
(XDG_CACHE_HOME), so a warm image or a weekly rerun of mostly unchanged code pays almost nothing.

A cache that cannot be read or written is ignored: it only ever costs the parse it would have saved. An
entry of the wrong shape is parsed again and rewritten; a cache folder or file someone else owns or
could write is never read (a planted entry could hide a finding); no home directory, no cache.

PREFLIGHT_LINT_SEED names a file of the same shape that the launcher wrote while the host booted
(preflight/lint/seed.py): its entries join the cache's, under the same rules (this user's file, no one
else may write it, the same reader version, each entry checked before use).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from preflight.bounded import read_regular
from preflight.lint import facts as fact_reader
from preflight.lint import import_facts
from preflight.lint.facts import Facts


def key(shown: str, source: str) -> str:
    return hashlib.sha256(f"{shown}\0{source}".encode("utf-8", "replace")).hexdigest()


def reader_version() -> str:
    """Facts depend on the reader's code: a changed reader starts a new cache."""
    digest = hashlib.sha256()
    for module in (fact_reader, import_facts):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


# The shape of each field as JSON holds it: a cache entry of any other shape is parsed again and rewritten.
_INT, _STR, _BOOL = (int,), (str,), (bool,)
_ROWS = {"saves": (_INT, _STR, _BOOL), "entries": (_INT, _STR), "attrs": (_INT, _STR, _STR),
         "imports": (_INT, _STR, _STR, _INT, _STR, _BOOL, _BOOL, _BOOL)}
_LISTS = {"push_without_id": _INT, "flash": _INT, "cuda": _INT, "shadowed": _STR}
_FLAGS = ("uploads", "tracking", "reads_back")
_TEXTS = ("path", "syntax_error", "unreadable")


def _is(value: Any, types: tuple[type, ...]) -> bool:
    return type(value) in types  # bool is not an int here, nor an int a bool


def _valid(data: Any) -> bool:
    """Exactly the fields Facts has, each of the type the rules read: a wrong arity or type in a cached
    entry would otherwise crash the rules on every later run."""
    if not isinstance(data, dict) or set(data) != set(_ROWS) | set(_LISTS) | set(_FLAGS) | set(_TEXTS) | \
            {"ignored", "defines"}:
        return False
    if not all(_is(data[k], _STR) for k in _TEXTS) or not all(_is(data[k], _BOOL) for k in _FLAGS):
        return False
    for name, shape in _ROWS.items():
        rows = data[name]
        if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == len(shape) and
                                                 all(_is(v, t) for v, t in zip(r, shape)) for r in rows):
            return False
    for name, kind in _LISTS.items():
        if not isinstance(data[name], list) or not all(_is(v, kind) for v in data[name]):
            return False
    ignored, defines = data["ignored"], data["defines"]
    return isinstance(ignored, dict) and all(k.isdigit() and isinstance(v, list) and all(_is(r, _STR) for r in v)
                                             for k, v in ignored.items()) and \
        isinstance(defines, dict) and all(_is(v, _INT) for v in defines.values())


def _from_dict(data: dict[str, Any]) -> Facts:
    return Facts(path=data["path"], saves=[tuple(s) for s in data["saves"]], uploads=data["uploads"],
                 push_without_id=data["push_without_id"], flash=data["flash"],
                 entries=[tuple(e) for e in data["entries"]], tracking=data["tracking"],
                 reads_back=data["reads_back"], cuda=data["cuda"],
                 ignored={int(line): set(rules) for line, rules in data["ignored"].items()},
                 syntax_error=data["syntax_error"], imports=[tuple(i) for i in data["imports"]],
                 defines={str(k): int(v) for k, v in data["defines"].items()},
                 attrs=[tuple(a) for a in data["attrs"]], shadowed=list(data["shadowed"]),
                 unreadable=data["unreadable"])


def _to_dict(facts: Facts) -> dict[str, Any]:
    data = asdict(facts)
    data["ignored"] = {str(line): sorted(rules) for line, rules in facts.ignored.items()}
    return data


MAX_CACHE_BYTES = 64 * 1024 * 1024


def _folder() -> Path | None:
    """$XDG_CACHE_HOME (else ~/.cache)/spot-preflight/lint, or None when there is no home to hold it."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry (a bare container user)
            return None
    return Path(base) / "spot-preflight" / "lint"


def _own(path: Path) -> bool:
    """True when `path` and the folders up to spot-preflight/ are this user's and no one else can write
    them (a missing folder is fine: it will be made 0700)."""
    for part in (path, *[p for p in path.parents if "spot-preflight" in p.parts]):
        try:
            info = part.stat()
        except FileNotFoundError:
            continue
        except OSError:
            return False
        if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


_UNREADABLE = (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError)


def _entries(path: Path, version: str) -> dict[str, Any]:
    data = json.loads(read_regular(path, MAX_CACHE_BYTES, "the lint cache"))
    return data["files"] if data.get("reader") == version and isinstance(data["files"], dict) else {}


def _seed(version: str) -> dict[str, Any]:
    """The launcher's entries (PREFLIGHT_LINT_SEED), if this user's and no one else could write them."""
    seed = os.environ.get("PREFLIGHT_LINT_SEED", "")
    if not seed or not Path(seed).is_file() or not _own(Path(seed)):
        return {}
    try:
        return _entries(Path(seed), version)
    except _UNREADABLE:  # a seed that cannot be read only costs the parses it would have saved
        return {}


class FactsCache:
    """One JSON file per linted root: {"reader": version, "files": {key: facts}}."""

    def __init__(self, path: Path | None, version: str, entries: dict[str, dict[str, Any]]) -> None:
        self.path, self.version, self.entries = path, version, entries
        self.changed = False

    @classmethod
    def open(cls, root: Path) -> FactsCache:
        """The cache for `root`, or an empty one that is never written: with no home directory to
        hold it (no HOME and no passwd entry), or in a directory someone else could write to (an entry
        planted there could hide a finding)."""
        version = reader_version()
        seeded = _seed(version)
        folder = _folder()
        if folder is None or not _own(folder):
            return cls(None, version, seeded)
        path = folder / (hashlib.sha256(str(root).encode()).hexdigest()[:16] + ".json")
        try:
            if path.exists() and not _own(path):
                return cls(None, version, seeded)
            entries = _entries(path, version)
        except _UNREADABLE:
            entries = {}
        return cls(path, version, {**seeded, **entries})

    def get(self, digest: str, shown: str | None = None) -> Facts | None:
        """The cached facts of the file `shown` with this digest, if the entry has exactly Facts' shape
        (and names that file); None (parse it again, and the entry is rewritten) otherwise."""
        data = self.entries.get(digest)
        if data is None:
            return None
        if not _valid(data) or (shown is not None and data["path"] != shown):
            del self.entries[digest]
            self.changed = True
            return None
        return _from_dict(data)

    def put(self, digest: str, facts: Facts) -> None:
        self.entries[digest] = _to_dict(facts)
        self.changed = True

    def save(self, keep: set[str]) -> None:
        """Write the entries of the files linted now (others are gone or changed), if anything moved."""
        if not self.changed and set(self.entries) <= keep:
            return
        if self.path is None:
            return
        data = {"reader": self.version, "files": {k: v for k, v in self.entries.items() if k in keep}}
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _own(self.path.parent):
                return
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".lint-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
