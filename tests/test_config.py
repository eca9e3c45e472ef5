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
