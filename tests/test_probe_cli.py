"""`preflight probe`, `verify` and `demo-seed` as real subprocesses."""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.hostile import KINDS, hostile_file, run_capped

ROOT = Path(__file__).resolve().parents[1]
# These tests are about what the probe and verify say, not how fast: deadlines with room for a
# make test that runs pytest's workers, bats and the bench smoke on two cores at once.
ROOMY = "CHECK_TIMEOUT_SECONDS=60\nPROBE_DEADLINE_SECONDS=150\n"
PROJECT = ROOT / "examples" / "predictor"


@pytest.fixture
def demo(tmp_path: Path, run_cli):
    config = tmp_path / "w.env"
    config.write_text(
        f"ARCTICDB_URI=lmdb://{tmp_path}/store\nARCTICDB_LIBRARY=demo\nPREFLIGHT_PINS_FILE=\n" + ROOMY +
        "PREFLIGHT_REQUIRED_ENV=AWS_REGION\n")
    seeded = run_cli("demo-seed", "--config", str(config))
    assert seeded.returncode == 0, seeded.stderr
    return config


def test_probe_ready_then_stale_names_symbol_and_age(tmp_path: Path, run_cli, demo: Path):
    env = {"AWS_REGION": "eu-west-1", "NO_COLOR": "1"}
    ready = run_cli("probe", "--config", str(demo), "--out", str(tmp_path / "a.json"), env=env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert ready.stdout.splitlines()[-1].startswith("READY: ") and "\033[" not in ready.stdout
    assert json.loads((tmp_path / "a.json").read_text())["status"] == "READY"
    assert run_cli("demo-seed", "--config", str(demo), "--stale", "GC:4d").returncode == 0
    stale = run_cli("probe", "--config", str(demo), "--json", env=env)
    assert stale.returncode == 1
    artifact = json.loads(stale.stdout)  # --json prints only JSON
    assert artifact["status"] == "FAILED"
    assert "GC: last row" in artifact["failures"][0]["message"] and "4d 0h old" in artifact["failures"][0]["message"]


def test_probe_with_secret_in_env_never_prints_it(tmp_path: Path, run_cli, demo: Path):
    secret = "SPOT-PREFLIGHT-FAKE-SECRET-93c1"
    env = {"AWS_REGION": "eu-west-1", "WANDB_API_KEY": secret, "SERVICE_TOKEN": secret, "WANDB_CHECK": "required"}
    out = run_cli("probe", "--config", str(demo), "--out", str(tmp_path / "a.json"), "--emit-framed", env=env)
    assert secret not in out.stdout + out.stderr
    assert secret not in (tmp_path / "a.json").read_text()


def test_probe_config_error_exits_2_and_writes_nothing(tmp_path: Path, run_cli):
    bad = tmp_path / "bad.env"
    bad.write_text("ARCTICDB_MAX_STALENESS=$(touch pwned)\n")
    out = run_cli("probe", "--config", str(bad), "--out", str(tmp_path / "a.json"))
    assert out.returncode == 2 and "bad.env:1" in out.stderr
    assert not (tmp_path / "a.json").exists() and not (tmp_path / "pwned").exists()


def test_ignore_list_turns_failure_into_warning(tmp_path: Path, run_cli, demo: Path):
    out = run_cli("probe", "--config", str(demo), "--json", "--ignore-preflight-errors", "env", env={})
    artifact = json.loads(out.stdout)
    failing = [c for c in artifact["checks"] if c["status"] == "fail"]
    assert out.returncode == 0 and artifact["status"] == "READY", failing
    assert [c["status"] for c in artifact["checks"] if c["id"] == "env"] == ["warn"]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One demo config and one READY artifact of it for the whole module: the verify tests only edit
    copies of it (each probe run costs ~2 s)."""
    root = tmp_path_factory.mktemp("made")
    config = root / "w.env"
    config.write_text(
        f"ARCTICDB_URI=lmdb://{root}/store\nARCTICDB_LIBRARY=demo\nPREFLIGHT_PINS_FILE=\n"
        "PREFLIGHT_REQUIRED_ENV=AWS_REGION\n" + ROOMY)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ARCTICDB_", "PREFLIGHT_"))},
           "PYTHONPATH": str(ROOT), "AWS_REGION": "eu-west-1"}
    for args in (["demo-seed", "--config", str(config)],
                 ["probe", "--config", str(config), "--out", str(root / "a.json")]):
        done = subprocess.run([sys.executable, "-m", "preflight", *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return config, (root / "a.json").read_text()


def _artifact(tmp_path: Path, made: tuple[Path, str], **edits) -> Path:
    path = tmp_path / "a.json"
    data = json.loads(made[1])
    data.update(edits)
    path.write_text(json.dumps(data))
    return path


def test_verify_outcomes(tmp_path: Path, run_cli, made: tuple[Path, str]):
    demo = made[0]
    path = _artifact(tmp_path, made)
    ok = run_cli("verify", str(path), "--config", str(demo), "--max-age", "1h")
    assert ok.returncode == 0 and "READY" in ok.stdout
    assert run_cli("verify", str(tmp_path / "none.json")).returncode == 6
    (tmp_path / "junk.json").write_text("{not json")
    junk = run_cli("verify", str(tmp_path / "junk.json"))
    assert junk.returncode == 6 and "unreadable" in junk.stderr
    other = tmp_path / "other.env"
    other.write_text(demo.read_text() + "ARCTICDB_MAX_STALENESS=1h\n")
    mismatch = run_cli("verify", str(path), "--config", str(other))
    assert mismatch.returncode == 6 and "config hash mismatch" in mismatch.stderr
    old = (datetime.now(timezone.utc) - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stale = run_cli("verify", str(_artifact(tmp_path, made, emitted_at=old)), "--max-age", "24h")
    assert stale.returncode == 6 and "stale" in stale.stderr
    schema = run_cli("verify", str(_artifact(tmp_path, made, schema_version=99)))
    assert schema.returncode == 6 and "unknown schema_version 99" in schema.stderr


def test_verify_failed_artifact_exits_1_with_next_action(tmp_path: Path, run_cli, demo: Path):
    path = tmp_path / "f.json"
    run_cli("probe", "--config", str(demo), "--out", str(path), env={})  # AWS_REGION missing -> FAILED
    out = run_cli("verify", str(path))
    assert out.returncode == 1 and "next action: env:" in out.stderr


ALL_OFF = ("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nPREFLIGHT_REQUIRED_ENV=\n"
           "ARCTICDB_URI=\nARCTICDB_REQUIRED_SYMBOLS=\nPREFLIGHT_LINT=off\n")
HEAVY = """
import sys
import preflight.cli as cli
try:
    code = cli.main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("HEAVY", sorted(m for m in ("arcticdb", "boto3", "botocore", "pandas") if m in sys.modules), code)
"""


@pytest.mark.parametrize("args", [["probe", "--help"], ["probe", "--config", "all-off.env", "--json"]])
def test_help_and_all_off_probe_import_nothing_heavy(tmp_path: Path, args: list[str]):
    import subprocess
    import sys

    (tmp_path / "all-off.env").write_text(ALL_OFF)
    out = subprocess.run([sys.executable, "-c", HEAVY, *args], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert out.stdout.strip().splitlines()[-1] in ("HEAVY [] 0",), out.stdout[-500:] + out.stderr


# --- issue 10 item 2: READY is recounted from checks[], never taken on the artifact's word ------------

def _forged(tmp_path: Path, made: tuple[Path, str], forge) -> Path:
    path = _artifact(tmp_path, made)
    data = json.loads(path.read_text())
    forge(data)
    path.write_text(json.dumps(data))
    return path


def _fail_one(data: dict) -> None:
    data["checks"][0]["status"] = "fail"


def _fail_one_and_recount(data: dict) -> None:
    data["checks"][0]["status"] = "fail"
    data["checks_summary"]["passed"] -= 1
    data["checks_summary"]["failed"] += 1


def _swap_counts(data: dict) -> None:  # the totals still add up, but no longer count the checks
    data["checks"][0]["status"] = "fail"
    data["checks"][1]["status"] = "warn" if data["checks"][1]["status"] != "warn" else "pass"


def _failures_listed(data: dict) -> None:
    data["failures"] = [{"id": "env", "message": "AWS_REGION missing", "remediation": "export AWS_REGION"}]


def _no_checks(data: dict) -> None:
    data["checks"] = []
    data["checks_summary"] = {k: 0 for k in data["checks_summary"]}


@pytest.mark.parametrize("forge, needle", [
    (_fail_one, "checks_summary"),
    (_fail_one_and_recount, "failed check"),
    (_swap_counts, "checks_summary"),
    (_failures_listed, "failures[] lists env"),
    (_no_checks, "no checks"),
])
def test_verify_refuses_inconsistent_ready(tmp_path: Path, run_cli, made: tuple[Path, str], forge, needle: str):
    out = run_cli("verify", str(_forged(tmp_path, made, forge)), "--config", str(made[0]))
    assert out.returncode == 6, out.stdout + out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("stamp", ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S.%f123Z"])
def test_verify_parses_every_rfc3339_form(tmp_path: Path, run_cli, made: tuple[Path, str], stamp: str):
    emitted = (datetime.now(timezone.utc) - timedelta(minutes=5)).strftime(stamp)
    out = run_cli("verify", str(_artifact(tmp_path, made, emitted_at=emitted)), "--config", str(made[0]))
    assert out.returncode == 0, out.stderr
    assert "READY" in out.stdout and "5m" in out.stdout


def test_verify_future_timestamp_is_its_own_error(tmp_path: Path, run_cli, made: tuple[Path, str]):
    emitted = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = run_cli("verify", str(_artifact(tmp_path, made, emitted_at=emitted)), "--config", str(made[0]))
    assert out.returncode == 6 and "in the future" in out.stderr and "stale" not in out.stderr


def test_verify_without_config_binds_to_the_config_its_run_recorded(tmp_path: Path, run_cli, made: tuple[Path, str]):
    """Issue 22 item 5: never an unrelated workflow.env above the artifact (another project's config in a
    shared checkout); the config recorded in run.json beside it, or say the binding was not checked."""
    demo = made[0]
    path = _artifact(tmp_path, made)
    nested = tmp_path / "repo" / "artifacts" / "preflight" / "p1" / "r1" / "preflight-readiness.json"
    nested.parent.mkdir(parents=True)
    nested.write_text(path.read_text())
    (tmp_path / "repo" / "workflow.env").write_text(demo.read_text() + "ARCTICDB_MAX_STALENESS=1h\n")
    unbound = run_cli("verify", str(nested), cwd=tmp_path / "repo")
    assert unbound.returncode == 0 and "config binding not checked (no --config, and no run.json" in unbound.stdout
    (nested.parent / "run.json").write_text(json.dumps({"config": str(demo)}))
    bound = run_cli("verify", str(nested), cwd=tmp_path)
    assert bound.returncode == 0 and f"config binding checked against {demo}" in bound.stdout
    changed = tmp_path / "changed.env"
    changed.write_text(demo.read_text() + "ARCTICDB_MAX_STALENESS=1h\n")
    (nested.parent / "run.json").write_text(json.dumps({"config": str(changed)}))
    mismatch = run_cli("verify", str(nested), cwd=tmp_path)
    assert mismatch.returncode == 6 and "config hash mismatch" in mismatch.stderr and str(changed) in mismatch.stderr
    changed.unlink()
    gone = run_cli("verify", str(nested), cwd=tmp_path)
    assert gone.returncode == 0 and "is gone" in gone.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_verify_reads_only_a_bounded_regular_file(tmp_path: Path, made: tuple[Path, str], kind: str):
    """Issue 23 class 4: a FIFO hung verify, /dev/zero exhausted memory, 100,000-deep JSON was a
    RecursionError read as FAILED (exit 1). Each is an unusable artifact: exit 6 with a message."""
    path = hostile_file(kind, tmp_path / "preflight-readiness.json")
    out = run_capped("verify", str(path), "--config", str(made[0]), cwd=tmp_path)
    assert out.returncode == 6, (kind, out.returncode, out.stderr[-800:])
    assert str(path) in out.stderr and "Traceback" not in out.stderr
    assert any(word in out.stderr for word in ("not a regular file", "nested", "bytes")), out.stderr


def test_probe_out_that_cannot_be_written_is_usage_before_any_check(tmp_path: Path, run_cli):
    """Issue 23 class 6: an unwritable results path was a traceback and exit 1, read as "checks failed"."""
    (tmp_path / "file").write_text("")
    config = tmp_path / "w.env"
    config.write_text(ALL_OFF)
    out = run_cli("probe", "--config", str(config), "--out", str(tmp_path / "file" / "a.json"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "--out" in out.stderr and "not writable" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == ""  # refused before any check ran
