"""Installed distributions against the pins in a requirements file (packaging does the parsing)."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from preflight.model import Context, Outcome, failed, passed, skipped, warned


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
            continue  # index options, constraints and hashes say nothing about versions
        else:
            try:
                req = Requirement(line)
            except InvalidRequirement as exc:
                unverifiable.append(f"{where}: {line[:80]} ({exc})")
                continue
            if req.url:
                unverifiable.append(f"{where}: {req.name} @ URL (no version to compare)")
            else:
                reqs.append(req)
    return reqs, unverifiable


def _drift(req: Requirement) -> str | None:
    if req.marker is not None and not req.marker.evaluate():
        return None
    pinned = str(req.specifier) or "any version"
    try:
        installed = metadata.version(canonicalize_name(req.name))
    except metadata.PackageNotFoundError:
        return f"{req.name}: pinned {pinned}, not installed"
    try:
        ok = req.specifier.contains(Version(installed), prereleases=True)
    except InvalidVersion:
        ok = False
    return None if ok else f"{req.name}: pinned {pinned}, installed {installed}"


def _extras(req: Requirement, seen: set[str]) -> list[str]:
    """What the requested extras pull in, checked like pins. Extra names compare normalized (PEP 685):
    an old pip that did not match flow_doctor to flow-doctor left the extra's dependencies out."""
    if not req.extras or (req.marker is not None and not req.marker.evaluate()):
        return []
    try:
        requires = metadata.requires(canonicalize_name(req.name)) or []
    except metadata.PackageNotFoundError:
        return []  # the base requirement already reports it
    problems: list[str] = []
    for extra in sorted(req.extras):
        for line in requires:
            dep = Requirement(line)
            key = f"{canonicalize_name(dep.name)}[{extra}]"
            if dep.marker is None or "extra" not in str(dep.marker) or key in seen:
                continue
            if not dep.marker.evaluate({"extra": canonicalize_name(extra)}):
                continue
            seen.add(key)
            bare = Requirement(f"{dep.name}{'[' + ','.join(sorted(dep.extras)) + ']' if dep.extras else ''}"
                               f"{dep.specifier}")
            problem = _drift(bare)
            if problem:
                problems.append(f"{req.name}[{extra}]: needs {dep.name}{dep.specifier}, "
                                + problem.rsplit(", ", 1)[-1])
            problems += _extras(bare, seen)
    return problems


def install_command(path: Path) -> str:
    """The exact command, in the venv this probe runs in (the project's venv on the host)."""
    return f"{sys.prefix}/bin/python -m pip install -r {path}"


def drift_of(path: Path) -> tuple[list[Requirement], list[str], list[str]]:
    """(requirements, drift lines, unverifiable lines) of a requirements file against this venv."""
    reqs, unverifiable = read_requirements(path)
    seen: set[str] = set()
    drift = [d for d in map(_drift, reqs) if d]
    for req in reqs:
        drift += _extras(req, seen)
    return reqs, drift, unverifiable


def check_pins(ctx: Context) -> Outcome:
    name = ctx.config.text("PREFLIGHT_PINS_FILE")
    if not name:
        return skipped("PREFLIGHT_PINS_FILE is empty")
    path = Path(name)
    if not path.is_file():
        return failed(f"pins file {path} not found (cwd {Path.cwd()})",
                      "set PREFLIGHT_PINS_FILE to the training repo's requirements file")
    reqs, drift, unverifiable = drift_of(path)
    if drift:
        return failed(f"{len(drift)} of {len(reqs)} pins drifted: " + "; ".join(drift),
                      f"reinstall the pins into this venv: {install_command(path.resolve())}", drift=drift,
                      unverifiable=unverifiable)
    if unverifiable:
        return warned(f"{len(reqs)} pins match; {len(unverifiable)} cannot be verified: "
                      + "; ".join(unverifiable[:4]),
                      "pin VCS/URL requirements to a released version to make them checkable",
                      unverifiable=unverifiable)
    extras = [f"{r.name}[{','.join(sorted(r.extras))}]" for r in reqs if r.extras]
    return passed(f"{len(reqs)} pins match installed versions"
                  + (f", with the dependencies of {', '.join(extras)}" if extras else ""), pins=len(reqs))


def main(argv: list[str]) -> int:
    """`python -m preflight.checks.pins FILE`: exit 1 and one line per drift when this venv no longer
    matches FILE (the deps step's cheap, offline check before it skips an install)."""
    _reqs, drift, _odd = drift_of(Path(argv[0]))
    for line in drift:
        print(f"drift: {line}")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
