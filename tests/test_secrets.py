"""SECRETS: a moto SSM SecureString and a Secrets Manager secret resolved into the 0600 step
environment; the value is never in argv, the output, logs or the artifact."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.config import ConfigError, load
from tests.conftest import ROOT, copy_repo, spot_argv

SECRET = "5ec7e70123456789abcdef0123456789abcdef01"  # 40 characters, the shape of a W&B key
TOKEN = "hf_secret_token_value_for_tests_only"


@pytest.mark.parametrize("spec, needle", [
    ("WANDB_API_KEY", "is not NAME=ssm:"), ("X=vault:/a", "is not NAME=ssm:"), ("1X=ssm:/a", "is not NAME=ssm:"),
    ("X=ssm:/a,X=ssm:/b", "a name is given twice: X"),
])
def test_bad_secrets_spec_is_refused_at_load(spec: str, needle: str):
    with pytest.raises(ConfigError, match="SECRETS"):
        load(None, {"SECRETS": spec})
    with pytest.raises(ConfigError) as err:
        load(None, {"SECRETS": spec})
    assert needle in str(err.value)


def _stores(aws_env: dict[str, str]) -> str:
    import boto3

    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/team/wandb", Value=SECRET, Type="SecureString",
                                                               Overwrite=True)
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    try:
        arn = sm.create_secret(Name="hf-token", SecretString=TOKEN)["ARN"]
    except sm.exceptions.ResourceExistsException:
        arn = sm.describe_secret(SecretId="hf-token")["ARN"]
    return f"WANDB_API_KEY=ssm:/team/wandb,HF_TOKEN=secretsmanager:{arn}"


def test_resolved_into_a_0600_file_and_only_names_printed(tmp_path: Path, aws_env: dict[str, str]):
    spec = _stores(aws_env)
    out = tmp_path / "step-env"
    done = subprocess.run([sys.executable, "-m", "preflight.secrets", "--spec", spec, "--region", "us-east-1",
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "WANDB_API_KEY, HF_TOKEN resolved" in done.stdout and SECRET not in done.stdout + done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().split(b"\0")[:2] == [f"WANDB_API_KEY={SECRET}".encode(), f"HF_TOKEN={TOKEN}".encode()]
    missing = subprocess.run([sys.executable, "-m", "preflight.secrets", "--spec", "X=ssm:/no/such", "--region",
                              "us-east-1", "--out", str(tmp_path / "x")], capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert missing.returncode == 1 and "X from ssm:/no/such: ParameterNotFound" in missing.stderr


def _secrets_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "preflight.secrets", "--region", "us-east-1", *args],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_a_passed_name_file_is_read_into_name_and_nothing_else_is(tmp_path: Path):
    """WANDB_API_KEY_FILE honoured as container images do; config keys that end in _FILE are not secrets."""
    key = tmp_path / "wandb-key"
    key.write_text(SECRET + "\n")
    pins = tmp_path / "requirements.txt"
    pins.write_text("torch==2.4.0\nnumpy==2.0.0\n")  # multi-line: read as a secret, it would fail the run
    out = tmp_path / "step-env"
    out.write_bytes(f"PREFLIGHT_PINS_FILE={pins}\0HF_TOKEN={TOKEN}\0HF_TOKEN_FILE={tmp_path / 'absent'}\0".encode())
    aws = tmp_path / "credentials"  # a pointer that is no secret: boto3 reads the file, multi-line
    aws.write_text("[default]\naws_access_key_id = x\n")
    done = _secrets_cli(tmp_path, "--pass-env", "WANDB_API_KEY_FILE,HF_TOKEN,HF_TOKEN_FILE,AWS_SHARED_CREDENTIALS_FILE",
                        "--out", str(out), env={"WANDB_API_KEY_FILE": str(key), "AWS_SHARED_CREDENTIALS_FILE": str(aws),
                                                "WANDB_API_KEY": "set-in-the-shell-but-not-passed"})
    assert done.returncode == 0, done.stderr
    records = out.read_bytes().split(b"\0")
    assert f"WANDB_API_KEY={SECRET}".encode() in records and SECRET not in done.stdout + done.stderr
    assert not any(r.startswith((b"PREFLIGHT_PINS=", b"AWS_SHARED_CREDENTIALS=")) for r in records)
    assert [r for r in records if r.startswith(b"HF_TOKEN=")] == [f"HF_TOKEN={TOKEN}".encode()]  # set wins
    missing = _secrets_cli(tmp_path, "--pass-env", "X_FILE", "--required", "X", "--out", str(tmp_path / "x"),
                           env={"X_FILE": str(tmp_path / "absent")})
    assert missing.returncode == 1 and "PASS_ENV X_FILE: X from file:" in missing.stderr


def test_local_transport_run_sees_the_secrets_and_writes_them_nowhere(tmp_path: Path, aws_env: dict[str, str]):
    spec = _stores(aws_env)
    repo = copy_repo(tmp_path / "repo")
    store = repo / ".preflight" / "demo-store"
    subprocess.run([sys.executable, "-m", "preflight", "demo-seed", "--uri", f"lmdb://{store}"], cwd=repo, check=True,
                   env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True)
    extra = tmp_path / "extra-token"  # a third credential given the container way: PASS_ENV EXTRA_TOKEN_FILE
    extra.write_text("extra-token-value-for-tests-only\n")
    env = {**os.environ, "SECRETS": spec, "PREFLIGHT_REQUIRED_ENV": "WANDB_API_KEY,HF_TOKEN,EXTRA_TOKEN",
           "WANDB_CHECK": "required", "PREFLIGHT_IMAGE_DIR": str(ROOT / ".preflight" / "test-image"),
           "PREFLIGHT_PYTHON": sys.executable, "NO_COLOR": "1", "EXTRA_TOKEN_FILE": str(extra),
           "PASS_ENV": "AWS_ENDPOINT_URL,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,EXTRA_TOKEN_FILE"}
    env.pop("PREFLIGHT_MODE", None)
    temp = tmp_path / "tmp"  # the launcher's temporary files, the lint seed among them (issue 25 item 5)
    temp.mkdir()
    env["TMPDIR"] = str(temp)
    run = subprocess.run(spot_argv(repo, "--preflight-only", "--run-id", "secrets"),
                         capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert list(temp.iterdir()) == [], "the run left temporary files behind"
    results = repo / "artifacts" / "preflight" / "predictor" / "secrets"
    artifact = json.loads((results / "preflight-readiness.json").read_text())
    checks = {c["id"]: c for c in artifact["checks"]}
    assert checks["env"]["status"] == "pass" and checks["wandb"]["status"] == "pass", checks["wandb"]
    # The launcher parsed the project while the host bootstrapped: the cold host parses none of it again.
    assert checks["entrypoint"]["details"]["files_parsed"] == 0 and checks["lint"]["details"]["parsed"] == 0
    written = [p.read_bytes() for p in results.rglob("*") if p.is_file()]
    for value in (SECRET, TOKEN, "extra-token-value-for-tests-only"):
        assert value not in run.stdout + run.stderr
        assert not any(value.encode() in blob for blob in written), "a secret reached the results"
