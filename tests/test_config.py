from pathlib import Path

import pytest

from preflight.config import ConfigError, load, parse_text, validate_for_run

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_workflow_env_parses_and_validates():
    config = load(ROOT / "workflow.env", {})
    validate_for_run(config)
    assert config.text("TRANSPORT") == "local"
    assert config.text("SMOKE_CMD") == "python -m predictor.cli smoke"


def test_quotes_comments_and_blank_lines():
    values = parse_text('# c\n\nPROJECT_NAME="a b" # trailing\nREPO_REF=\'x#y\'\nPYTHON=py3  # note\n', "f")
    assert values == {"PROJECT_NAME": "a b", "REPO_REF": "x#y", "PYTHON": "py3"}


@pytest.mark.parametrize("line, needle", [
    ("PROJECT_NAME=$(touch /tmp/pwned)", "shell syntax"),
    ("PROJECT_NAME=`id`", "shell syntax"),
    ("PROJECT_NAME=${HOME}", "shell syntax"),
    ("NOT_A_KEY=1", "unknown key NOT_A_KEY"),
    ("export PROJECT_NAME=x", "expected KEY=VALUE"),
    ('PROJECT_NAME="open', "unterminated"),
])
def test_rejects_with_line_number(line: str, needle: str):
    with pytest.raises(ConfigError) as err:
        parse_text(f"# header\n{line}\n", "workflow.env")
    assert "workflow.env:2" in str(err.value) and needle in str(err.value)


def test_duplicate_key_names_both_lines():
    with pytest.raises(ConfigError, match=r"f:3: duplicate key PYTHON \(first set on line 1\)"):
        parse_text("PYTHON=a\n\nPYTHON=b\n", "f")


def test_precedence_default_file_env_flag(tmp_path: Path):
    path = tmp_path / "w.env"
    path.write_text("PYTHON=from-file\nREPO_REF=file\nPROJECT_NAME=file\n")
    config = load(path, {"REPO_REF": "env", "PROJECT_NAME": "env"}, {"PROJECT_NAME": "flag"})
    assert (config.text("PYTHON"), config.text("REPO_REF"), config.text("PROJECT_NAME")) == \
        ("from-file", "env", "flag")
    assert config.text("REPO_DIR") == "examples/predictor"


def test_typed_values_are_checked_naming_the_source(tmp_path: Path):
    with pytest.raises(ConfigError, match="environment variable RUN_BUDGET_SECONDS"):
        load(None, {"RUN_BUDGET_SECONDS": "soon"})
    with pytest.raises(ConfigError, match="ARCTICDB_MAX_STALENESS"):
        load(None, {}, {"ARCTICDB_MAX_STALENESS": "yesterday"})


def test_timeouts_must_nest_and_ssm_needs_its_keys():
    with pytest.raises(ConfigError, match="DEPS_TIMEOUT_SECONDS=5000 must be > 0 and below"):
        validate_for_run(load(None, {}, {"DEPS_TIMEOUT_SECONDS": "5000"}))
    with pytest.raises(ConfigError, match="transport ssm needs EC2_AMI_ID"):
        validate_for_run(load(None, {}, {"TRANSPORT": "ssm"}))


def test_identity_hash_tracks_probe_keys_only():
    base = load(None, {})
    assert base.identity_hash() == load(None, {}, {"DEPS_TIMEOUT_SECONDS": "60"}).identity_hash()
    assert base.identity_hash() != load(None, {}, {"ARCTICDB_MAX_STALENESS": "2d"}).identity_hash()
    assert base.identity_hash().startswith("sha256:") and len(base.identity_hash()) == 71


# --- issue 10: every value is checked in the one reader, before anything starts ---------------

@pytest.mark.parametrize("key, value, needle", [
    ("RUN_BUDGET_SECONDS", "3_00", "whole number"),
    ("RUN_BUDGET_SECONDS", "+300", "whole number"),
    ("RUN_BUDGET_SECONDS", " 300", "whole number"),
    ("MIN_FREE_DISK_GB", "nan", "finite"),
    ("MIN_FREE_DISK_GB", "inf", "finite"),
    ("PROBE_DEADLINE_SECONDS", "-5", "finite"),
    ("PROBE_DEADLINE_SECONDS", "1e400", "finite"),
    ("CHECK_TIMEOUT_SECONDS", "0", "must be > 0"),
    ("PROBE_DEADLINE_SECONDS", "0.0", "must be > 0"),
    ("RUN_BUDGET_SECONDS", "0", "must be > 0"),
    ("CHECK_TIMEOUTS", "nosuch:5", "unknown check id 'nosuch'"),
    ("CHECK_TIMEOUTS", "s3:0", "must be > 0"),
    ("CHECK_TIMEOUTS", "s3", "<check id>:<seconds>"),
    ("CHECK_TIMEOUTS", "s3:nan", "<check id>:<seconds>"),
    ("PROJECT_NAME", "a/b", "PROJECT_NAME"),
    ("PROJECT_NAME", "..", "PROJECT_NAME"),
    ("PROJECT_NAME", "-x", "PROJECT_NAME"),
    ("PROJECT_NAME", "x" * 65, "PROJECT_NAME"),
])
def test_numbers_and_names_are_strict(key: str, value: str, needle: str):
    with pytest.raises(ConfigError) as err:
        load(None, {}, {key: value})
    assert key in str(err.value) and needle in str(err.value)


def test_good_numbers_still_pass():
    config = load(None, {}, {"MIN_FREE_DISK_GB": "0.5", "CHECK_TIMEOUTS": "s3:5, arcticdb.freshness:2.5",
                             "RUN_BUDGET_SECONDS": "900", "PROJECT_NAME": "my-proj_1.2"})
    assert config.float("MIN_FREE_DISK_GB") == 0.5 and config.int("RUN_BUDGET_SECONDS") == 900


@pytest.mark.parametrize("content, needle", [
    (b"PROJECT_NAME=a\x00REPO_REF=evil\n", "line 1: control character U+0000"),
    (b"# ok\nREPO_REF=a\x1bb\n", "line 2: control character U+001B"),
    (b"REPO_REF=a\rb\n", "line 1: control character U+000D"),
    (b"REPO_REF=a\x0bb\n", "line 1: control character U+000B"),
    (b"REPO_REF=\xff\xfe\n", "line 1: not UTF-8 text"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00", "line 1: control character U+007F (is this a binary file?)"),
])
def test_control_characters_and_binary_are_named(tmp_path: Path, content: bytes, needle: str):
    path = tmp_path / "w.env"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        load(path, {})
    assert str(path) in str(err.value) and needle in str(err.value)


def test_crlf_line_endings_are_accepted(tmp_path: Path):
    path = tmp_path / "w.env"
    path.write_bytes(b"PROJECT_NAME=crlf\r\nREPO_REF=main\r\n")
    assert load(path, {}).text("PROJECT_NAME") == "crlf"


def test_value_and_file_sizes_are_bounded(tmp_path: Path):
    path = tmp_path / "w.env"
    path.write_text("SMOKE_CMD=" + "x" * 9000 + "\n")
    with pytest.raises(ConfigError, match=r"w.env:1: SMOKE_CMD: value is 9000 bytes, over the 8192"):
        load(path, {})
    with pytest.raises(ConfigError, match=r"environment variable SMOKE_CMD: value is 200000 bytes"):
        load(None, {"SMOKE_CMD": "y" * 200_000})
    path.write_text("# " + "c" * 300_000 + "\n")
    with pytest.raises(ConfigError, match=r"w.env: file is 300003 bytes, over the 65536"):
        load(path, {})


def test_environment_values_with_control_characters_are_refused():
    with pytest.raises(ConfigError, match=r"environment variable REPO_REF: control character U\+000A"):
        load(None, {"REPO_REF": "main\nTRANSPORT=ssm"})


@pytest.mark.parametrize("make, needle", [
    (lambda p: p.mkdir(), "not a regular file"),
    (lambda p: None, "not found"),
])
def test_unreadable_config_paths_say_what_they_are(tmp_path: Path, make, needle: str):
    path = tmp_path / "w.env"
    make(path)
    with pytest.raises(ConfigError, match=needle):
        load(path, {})
    with pytest.raises(ConfigError, match="not a regular file"):
        load(Path("/dev/null"), {})


SSM_READY = {"TRANSPORT": "ssm", "EC2_AMI_ID": "ami-1", "EC2_INSTANCE_TYPES": "t3.micro", "EC2_SUBNET_IDS": "subnet-1",
             "EC2_INSTANCE_PROFILE": "p"}


@pytest.mark.parametrize("key, value, needle", [
    ("ARCTICDB_URI", "s3://s3.amazonaws.com:bucket?region=us-east-1&access=AKIAX&secret=abc", "aws_auth=true"),
    ("ARCTICDB_URI", "s3s://host:bucket?aws_session_token=zzz", "aws_auth=true"),
    ("PASS_ENV", "AWS_ENDPOINT_URL,WANDB_API_KEY", "WANDB_API_KEY"),
    ("PASS_ENV", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
    ("PASS_ENV", "GITHUB_TOKEN", "GITHUB_TOKEN"),
    ("PASS_ENV", "DB_PASSWORD", "DB_PASSWORD"),
])
def test_ssm_refuses_credentials_that_ssm_command_history_would_keep(key: str, value: str, needle: str):
    """Issue 10 item 10: on ssm every step command, env included, stays in SSM's command history."""
    with pytest.raises(ConfigError) as err:
        validate_for_run(load(None, {}, {**SSM_READY, key: value}))
    assert key in str(err.value) and needle in str(err.value) and "instance role" in str(err.value)
    validate_for_run(load(None, {}, {key: value}))  # the local transport keeps them in a 0600 file


def test_ssm_accepts_names_that_only_point_at_credentials():
    validate_for_run(load(None, {}, {**SSM_READY, "PASS_ENV": "AWS_ENDPOINT_URL,AWS_SHARED_CREDENTIALS_FILE",
                                     "ARCTICDB_URI": "s3://s3.amazonaws.com:bucket?aws_auth=true"}))


@pytest.mark.parametrize(("budgets", "longest"), [
    ({}, 3600 + 180),                                                   # training's budget is the longer
    ({"RUN_BUDGET_SECONDS": "4000"}, 4000 + 180),                       # preflight's, when it is longer
    ({"TRAIN_RUN_BUDGET_SECONDS": "900", "TRAIN_TIMEOUT_SECONDS": "600", "TEARDOWN_TIMEOUT_SECONDS": "60"},
     1800 + 60),
])
def test_ssm_refuses_a_watchdog_that_would_end_a_healthy_run(budgets: dict, longest: int):
    """The instance powers itself off at MAX_RUNTIME_SECONDS: at or below the longest budget plus
    teardown, it would cut a run that keeps to its budget. Refused before anything is launched."""
    for at_most in (longest, longest - 1):
        with pytest.raises(ConfigError, match=f"MAX_RUNTIME_SECONDS={at_most} must exceed the longest run "
                                              rf"budget plus TEARDOWN_TIMEOUT_SECONDS \({longest}\)"):
            validate_for_run(load(None, {}, {**SSM_READY, **budgets, "MAX_RUNTIME_SECONDS": str(at_most)}))
    validate_for_run(load(None, {}, {**SSM_READY, **budgets, "MAX_RUNTIME_SECONDS": str(longest + 1)}))
    validate_for_run(load(None, {}, {**budgets, "MAX_RUNTIME_SECONDS": "1"}))  # local: no instance, no watchdog
