"""The requirements file against the project venv, and the project venv against itself (packaging
does the parsing; what is installed is read on the project's own interpreter, see project_venv.py).

pins: every requirement installed as the file says (`-r` includes, requested extras, markers evaluated
for the project's Python, `name==1.2 --hash=…` lines of a hash-pinned file); requirements without
`==`/`===` are a warning that names them. pins.consistency: what `pip check` proves — every installed
distribution's requirements are satisfied.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from preflight.checks.project_venv import Snapshot, SnapshotError, snapshot, take
from preflight.model import Context, Outcome, failed, passed, skipped, warned

SHOWN = 10
CLI_DEADLINE_S = 60.0


def _logical_lines(path: Path) -> list[tuple[str, str]]:
    """(where, line) pairs with comments dropped and backslash continuations joined."""
    out: list[tuple[str, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            out.append((f"{path.name}:{start}", line))
    return out


def _requirement_part(line: str) -> str:
    """The requirement without the per-requirement options pip allows after it (`--hash=…`,
    `--config-settings …`): as pip splits them, at the first word that starts with `-`."""
    words = line.split()
    cut = next((n for n, word in enumerate(words) if word.startswith("-")), len(words))
    return " ".join(words[:cut])


def read_requirements(path: Path, seen: set[Path] | None = None) -> tuple[list[Requirement], list[str]]:
    """Requirements from `path` and its `-r` includes, plus lines that cannot be verified."""
    seen = seen if seen is not None else set()
    path = path.resolve()
    if path in seen:
        return [], []
    seen.add(path)
    reqs: list[Requirement] = []
    unverifiable: list[str] = []
    for where, line in _logical_lines(path):
        if line.startswith(("-r ", "--requirement")):
            include = line.split(None, 1)[1] if " " in line else line.split("=", 1)[1]
            more, odd = read_requirements(path.parent / include.strip(), seen)
            reqs += more
            unverifiable += odd
        elif line.startswith(("-e ", "git+", "http://", "https://", "file:")):
            unverifiable.append(f"{where}: {line[:80]} (VCS/URL without a version)")
        elif line.startswith("-"):
            continue  # index options and constraints say nothing about versions
        else:
            try:
                req = Requirement(_requirement_part(line))
            except InvalidRequirement as exc:
                unverifiable.append(f"{where}: {line[:80]} ({exc})")
                continue
            reqs.append(req)
    return reqs, unverifiable


def _applies(req: Requirement, snap: Snapshot, extra: str = "") -> bool:
    """The requirement's marker, for the project's interpreter (not this one)."""
    return req.marker is None or req.marker.evaluate({**snap.markers, "extra": extra})


def _satisfied(req: Requirement, version: str) -> bool:
    try:
        return req.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _drift(req: Requirement, snap: Snapshot) -> str | None:
    if not _applies(req, snap):
        return None
    installed = snap.version_of(req.name)
    if req.url:
        return None if installed else f"{req.name}: from {req.url[:80]}, not installed"
    pinned = str(req.specifier) or "any version"
    if installed is None:
        return f"{req.name}: pinned {pinned}, not installed"
    return None if _satisfied(req, installed) else f"{req.name}: pinned {pinned}, installed {installed}"


def _extras(req: Requirement, snap: Snapshot, seen: set[str]) -> list[str]:
    """What the requested extras pull in, checked like pins. Extra names compare normalized (PEP 685):
    an old pip that did not match flow_doctor to flow-doctor left the extra's dependencies out."""
    if not req.extras or not _applies(req, snap):
        return []
    requires = snap.requires_of(req.name)  # empty when not installed: the base requirement reports it
    problems: list[str] = []
    for extra in sorted(req.extras):
        for line in requires:
            dep = Requirement(line)
            key = f"{canonicalize_name(dep.name)}[{extra}]"
            if dep.marker is None or "extra" not in str(dep.marker) or key in seen:
                continue
            if not _applies(dep, snap, canonicalize_name(extra)):
                continue
            seen.add(key)
            bare = Requirement(f"{dep.name}{'[' + ','.join(sorted(dep.extras)) + ']' if dep.extras else ''}"
                               f"{dep.specifier}")
            problem = _drift(bare, snap)
            if problem:
                problems.append(f"{req.name}[{extra}]: needs {dep.name}{dep.specifier}, "
                                + problem.rsplit(", ", 1)[-1])
            problems += _extras(bare, snap, seen)
    return problems


def _pinned(req: Requirement) -> bool:
    """`==1.2` or `===1.2`: one version, whatever the index holds tomorrow (`==1.*` is a range)."""
    return req.url is not None or any(
        spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))
        for spec in req.specifier)


def install_command(snap: Snapshot, path: Path) -> str:
    """The exact command, in the project venv (not the probe's own)."""
    return f"{snap.python()} -m pip install -r {path}"


def drift_of(path: Path, snap: Snapshot) -> tuple[list[Requirement], list[str], list[str]]:
    """(requirements, drift lines, unverifiable lines) of a requirements file against the project venv."""
    reqs, unverifiable = read_requirements(path)
    seen: set[str] = set()
    drift = [d for d in (_drift(r, snap) for r in reqs) if d]
    for req in reqs:
        drift += _extras(req, snap, seen)
    unverifiable += [f"{r.name} @ {r.url[:60]} (installed {snap.version_of(r.name)}; a URL has no version to "
                     "compare)" for r in reqs if r.url and _applies(r, snap) and snap.version_of(r.name)]
    return reqs, drift, unverifiable


def _listed(names: list[str]) -> str:
    return ", ".join(names[:SHOWN]) + (", …" if len(names) > SHOWN else "")


def _unreadable(exc: SnapshotError) -> Outcome:
    return failed(f"could not read the project venv: {exc}",
                  "run the project venv's python (PREFLIGHT_PROJECT_PYTHON) by hand to see why")


def check_pins(ctx: Context, deadline_s: float) -> Outcome:
    name = ctx.config.text("PREFLIGHT_PINS_FILE")
    if not name:
        return skipped("PREFLIGHT_PINS_FILE is empty")
    path = Path(name)
    if not path.is_file():
        return failed(f"pins file {path} not found (cwd {Path.cwd()})",
                      "set PREFLIGHT_PINS_FILE to the training repo's requirements file")
    try:
        snap = snapshot(ctx, deadline_s)
    except SnapshotError as exc:
        return _unreadable(exc)
    reqs, drift, unverifiable = drift_of(path, snap)
    if drift:
        return failed(f"{len(drift)} of {len(reqs)} pins drifted: " + "; ".join(drift),
                      f"reinstall the pins into the project venv: {install_command(snap, path.resolve())}",
                      drift=drift, unverifiable=unverifiable)
    unpinned = [r.name for r in reqs if not _pinned(r)]
    extras = [f"{r.name}[{','.join(sorted(r.extras))}]" for r in reqs if r.extras]
    versioned = [r for r in reqs if not r.url]
    matched = f"{len(versioned) - len(unpinned)} pins match installed versions" + (
        f", with the dependencies of {', '.join(extras)}" if extras else "")
    if unpinned or unverifiable:
        parts = [matched]
        if unpinned:
            parts.append(f"{len(unpinned)} of {len(reqs)} requirements are unpinned: {_listed(unpinned)}")
        if unverifiable:
            parts.append(f"{len(unverifiable)} cannot be verified: " + "; ".join(unverifiable[:4]))
        fixes = (["pin every requirement with == (pip-compile or `uv pip compile` writes a fully pinned file): "
                  "an unpinned name installs whatever the index holds on the day"] if unpinned else [])
        fixes += ["pin VCS/URL requirements to a released version to make them checkable"] if unverifiable else []
        return warned("; ".join(parts), "; ".join(fixes), unpinned=unpinned, unverifiable=unverifiable)
    return passed(matched, pins=len(reqs))


def conflicts(snap: Snapshot) -> list[str]:
    """What `pip check` reports: each installed distribution's requirements (extra-gated ones left out,
    markers evaluated for the project's Python) missing or at a version outside their range."""
    found: list[str] = []
    for name, version, requires in sorted(snap.installed.values(), key=lambda d: canonicalize_name(d[0])):
        for line in requires:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue  # pip check skips what it cannot parse too
            if not _applies(req, snap):
                continue
            installed = snap.version_of(req.name)
            wanted = f"{req.name}{req.specifier}"
            if installed is None:
                found.append(f"{name} {version} requires {wanted}, which is not installed")
            elif not _satisfied(req, installed):
                found.append(f"{name} {version} requires {wanted}, but {req.name} {installed} is installed")
    return found


def check_consistency(ctx: Context, deadline_s: float) -> Outcome:
    try:
        snap = snapshot(ctx, deadline_s)
    except SnapshotError as exc:
        return _unreadable(exc)
    found = conflicts(snap)
    where = f"the project venv ({snap.prefix})"
    if found:
        return failed(f"{len(found)} broken requirement{'s' if len(found) > 1 else ''} in {where}: "
                      + "; ".join(found[:SHOWN]) + ("; …" if len(found) > SHOWN else ""),
                      "make the requirements agree (pin the versions that fit together) and reinstall; "
                      f"`{snap.python()} -m pip check` lists the same", conflicts=found[:50])
    more = " (the first 5000 distributions)" if snap.truncated else ""
    return passed(f"{len(snap.installed)} distributions in the project venv, every requirement satisfied{more}",
                  distributions=len(snap.installed), venv=snap.prefix)


def main(argv: list[str]) -> int:
    """`python -m preflight.checks.pins FILE`: exit 1 and one line per drift when the project venv
    (PREFLIGHT_PROJECT_PYTHON, else this interpreter's) no longer matches FILE — the deps step's cheap,
    offline check before it skips an install."""
    try:
        snap = take(os.environ, CLI_DEADLINE_S)
    except SnapshotError as exc:
        print(f"drift: {exc}")
        return 1
    _reqs, drift, _odd = drift_of(Path(argv[0]), snap)
    for line in drift:
        print(f"drift: {line}")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
