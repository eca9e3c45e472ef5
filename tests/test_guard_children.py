"""Issue 10 item 1: user code runs in guarded child processes, never in the probe's own process.

Reproductions, through the real `preflight probe` CLI: a project module that writes to S3 from a
subprocess at import time, and one that hangs at import while holding the GIL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OFF = ("PREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\nARCTICDB_URI=\nARCTICDB_REQUIRED_SYMBOLS=\n"
       "PREFLIGHT_IMPORT_NAMES=\n")
WRITER = f"""
import subprocess, sys
# What a training package's config module sometimes does: a helper process that "syncs" state.
subprocess.run([{sys.executable!r}, "-c", "import boto3; boto3.client('s3', region_name='us-east-1')"
                ".put_object(Bucket='guard-test', Key='written-at-import', Body=b'1')"], check=False)
"""


def _probe(tmp_path: Path, run_cli, module: str, source: str, env: dict[str, str], extra: str = ""):
    (tmp_path / "proj").mkdir(exist_ok=True)
    (tmp_path / "proj" / f"{module}.py").write_text(source)
    config = tmp_path / "w.env"
    config.write_text(OFF.replace("PREFLIGHT_IMPORT_NAMES=\n", "") + f"PREFLIGHT_IMPORTS={module}\n"
                      + (extra if "PREFLIGHT_IMPORT_NAMES=" in extra else extra + "PREFLIGHT_IMPORT_NAMES=\n"))
    out = run_cli("probe", "--config", str(config), "--json", "--out", str(tmp_path / "a.json"),
                  env={**env, "PYTHONPATH": f"{tmp_path / 'proj'}:{Path(__file__).resolve().parents[1]}"})
    return out, json.loads(out.stdout) if out.stdout.strip() else None


def _check(artifact: dict, check_id: str) -> dict:
    return next(c for c in artifact["checks"] if c["id"] == check_id)


def test_import_time_subprocess_write_is_refused_and_reported(tmp_path: Path, run_cli, s3, aws_env):
    s3.create_bucket(Bucket="guard-test")
    out, artifact = _probe(tmp_path, run_cli, "pf_writer", WRITER, aws_env)
    assert artifact is not None, out.stderr[-2000:]
    assert s3.list_objects_v2(Bucket="guard-test").get("KeyCount") == 0, "the subprocess wrote to S3"
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "fail" and "s3:PutObject" in readonly["message"]
    assert artifact["status"] == "FAILED" and out.returncode == 1


def test_import_that_holds_the_gil_is_killed_and_the_artifact_still_emitted(tmp_path: Path, run_cli):
    hang = 'import re\nre.match(r"(a+)+$", "a" * 64 + "b")  # catastrophic backtracking: never releases the GIL\n'
    out, artifact = _probe(tmp_path, run_cli, "pf_hang", hang, {},
                           "CHECK_TIMEOUTS=imports:6\nPROBE_DEADLINE_SECONDS=12\n")
    assert artifact is not None and out.returncode == 1, out.stderr[-2000:]
    imports = _check(artifact, "imports")
    # Slow is not a hang: the message names the module the child was importing when it was killed.
    assert imports["status"] == "fail" and "killed at its deadline" in imports["message"]
    assert "still importing pf_hang" in imports["message"]
    # No timed assertion: the kill is proven by the message above; run_cli's own timeout is the backstop.
    assert (tmp_path / "a.json").is_file()


def test_readonly_is_a_warning_when_user_code_ran_without_the_readonly_role(tmp_path: Path, run_cli):
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "HOME": str(tmp_path)}
    out, artifact = _probe(tmp_path, run_cli, "pf_quiet", "VALUE = 1\n", creds)
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "warn" and out.returncode == 0
    for covered in ("probe process", "Python child process", "not covered", "PREFLIGHT_READONLY_ROLE_ARN"):
        assert covered in readonly["message"] + readonly["remediation"]


def test_readonly_without_any_credentials_is_a_pass_that_says_why(tmp_path: Path, run_cli):
    """Issue 22 item 9: the local demo has no credentials to write with; a warning there cannot be acted on."""
    out, artifact = _probe(tmp_path, run_cli, "pf_quiet", "VALUE = 1\n", {"HOME": str(tmp_path)})
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "pass" and "no AWS credentials" in readonly["message"], readonly
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    out, artifact = _probe(tmp_path, run_cli, "pf_quiet", "VALUE = 1\n", {"HOME": str(tmp_path)})
    assert _check(artifact, "aws.readonly")["status"] == "warn"


def test_readonly_passes_when_no_user_code_ran(tmp_path: Path, run_cli):
    config = tmp_path / "w.env"
    config.write_text(OFF + "PREFLIGHT_IMPORTS=\n")
    artifact = json.loads(run_cli("probe", "--config", str(config), "--json").stdout)
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "pass" and "no project code ran" in readonly["message"]


@pytest.mark.parametrize("hostile", ["import os\nos._exit(3)\n"])
def test_child_that_ends_the_interpreter_is_a_failure_not_a_crash(tmp_path: Path, run_cli, hostile: str):
    out, artifact = _probe(tmp_path, run_cli, "pf_exit", hostile, {})
    assert artifact is not None and "exited 3 without a result" in _check(artifact, "imports")["message"]


def test_a_5kb_import_error_hides_no_other_failure_in_console_or_artifact(tmp_path: Path, run_cli):
    """Issue 12 item 1, end to end: one import raising a 5 KB error and two names gone — all three shown."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pf_ok.py").write_text("present = 1\n")
    source = "raise RuntimeError('config: ' + 'k' * 5000)\n"
    extra = "PREFLIGHT_IMPORT_NAMES=pf_ok:gone_one,pf_ok:gone_two\n"
    out, artifact = _probe(tmp_path, run_cli, "pf_big", source, {}, extra)
    assert artifact is not None and artifact["status"] == "FAILED"
    imports = _check(artifact, "imports")
    for needle in ("pf_big: importing it raised RuntimeError", "pf_ok:gone_one", "pf_ok:gone_two"):
        assert needle in imports["message"] and needle in artifact["failures"][0]["message"]
    config = tmp_path / "w.env"
    console = run_cli("probe", "--config", str(config),
                      env={"PYTHONPATH": f"{tmp_path / 'proj'}:{Path(__file__).resolve().parents[1]}"})
    for needle in ("pf_big: importing it raised RuntimeError", "pf_ok:gone_one", "pf_ok:gone_two"):
        assert needle in console.stdout


# --- issue 23 class 2: the guard counts what was spawned, not only what reported in ----------------------

ESCAPES = {
    "own-pythonpath": "import os, subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'],"
                      " env={**os.environ, 'PYTHONPATH': '/elsewhere'})\n",
    "reduced-env": "import subprocess, sys\n"
                   "subprocess.run([sys.executable, '-c', 'pass'], env={'PATH': '/usr/bin:/bin'})\n",
    "pops-the-variable": "import os, subprocess, sys\nos.environ.pop('PREFLIGHT_GUARD')\n"
                         "subprocess.run([sys.executable, '-c', 'pass'])\n",
    "posix-spawn": "import os, sys\nenv = {k: v for k, v in os.environ.items() if k != 'PREFLIGHT_GUARD'}\n"
                   "os.waitpid(os.posix_spawn(sys.executable, [sys.executable, '-c', 'pass'], env), 0)\n",
}
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_a_python_child_that_escapes_the_guard_is_counted_and_named(tmp_path: Path, run_cli, escape: str):
    """A child Python started with its own PYTHONPATH, a reduced environment, or after the guard's variable
    was popped, ran unguarded while aws.readonly said "no write seen ... 0 Python child processes"."""
    out, artifact = _probe(tmp_path, run_cli, "pf_escape", ESCAPES[escape], {**CREDS, "HOME": str(tmp_path)})
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "warn", readonly
    assert "1 process started for project code ran without the guard" in readonly["message"], readonly["message"]
    assert "python" in readonly["message"] and readonly["details"]["unguarded"], readonly
    assert "only complete answer" in readonly["remediation"]


def test_an_escape_is_still_said_when_no_credentials_make_it_a_pass(tmp_path: Path, run_cli):
    out, artifact = _probe(tmp_path, run_cli, "pf_escape", ESCAPES["reduced-env"], {"HOME": str(tmp_path)})
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "pass" and "no AWS credentials" in readonly["message"]
    assert "1 process started for project code ran without the guard" in readonly["message"], readonly["message"]


def test_children_that_keep_the_guard_are_not_counted_as_escapes(tmp_path: Path, run_cli):
    source = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'pass'], check=True)\n"
    out, artifact = _probe(tmp_path, run_cli, "pf_kept", source, {**CREDS, "HOME": str(tmp_path)})
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "warn" and "without the guard" not in readonly["message"], readonly
    # The import child and the process it started both reported in (the probe's own children too).
    assert readonly["details"]["guarded_children"] >= 2 and readonly["details"]["unguarded"] == []


def test_a_pth_file_that_unsets_the_guard_is_counted(tmp_path: Path, run_cli):
    """A .pth in the venv runs before sitecustomize: one that pops the guard's variable left every child
    unguarded, silently. The probe counts the children it started that never reported in."""
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_evil.pth").write_text("import os; os.environ.pop('PREFLIGHT_GUARD', None)\n")
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # the probe's own packages
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pf_quiet.py").write_text("VALUE = 1\n")
    config = tmp_path / "w.env"
    config.write_text(OFF.replace("PREFLIGHT_IMPORT_NAMES=\n", "") + "PREFLIGHT_IMPORTS=pf_quiet\n"
                      "PREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_LINT=off\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PREFLIGHT_"))}
    out = subprocess.run([str(venv / "bin" / "python"), "-m", "preflight", "probe", "--config", str(config), "--json"],
                         env={**env, **CREDS, "HOME": str(tmp_path),
                              "PYTHONPATH": f"{tmp_path / 'proj'}:{Path(__file__).resolve().parents[1]}"},
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    readonly = _check(json.loads(out.stdout), "aws.readonly")
    assert readonly["status"] == "warn", readonly
    assert "ran without the guard" in readonly["message"] and readonly["details"]["guarded_children"] == 0, readonly


def test_a_guard_taken_out_during_the_run_is_found_at_the_end(tmp_path: Path, run_cli):
    """Each guarded process checks at its end that the guard is still installed."""
    source = "import sys\nsys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != '_PatchOnImport']\n"
    out, artifact = _probe(tmp_path, run_cli, "pf_unhook", source, {**CREDS, "HOME": str(tmp_path)})
    readonly = _check(artifact, "aws.readonly")
    assert readonly["status"] == "warn" and "the guard was removed in 1 process" in readonly["message"], readonly
    assert "import hook was taken out" in readonly["message"]
