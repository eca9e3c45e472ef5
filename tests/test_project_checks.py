"""Issue 12 item 5: the project's own preflight (PREFLIGHT_PROJECT_CHECKS), each its own check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKS = '''
import os

def env_ok():
    return None                      # returning normally: pass

def says_false():
    return False                     # a falsy value: fail

def lists_problems():
    return ["DATA_BUCKET is not set", "MODEL_DIR is not writable"]

def raises():
    raise RuntimeError("bucket s3://models unreachable")

class TrainingPreflight:             # the predictor's shape: a class whose instance has run()
    def run(self):
        return [] if os.environ.get("AWS_REGION") else ["AWS_REGION missing"]

class Callable_:
    def __call__(self):
        return True

def hangs():
    import time
    time.sleep(60)
'''


@pytest.fixture
def probe(tmp_path: Path, run_cli):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "proj_checks.py").write_text(CHECKS)

    def run(targets: str, **env: str) -> dict:
        config = tmp_path / "w.env"
        config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\n"
                          f"ARCTICDB_URI=\nPREFLIGHT_PROJECT_CHECKS={targets}\nCHECK_TIMEOUTS=project:hangs:2\n")
        out = run_cli("probe", "--config", str(config), "--json",
                      env={"PYTHONPATH": f"{tmp_path / 'proj'}:{ROOT}", **env})
        return {c["id"]: c for c in json.loads(out.stdout)["checks"]}

    return run


def test_each_callable_is_its_own_check_with_the_contract(probe):
    checks = probe("proj_checks:env_ok,proj_checks:says_false,proj_checks:lists_problems,proj_checks:raises,"
                   "proj_checks:TrainingPreflight,proj_checks:Callable_", AWS_REGION="eu-west-1")
    assert checks["project:env_ok"]["status"] == "pass"
    falsy = checks["project:says_false"]
    assert falsy["status"] == "fail" and "returned False" in falsy["message"]
    listed = checks["project:lists_problems"]
    assert listed["status"] == "fail" and "DATA_BUCKET is not set" in listed["message"]
    assert "MODEL_DIR is not writable" in listed["message"]
    raised = checks["project:raises"]
    assert raised["status"] == "fail" and "RuntimeError: bucket s3://models unreachable" in raised["message"]
    assert checks["project:TrainingPreflight"]["status"] == "pass"
    assert checks["project:Callable_"]["status"] == "pass"
    assert all(c["category"] == "project" for i, c in checks.items() if i.startswith("project:"))
    # User code ran: the read-only verdict says what it covered (here: no credentials to write with).
    readonly = checks["aws.readonly"]
    assert readonly["status"] in ("warn", "pass") and "botocore guard" in readonly["message"]


def test_class_contract_fails_listing_its_problems(probe):
    checks = probe("proj_checks:TrainingPreflight")  # no AWS_REGION in the child's environment
    assert checks["project:TrainingPreflight"]["status"] == "fail"
    assert "AWS_REGION missing" in checks["project:TrainingPreflight"]["message"]


def test_a_hanging_project_check_is_killed_at_its_deadline(probe):
    checks = probe("proj_checks:hangs")
    assert checks["project:hangs"]["status"] == "fail" and "did not finish" in checks["project:hangs"]["message"]


def test_bad_targets_are_config_errors(tmp_path: Path, run_cli):
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_PROJECT_CHECKS=no_colon_here\n")
    out = run_cli("probe", "--config", str(config))
    assert out.returncode == 2 and "PREFLIGHT_PROJECT_CHECKS" in out.stderr and "module:callable" in out.stderr


LOUD = '''
import os, sys

def loud():
    block = b"x" * (1 << 20)
    for _ in range(256):             # 256 MiB of logging, one MiB at a time
        os.write(1, block)
    print("\\nLAST-LINE-OF-LOUD", flush=True)
'''
MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
"""


def test_a_check_that_prints_256_mib_costs_the_probe_only_its_tail(tmp_path: Path):
    """Issue 23 class 6: the probe read a check's whole output to keep its last 4,000 characters (1 GB
    printed, 2 GB of memory). It keeps only a bounded tail while reading, and writes none of it to disk."""
    import subprocess
    import sys

    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "loud_checks.py").write_text(LOUD)
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\n"
                      "ARCTICDB_URI=\nPREFLIGHT_LINT=off\nPREFLIGHT_PROJECT_CHECKS=loud_checks:loud\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{tmp_path / 'proj'}:{ROOT}", "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "preflight", "probe", "--config",
                          str(config), "--json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    peak_kib = int(out.stderr.strip().splitlines()[-1])
    check = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "project:loud")
    assert check["status"] == "pass", check
    assert "LAST-LINE-OF-LOUD" in out.stderr and len(out.stderr) < 64 * 1024
    assert peak_kib < 160 * 1024, f"the probe's peak RSS was {peak_kib // 1024} MiB for 256 MiB of output"


DAEMON = '''
import os, subprocess, sys, time

def daemon():
    """Double-forks a setsid daemon (`setsid -f`), waits until it is up, and returns: a pass."""
    marker, tag = os.environ["PF_TEST_MARKER"], os.environ["PF_TEST_TAG"]
    scrub = ["env", "-i"] if os.environ.get("PF_TEST_SCRUB") else []
    subprocess.run(["setsid", "-f", *scrub, "bash", "-c", 'echo up > "$1"; exec -a "$2" sleep 3600', "_", marker, tag],
                   check=True)
    for _ in range(6000):
        if os.path.exists(marker):
            return None
        time.sleep(0.01)
    return ["the daemon never came up"]
'''


def _running(tag: str) -> list[int]:
    """Processes whose argv holds `tag` (never a machine-wide pgrep: only this test's unique tag)."""
    found = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if tag.encode() in handle.read():
                    found.append(int(name))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.parametrize("scrub", [False, True], ids=["inherits-env", "scrubbed-env"])
def test_a_daemon_a_check_starts_is_gone_when_the_probe_returns(tmp_path: Path, run_cli, scrub: bool):
    """Issue 23 class 3: a daemon forked with setsid from a project check outlived the probe. The probe is the
    subreaper of what its checks start: what a check leaves running is killed when it ends (or, if it
    dropped the environment that marks it, when the probe ends), and the output says so."""
    tag = f"pf-daemon-{uuid.uuid4().hex}"
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "daemon_checks.py").write_text(DAEMON)
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\n"
                      "ARCTICDB_URI=\nPREFLIGHT_LINT=off\nPREFLIGHT_PROJECT_CHECKS=daemon_checks:daemon\n")
    env = {"PYTHONPATH": f"{tmp_path / 'proj'}:{ROOT}", "PF_TEST_MARKER": str(tmp_path / "up"), "PF_TEST_TAG": tag,
           **({"PF_TEST_SCRUB": "1"} if scrub else {})}
    try:
        out = run_cli("probe", "--config", str(config), "--json", env=env)
        check = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "project:daemon")
        assert check["status"] == "pass" and (tmp_path / "up").exists(), check
        assert _running(tag) == [], "the daemon outlived the probe"
        assert "killed 1 process" in out.stderr and tag in out.stderr, out.stderr[-1500:]
    finally:
        for pid in _running(tag):
            os.kill(pid, signal.SIGKILL)


SHADOW = "raise SystemExit('the tool imported the project\\'s {name}.py in place of its own')\n"
PROJECT_PREFLIGHT = """import subprocess
import sys


class Checks:
    def run(self):
        # a process the check starts finds the project's preflight.py too, as one training starts would
        subprocess.run([sys.executable, "-c", "from preflight import Checks"], check=True)
        return ["the project says no"]
"""


@pytest.mark.parametrize("entry", ["train.py", "-m trainer"])
def test_a_project_with_its_own_preflight_logging_secrets_and_signal_modules(tmp_path: Path, entry: str):
    """A training repository's own preflight.py (where many keep their checks), logging.py, secrets.py and
    signal.py (a quant's trading signals), in the directory the probe runs in and on PYTHONPATH
    (PROJECT_PYTHONPATH=.), started as probe.sh starts it. The tool's processes take their own modules and
    the standard library's; the project's code gets the project's modules, as training does. `python -m`
    put the working directory first: the probe ran the project's preflight.py, and `import preflight` in a
    check found the tool; PYTHONPATH put the project ahead of the standard library in the tool."""
    proj = tmp_path / "proj"
    (proj / "trainer").mkdir(parents=True)
    (proj / "preflight.py").write_text(PROJECT_PREFLIGHT)
    (proj / "logging.py").write_text(SHADOW.format(name="logging"))
    (proj / "secrets.py").write_text("API_KEY = 'from the project'\n")  # no token_hex: the tool would crash
    (proj / "signal.py").write_text("BUY = 1\n")  # no SIGKILL either
    body = "from preflight import Checks\nfrom secrets import API_KEY\nfrom signal import BUY\nprint(Checks)\n"
    (proj / "train.py").write_text(body)  # no main guard
    (proj / "trainer" / "__init__.py").write_text("")
    (proj / "trainer" / "__main__.py").write_text(body)
    config = tmp_path / "w.env"
    config.write_text(f'PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=preflight:Checks,secrets:API_KEY,signal:BUY\n'
                      f'PREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\nARCTICDB_URI=\nTRAIN_CMD="python {entry}"\n'
                      f'PREFLIGHT_PROJECT_CHECKS=preflight:Checks\nPREFLIGHT_LINT=off\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ARCTICDB_", "PREFLIGHT_", "PYTHON"))}
    done = subprocess.run([sys.executable, str(ROOT / "preflight" / "pyrun" / "run_module.py"), "preflight", "probe",
                           "--config", str(config), "--json"], cwd=proj, capture_output=True, text=True,
                          timeout=120, env={**env, "PYTHONPATH": str(proj)})
    assert done.returncode == 1, done.stderr[-3000:]
    checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["project:Checks"]["status"] == "fail", checks["project:Checks"]
    assert checks["project:Checks"]["message"] == "the project says no"
    assert checks["imports"]["status"] == "pass", checks["imports"]
    assert checks["entrypoint"]["status"] == "pass", checks["entrypoint"]
    assert "imported the project" not in done.stderr


def test_the_project_does_not_import_the_tool(tmp_path: Path, run_cli, venv39: Path):
    """Without a preflight module of its own, `import preflight` fails in training: so it does in the check
    (on a project venv that does not hold the tool, as on the host: the dev venv installs it)."""
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_IMPORTS=preflight\nPREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\nARCTICDB_URI=\n"
                      "PREFLIGHT_LINT=off\n")
    out = run_cli("probe", "--config", str(config), "--json", env={"PREFLIGHT_PROJECT_PYTHON": str(venv39)})
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["imports"]["status"] == "fail" and "preflight: module not found" in checks["imports"]["message"]
