from pathlib import Path

import pytest

from preflight.config import ConfigError, load, parse_text, validate_for_run

ROOT = Path(__file__).resolve().parents[1]


DEMO = ROOT / "examples" / "predictor" / "workflow.env"
SSM_KEYS = {"EC2_AMI_ID": "ami-1", "EC2_INSTANCE_TYPES": "t3.micro", "EC2_SUBNET_IDS": "subnet-1",
            "EC2_INSTANCE_PROFILE": "p"}


def test_the_demo_config_parses_and_validates_with_paths_next_to_it():
    """Issue 22 deliverable 1: the demo's configuration lives with the example project (`make preflight`)."""
    config = load(DEMO, {})
    validate_for_run(config)
    assert config.text("TRANSPORT") == "local" and config.text("PROJECT_NAME") == "predictor"
    assert config.text("SMOKE_CMD") == "python -m predictor.cli smoke"
    assert config.text("REPO_DIR") == str(DEMO.parent)  # REPO_DIR=. : the folder of the file that says it
    # The store `make preflight` seeds: the checkout's .preflight/, outside the project that is copied to the host.
    store = Path(config.text("ARCTICDB_URI").removeprefix("lmdb://"))
    assert store.resolve() == ROOT / ".preflight" / "demo-store"


def test_the_root_workflow_env_is_the_neutral_reference():
    """Issue 22 deliverable 1: the root workflow.env documents every key (docs/config.md is generated from it)
    and configures nothing of the demo: every value is keys.py's default, so every check that needs a target
    is "not configured", and a run of it names no project."""
    from preflight.docs import comments
    from preflight.keys import KEYS

    text = (ROOT / "workflow.env").read_text()
    assert set(comments(text)) == set(KEYS)  # every key documented, commented-out AWS keys included
    assert load(ROOT / "workflow.env", {}).values == load(None, {}).values
    for needle in ("predictor", "demo-store", "lmdb://", "ES,CL", "examples/"):
        assert all(needle not in line for line in text.splitlines() if not line.startswith("#")), needle
    with pytest.raises(ConfigError, match="no training project") as err:
        validate_for_run(load(ROOT / "workflow.env", {}))
    assert "--config examples/predictor/workflow.env" in str(err.value) and "preflight init" in str(err.value)
    validate_for_run(load(ROOT / "workflow.env", {}, {"TRANSPORT": "ssm", **SSM_KEYS}), plan=True)  # --plan


def test_relative_paths_resolve_against_the_config_files_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Issue 22 item 4: REPO_DIR=../alpaca in ~/configs/alpaca.env is ~/alpaca, wherever the caller stands."""
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / "alpaca.env"
    path.write_text("REPO_DIR=../alpaca\nARCTICDB_URI=lmdb://stores/s1\n")
    monkeypatch.chdir("/")
    config = load(path, {})
    assert config.text("REPO_DIR") == str(tmp_path / "configs" / ".." / "alpaca")
    assert config.text("ARCTICDB_URI") == f"lmdb://{tmp_path / 'configs' / 'stores' / 's1'}"
    monkeypatch.chdir(tmp_path)
    from_env = load(path, {"REPO_DIR": "elsewhere", "ARCTICDB_URI": "s3://h:b?aws_auth=true"})
    assert from_env.text("REPO_DIR") == str(tmp_path / "elsewhere")  # a variable: the caller's directory
    assert from_env.text("ARCTICDB_URI") == "s3://h:b?aws_auth=true"


def test_neutral_defaults_check_nothing_of_the_demo():
    """Issue 22 item 1: a config that never mentions ArcticDB, env vars or imports checks none of them."""
    config = load(None, {})
    for key in ("ARCTICDB_URI", "ARCTICDB_LIBRARY", "PREFLIGHT_IMPORTS", "PREFLIGHT_IMPORT_NAMES", "REPO_DIR",
                "PREFLIGHT_REQUIRED_ENV", "TRAIN_CMD", "SMOKE_CMD", "PROJECT_PYTHONPATH"):
        assert config.text(key) == "", key
    assert config.text("PROJECT_NAME") == "default"


def test_project_names_starting_with_underscore_are_reserved():
    with pytest.raises(ConfigError, match="PROJECT_NAME='_all': names starting with _ are reserved"):
        load(None, {"PROJECT_NAME": "_all"})


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
    assert config.text("REPO_DIR") == ""  # neutral defaults: nothing of the demo unless a config says so


def test_typed_values_are_checked_naming_the_source(tmp_path: Path):
    with pytest.raises(ConfigError, match="environment variable RUN_BUDGET_SECONDS"):
        load(None, {"RUN_BUDGET_SECONDS": "soon"})
    with pytest.raises(ConfigError, match="ARCTICDB_MAX_STALENESS"):
        load(None, {}, {"ARCTICDB_MAX_STALENESS": "yesterday"})


def test_timeouts_must_nest_and_ssm_needs_its_keys():
    with pytest.raises(ConfigError, match="DEPS_TIMEOUT_SECONDS=5000 must be > 0 and below"):
        validate_for_run(load(None, {}, {"DEPS_TIMEOUT_SECONDS": "5000", "REPO_DIR": "p"}))
    with pytest.raises(ConfigError, match="no training project: REPO_DIR and REPO_URL are both empty"):
        validate_for_run(load(None, {}))
    with pytest.raises(ConfigError, match="transport local needs REPO_DIR"):
        validate_for_run(load(None, {}, {"REPO_URL": "https://example.com/r.git"}))
    with pytest.raises(ConfigError, match="transport ssm needs EC2_AMI_ID"):
        validate_for_run(load(None, {}, {"TRANSPORT": "ssm", "REPO_URL": "https://example.com/r.git"}))


@pytest.mark.parametrize("transport", ["local", "ssm"])
def test_a_run_needs_a_project_and_the_launch_plan_does_not(transport: str):
    """Without REPO_DIR or REPO_URL a run would have nothing to copy (on ssm it once shipped the checkout
    itself); --plan proves a launch and copies nothing, so it asks for neither."""
    values = {"TRANSPORT": transport, **(SSM_KEYS if transport == "ssm" else {})}
    with pytest.raises(ConfigError, match="no training project"):
        validate_for_run(load(None, {}, values))
    validate_for_run(load(None, {}, values), plan=True)
    validate_for_run(load(None, {}, {**values, "REPO_URL": "https://example.com/r.git" if transport == "ssm" else "",
                                     "REPO_DIR": "" if transport == "ssm" else "p"}))


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


SSM_READY = {"TRANSPORT": "ssm", "REPO_DIR": "p", **SSM_KEYS}


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
    validate_for_run(load(None, {}, {key: value, "REPO_DIR": "p"}))  # local keeps them in a 0600 file


def test_ssm_accepts_names_that_only_point_at_credentials():
    validate_for_run(load(None, {}, {**SSM_READY, "PASS_ENV": "AWS_ENDPOINT_URL,AWS_SHARED_CREDENTIALS_FILE",
                                     "ARCTICDB_URI": "s3://s3.amazonaws.com:bucket?aws_auth=true"}))


def test_config_reference_is_generated_and_in_sync():
    """Issue 22 item 3: docs/config.md is generated from keys.py and workflow.env's comments."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "preflight.docs", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- issue 23 class 6: every key's shape is proven at load, not inside the probe --------------------

@pytest.mark.parametrize("key, value, needle", [
    ("MIN_FREE_DISK_GB", "1" * 400, "finite"),  # float() of 400 digits is infinity
    ("PROBE_DEADLINE_SECONDS", "9" * 400 + ".5", "finite"),
    ("RUN_BUDGET_SECONDS", "1" * 400, "at most"),
    ("MIN_PYTHON", "three", "version"),
    ("MIN_PYTHON", "3.x", "version"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:x", "sample:N"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:0", "sample:N"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "ES,,NQ x", "symbol"),
    ("PREFLIGHT_REQUIRED_ENV", "AWS_REGION,NOT-A-NAME", "NOT-A-NAME"),
    ("PASS_ENV", "1BAD", "1BAD"),
    ("PREFLIGHT_IMPORTS", "pkg.mod,not a module", "not a module"),
    ("PREFLIGHT_IMPORT_NAMES", "pkg.mod", "module:name"),
    ("IGNORE_PREFLIGHT_ERRORS", "nosuch", "nosuch"),
    ("PREFLIGHT_LINT_IGNORE", "no-such-rule", "no-such-rule"),
    ("SPOT_MAX_PRICE", "cheap", "SPOT_MAX_PRICE"),
    ("REMOTE_WORK_DIR", "relative/dir", "absolute"),
    ("AWS_REGION", "us east 1", "region"),
    ("EC2_INSTANCE_TYPES", "g5.xlarge,g5 xlarge", "instance type"),
])
def test_every_key_has_a_shape_checked_at_load(key: str, value: str, needle: str):
    """MIN_PYTHON=three and ARCTICDB_FRESHNESS_SYMBOLS=sample:x were accepted and failed only inside the
    probe; a 400-digit decimal was infinity, and accepted."""
    with pytest.raises(ConfigError) as err:
        load(None, {}, {key: value})
    assert key in str(err.value) and needle in str(err.value), str(err.value)


def test_good_shapes_still_pass():
    load(None, {}, {"MIN_PYTHON": "3.10.4", "ARCTICDB_FRESHNESS_SYMBOLS": "ES, NQ", "PASS_ENV": "AWS_ENDPOINT_URL",
                    "PREFLIGHT_IMPORTS": "pkg.mod, other", "PREFLIGHT_IMPORT_NAMES": "pkg.mod:name",
                    "IGNORE_PREFLIGHT_ERRORS": "s3,aws.readonly,project:mine,campaign.R2", "SPOT_MAX_PRICE": "0.75",
                    "PREFLIGHT_LINT_IGNORE": "ephemeral-save,syntax-error", "AWS_REGION": "us-gov-west-1",
                    "EC2_INSTANCE_TYPES": "g5.xlarge,u-6tb1.metal", "REMOTE_WORK_DIR": "/opt/x"})
    for symbols in ("all", "none", "sample:3", ""):
        load(None, {}, {"ARCTICDB_FRESHNESS_SYMBOLS": symbols})


def test_check_timeouts_can_name_every_check_the_code_asks_a_deadline_for():
    """The campaign checks ask deadline_for("campaign"); CHECK_TIMEOUTS could not name it."""
    from preflight.checks import deadline_for
    from tests.conftest import make_context

    ctx = make_context(Path("."), CHECK_TIMEOUTS="campaign:45,project:mine:7")
    assert deadline_for(ctx, "campaign") == 45 and deadline_for(ctx, "project:mine") == 7
    with pytest.raises(ConfigError, match="project:"):
        load(None, {}, {"CHECK_TIMEOUTS": "project:not a name:5"})


def test_a_utf8_bom_from_a_windows_editor_is_accepted(tmp_path: Path):
    path = tmp_path / "w.env"
    path.write_bytes(b"\xef\xbb\xbfPROJECT_NAME=bom\r\nREPO_REF=main\r\n")
    assert load(path, {}).text("PROJECT_NAME") == "bom"


# --- issue 23 class 1: no name from outside shadows one the launcher or the steps set themselves --------

@pytest.mark.parametrize("name", ["PF_HOST_DIR", "PF_IMAGE_DIR", "PF_ANYTHING", "PREFLIGHT_RUN_ID", "PREFLIGHT_GUARD",
                                  "PATH", "HOME", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "LD_PRELOAD",
                                  "LD_LIBRARY_PATH", "TRAIN_CMD", "REPO_URL", "PROJECT_DIR", "TOOL_DIR", "BASH_ENV",
                                  "XDG_CACHE_HOME", "UV_CACHE_DIR", "PIP_CACHE_DIR", "LANG", "AWS_DEFAULT_REGION"])
def test_pass_env_cannot_shadow_an_internal_name(name: str):
    """PASS_ENV=PF_HOST_DIR made bootstrap `rm -rf <victim>/work/project`: refused at load, on every transport."""
    for transport in ({}, SSM_READY):
        with pytest.raises(ConfigError) as err:
            load(None, {}, {**transport, "PASS_ENV": f"AWS_ENDPOINT_URL,{name}"})
        assert "PASS_ENV" in str(err.value) and name in str(err.value) and "internal" in str(err.value)


def test_pass_env_still_forwards_the_names_it_is_for():
    config = load(None, {}, {"PASS_ENV": "AWS_ENDPOINT_URL,UV_INDEX_URL,PIP_INDEX_URL,HF_HOME,PYTHONUNBUFFERED"})
    assert config.list("PASS_ENV")[-1] == "PYTHONUNBUFFERED"


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
    validate_for_run(load(None, {}, {**budgets, "REPO_DIR": ".", "MAX_RUNTIME_SECONDS": "1"}))  # local: no watchdog
