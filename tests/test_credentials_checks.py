"""W&B (netrc with a temporary HOME), SkyPilot/Vast, runtime."""

from pathlib import Path

from preflight.checks.runtime import check_gpu, check_runtime
from preflight.checks.skypilot import check_skypilot
from preflight.checks.wandb import check_wandb, key_format_ok
from tests.conftest import make_context

KEY40 = "a" * 40


def test_key_formats():
    assert key_format_ok(KEY40)
    assert key_format_ok("local-" + "b" * 40)
    assert key_format_ok("myorg-" + "c" * 45)
    assert key_format_ok("v1-" + "d" * 83)
    assert not key_format_ok("short")


def test_wandb_env_key(tmp_path: Path):
    ctx = make_context(tmp_path, {"WANDB_API_KEY": KEY40, "HOME": str(tmp_path)}, WANDB_CHECK="required")
    outcome = check_wandb(ctx)
    assert outcome.status == "pass" and KEY40 not in repr(outcome)


def test_wandb_netrc_for_custom_host(tmp_path: Path):
    (tmp_path / ".netrc").write_text(f"machine wandb.corp.example\n  login user\n  password {KEY40}\n")
    (tmp_path / ".netrc").chmod(0o600)
    env = {"HOME": str(tmp_path), "WANDB_BASE_URL": "https://wandb.corp.example"}
    assert check_wandb(make_context(tmp_path, env, WANDB_CHECK="required")).status == "pass"
    env.pop("WANDB_BASE_URL")  # default host api.wandb.ai has no entry
    missing = check_wandb(make_context(tmp_path, env, WANDB_CHECK="required"))
    assert missing.status == "fail" and "no entry for api.wandb.ai" in missing.message
    assert check_wandb(make_context(tmp_path, env, WANDB_CHECK="optional")).status == "warn"


def test_wandb_malformed_key_and_off(tmp_path: Path):
    env = {"HOME": str(tmp_path), "WANDB_API_KEY": "too-short"}
    outcome = check_wandb(make_context(tmp_path, env, WANDB_CHECK="required"))
    assert outcome.status == "fail" and "malformed" in outcome.message and "too-short" not in outcome.message
    assert check_wandb(make_context(tmp_path, env)).status == "skip"


def test_skypilot_modes(tmp_path: Path):
    env = {"HOME": str(tmp_path), "PATH": str(tmp_path)}
    assert check_skypilot(make_context(tmp_path, env)).status == "skip"
    optional = check_skypilot(make_context(tmp_path, env, SKYPILOT_CHECK="optional"))
    assert optional.status == "warn" and "vast_api_key is missing" in optional.message
    required = check_skypilot(make_context(tmp_path, env, SKYPILOT_CHECK="required"))
    assert required.status == "fail" and "skypilot is not installed" in required.message


def test_runtime_minimums(tmp_path: Path):
    assert check_runtime(make_context(tmp_path), 20).status == "pass"
    too_new = check_runtime(make_context(tmp_path, MIN_PYTHON="99.0", MIN_FREE_DISK_GB="1000000000"), 20)
    assert too_new.status == "fail" and "< MIN_PYTHON 99.0" in too_new.message and "MIN_FREE_DISK_GB" in too_new.message
    assert check_gpu(make_context(tmp_path), 20).status == "skip"
