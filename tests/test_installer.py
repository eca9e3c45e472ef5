"""DEPS_INSTALLER's choice (preflight/installer.py) without the network: uv from PATH, from the image's
tool venv, or built there; what `auto` and `uv` do when it cannot be had."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from preflight import installer
from tests.conftest import ROOT

FAILING_PYTHON = "#!/bin/sh\necho 'Error: Command [...] returned non-zero exit status 1.' >&2\nexit 1\n"


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def owned(image: Path, digest: str) -> Path:
    uv = executable(installer.tool_dir(image) / "bin" / "uv", "#!/bin/sh\necho uv 0.0.0\n")
    (installer.tool_dir(image) / installer.COMPLETE).write_text(digest + "\n")
    return uv


def test_pip_touches_nothing(tmp_path: Path):
    assert installer.choose("pip", tmp_path / "image", "/nonexistent/python") == ("pip", "DEPS_INSTALLER=pip")
    assert not (tmp_path / "image").exists()


def test_uv_on_path_wins_and_nothing_is_built(tmp_path: Path):
    uv = executable(tmp_path / "bin" / "uv", "#!/bin/sh\necho uv 0.9.0\n")
    kind, where = installer.choose("auto", tmp_path / "image", "/nonexistent/python", path=str(tmp_path / "bin"))
    assert (kind, where) == ("uv", str(uv))
    assert not (tmp_path / "image").exists()


def test_tool_venv_for_the_current_pin_is_reused(tmp_path: Path):
    uv = owned(tmp_path, installer._pin_digest())
    assert installer.choose("uv", tmp_path, "/nonexistent/python", path=str(tmp_path / "empty")) == ("uv", str(uv))


def test_tool_venv_for_another_pin_is_rebuilt(tmp_path: Path):
    owned(tmp_path, "0" * 64)
    python = executable(tmp_path / "python", FAILING_PYTHON)
    kind, why = installer.choose("auto", tmp_path, str(python), path=str(tmp_path / "empty"))
    assert kind == "pip" and "python -m venv failed: Error: Command" in why
    # A failed build leaves no half-built venv behind, nor the one for the old pin.
    assert not installer.tool_dir(tmp_path).exists()


def test_auto_falls_back_to_pip_naming_the_reason(tmp_path: Path):
    python = executable(tmp_path / "python", FAILING_PYTHON)
    kind, why = installer.choose("auto", tmp_path / "image", str(python), path=str(tmp_path / "empty"))
    assert kind == "pip"
    assert why.startswith("uv could not be had, so pip it is: python -m venv failed")


def test_uv_asked_for_and_not_to_be_had_fails(tmp_path: Path):
    python = executable(tmp_path / "python", FAILING_PYTHON)
    with pytest.raises(installer.NoUv, match="python -m venv failed"):
        installer.choose("uv", tmp_path / "image", str(python), path=str(tmp_path / "empty"))


def test_pip_error_line_is_the_reason():
    text = "Looking in indexes: x\nERROR: Could not find a version that satisfies the requirement uv==9\n" \
           "ERROR: No matching distribution found for uv==9\n"
    assert installer._reason(text) == "ERROR: Could not find a version that satisfies the requirement uv==9"
    assert installer._reason("only\nlast line\n") == "last line"


@pytest.mark.parametrize("python", [sys.executable, "py39"])
def test_cli_prints_one_line_and_exit_codes(tmp_path: Path, python: str, request: pytest.FixtureRequest):
    """The module runs on the host's own interpreter, 3.9 included, before any venv exists."""
    if python == "py39":
        python = str(request.getfixturevalue("venv39"))
    failing = executable(tmp_path / "python", FAILING_PYTHON)
    env = {**os.environ, "PATH": f"{tmp_path / 'empty'}:/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONHOME", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, "-m", "preflight.installer", "--image", str(tmp_path / "image"),
                               "--python", str(failing), *args], env=env, capture_output=True, text=True)

    auto = run("--choice", "auto")
    assert auto.returncode == 0 and auto.stdout.count("\n") == 1
    assert auto.stdout.startswith("pip uv could not be had, so pip it is: python -m venv failed")
    strict = run("--choice", "uv")
    assert strict.returncode == 1 and strict.stdout == ""
    assert "DEPS_INSTALLER=uv but python -m venv failed" in strict.stderr
    assert "set DEPS_INSTALLER=auto" in strict.stderr



@pytest.mark.parametrize("broken", ["#!/nonexistent/interpreter\n", "#!/bin/sh\necho 'uv: cannot run' >&2\nexit 3\n",
                                    "#!/bin/sh\necho not-uv\n"])
def test_a_broken_uv_on_path_is_not_picked(tmp_path: Path, broken: str):
    """Issue 23 class 6: a uv on PATH that cannot run was picked by `auto`, and bootstrap died (126) instead of
    falling back. It is tried first: a broken one is passed over for the image's own uv, else pip, saying why."""
    executable(tmp_path / "bin" / "uv", broken)
    failing = executable(tmp_path / "python", FAILING_PYTHON)
    kind, why = installer.choose("auto", tmp_path / "image", str(failing), path=str(tmp_path / "bin"))
    assert kind == "pip" and f"{tmp_path / 'bin' / 'uv'} does not run" in why, why
    good = owned(tmp_path / "image", installer._pin_digest())
    assert installer.choose("auto", tmp_path / "image", str(failing), path=str(tmp_path / "bin")) == ("uv", str(good))
    assert installer.choose("uv", tmp_path / "image", str(failing), path=str(tmp_path / "bin")) == ("uv", str(good))
