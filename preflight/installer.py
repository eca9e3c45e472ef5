"""Which installer builds the project venv (DEPS_INSTALLER): uv when it can be had, else pip.

Runs on the host's own Python before any venv exists, so it is standard library only and 3.9-safe.
uv comes from PATH (a baked AMI) if `uv --version` runs there, or from a tool-owned venv in the image
directory, which it builds once with `python -m pip install -r preflight/uv-requirements.txt` (the
pinned uv). `auto` falls
back to pip with one line when uv cannot be had; `uv` is an explicit choice and fails instead,
because uv and pip may resolve an unpinned file differently and the user asked for uv's answer.

Prints one line on stdout: `uv <path>` or `pip <why not uv>`. Exit 1 only when DEPS_INSTALLER=uv
and uv cannot be had.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

PIN_FILE = Path(__file__).resolve().parent / "uv-requirements.txt"
COMPLETE = ".preflight-venv-complete"
# pip's defaults (5 retries with backoff, 15 s per read) would hold a blocked index for minutes
# before the fallback; uv either arrives quickly or not at all.
PIP_NETWORK = ["--retries", "1", "--timeout", "20"]
UV_VERSION_TIMEOUT_S = 30


class NoUv(Exception):
    """uv could not be had; the message is one line that says why."""


def tool_dir(image: Path) -> Path:
    return image / "tools" / "uv"


def _pin_digest() -> str:
    return hashlib.sha256(PIN_FILE.read_bytes()).hexdigest()


def _owned_uv(image: Path) -> Path | None:
    home = tool_dir(image)
    marker = home / COMPLETE
    if marker.is_file() and marker.read_text().strip() == _pin_digest() and (home / "bin" / "uv").is_file():
        return home / "bin" / "uv"
    return None


def _pin() -> str:
    return next(line.strip() for line in PIN_FILE.read_text().splitlines() if line.strip()[:1] not in ("", "#"))


def _reason(text: str) -> str:
    """pip's first ERROR line says what went wrong; its last line is often only a help link."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("ERROR:")), lines[-1] if lines else "no output")


def install_uv(image: Path, python: str) -> Path:
    """The tool-owned uv: the complete one for the current pin if there is one, else built now and
    marked complete; one run at a time."""
    home = tool_dir(image)
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / "uv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = _owned_uv(image)
        if ready is not None:
            return ready
        # Built in place (pip's scripts name their venv's path); usable only once marked complete.
        shutil.rmtree(home, ignore_errors=True)
        steps = [("python -m venv", [python, "-m", "venv", str(home)]),
                 (f"pip install {_pin()}", [str(home / "bin" / "python"), "-m", "pip", "install",
                                            "--disable-pip-version-check", "--quiet", *PIP_NETWORK,
                                            "-r", str(PIN_FILE)])]
        for what, argv in steps:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if done.returncode != 0:
                shutil.rmtree(home, ignore_errors=True)
                raise NoUv(f"{what} failed: {_reason(done.stderr + done.stdout).rstrip('.')}")
        (home / COMPLETE).write_text(_pin_digest() + "\n")
        return home / "bin" / "uv"


def runs(uv: Path) -> str:
    """"" when `uv --version` runs and says it is uv; else why not (a bad interpreter line, a crash, a
    wrapper that prints something else): bootstrap would otherwise die on it with 126."""
    try:
        done = subprocess.run([str(uv), "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=UV_VERSION_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as error:
        return f"{uv} does not run: {error}"
    if done.returncode != 0 or not done.stdout.startswith("uv "):
        said = _reason(done.stderr + done.stdout)
        return f"{uv} does not run: `uv --version` exited {done.returncode} ({said})"
    return ""


def find_uv(image: Path, python: str, path: str | None) -> Path:
    """A uv that runs: the one on PATH, else the image's own (built now if need be)."""
    on_path = shutil.which("uv", path=path)
    broken = runs(Path(on_path)) if on_path else ""
    if on_path and not broken:
        return Path(on_path)
    try:
        return install_uv(image, python)
    except NoUv as error:
        raise NoUv(f"{broken}; and {error}" if broken else str(error)) from error


def choose(choice: str, image: Path, python: str, path: str | None = None) -> tuple[str, str]:
    """(`uv`, path) or (`pip`, why uv is not used); raises NoUv when `uv` was asked for and is not to be had."""
    if choice == "pip":
        return "pip", "DEPS_INSTALLER=pip"
    try:
        return "uv", str(find_uv(image, python, path))
    except (NoUv, OSError) as error:
        if choice == "uv":
            raise NoUv(str(error)) from error
        return "pip", f"uv could not be had, so pip it is: {error}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight.installer", description=__doc__.splitlines()[0])
    parser.add_argument("--choice", choices=["auto", "uv", "pip"], default="auto")
    parser.add_argument("--image", type=Path, required=True, help="the image directory (tools and caches)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that builds uv's tool venv")
    args = parser.parse_args(argv)
    try:
        kind, detail = choose(args.choice, args.image, args.python)
    except NoUv as error:
        print(f"deps installer: DEPS_INSTALLER=uv but {error}; set DEPS_INSTALLER=auto to fall back to pip",
              file=sys.stderr)
        return 1
    print(f"{kind} {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
