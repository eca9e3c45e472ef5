"""SkyPilot and Vast: installed, versioned and credentialed — judged from files, not `sky check`.

`sky check` exits 0 even when Vast is disabled, and importing parts of sky can start its API
server, so this check only looks: find_spec, distribution metadata, PATH and the key file.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from importlib import metadata
from pathlib import Path

from preflight.model import Context, Outcome, failed, passed, skipped, warned

VAST_KEY_FILE = "~/.config/vastai/vast_api_key"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _home(ctx: Context) -> Path:
    return Path(ctx.environ.get("HOME") or Path.home())


def check_skypilot(ctx: Context) -> Outcome:
    mode = ctx.config.text("SKYPILOT_CHECK")
    if mode == "off":
        return skipped("SKYPILOT_CHECK=off")
    problems: list[str] = []
    sky_version = _version("skypilot") or _version("skypilot-nightly")
    if importlib.util.find_spec("sky") is None or not sky_version:
        problems.append("skypilot is not installed in this environment")
    if not shutil.which("sky", path=ctx.environ.get("PATH")):
        problems.append("`sky` is not on PATH")
    if importlib.util.find_spec("vastai_sdk") is None:
        problems.append("vastai_sdk is not importable")
    key_file = _home(ctx) / VAST_KEY_FILE.removeprefix("~/")
    if not (key_file.is_file() and key_file.read_text(encoding="utf-8", errors="replace").strip()):
        problems.append(f"Vast API key file {VAST_KEY_FILE} is missing or empty")
    details = {"skypilot_version": sky_version, "vast_key_file_present": key_file.is_file()}
    if not problems:
        return passed(f"skypilot {sky_version}, vastai_sdk importable, Vast key present", **details)
    remedy = (f"{sys.prefix}/bin/python -m pip install 'skypilot[vast]' vastai-sdk && {sys.prefix}/bin/vastai "
              f"set api-key <key> (writes {VAST_KEY_FILE})")
    if mode == "required":
        return failed("; ".join(problems), remedy, **details)
    return warned("; ".join(problems), remedy, **details)
