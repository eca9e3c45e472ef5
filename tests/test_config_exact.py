"""config.py's refusals word for word and at their edges (mutation testing found the looser tests in
test_config.py passing with a rule's boundary moved, or its message emptied: a message is what a user
reads to fix the config, so it is part of the contract)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from preflight.config import (
    MAX_FILE_BYTES,
    MAX_VALUE_BYTES,
    Config,
    ConfigError,
    load,
    parse_text,
    read_file,
    sha256_json,
    validate_for_run,
)

SSM = {"REPO_DIR": ".", "TRANSPORT": "ssm", "EC2_AMI_ID": "ami-1", "EC2_INSTANCE_TYPES": "t3.micro",
       "EC2_SUBNET_IDS": "subnet-1",
       "EC2_INSTANCE_PROFILE": "p"}


def refused(overrides: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(None, {}, overrides)
    return str(caught.value)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("PROJECT_NAME", ".hidden", "'.hidden': use 1-64 of A-Z a-z 0-9 . _ -, not starting with - or . (it names a "
                                "directory)"),
    ("PREFLIGHT_PROJECT_CHECKS", "ok.mod:fn, bad-mod:fn, worse",
     "'ok.mod:fn, bad-mod:fn, worse': 'bad-mod:fn' is not module:callable (e.g. training.preflight:TrainingPreflight)"),
    ("PREFLIGHT_MAX_AGE", "0", "'0': must be > 0"),
    ("WANDB_VERIFY_ONLINE", "maybe", "'maybe': expected true or false"),
    ("SKYPILOT_CHECK", "on", "'on': expected off, optional or required"),
    ("DEPS_INSTALLER", "conda", "'conda': expected one of auto, uv, pip"),
    ("TRANSPORT", "ssh", "'ssh': expected one of local, ssm"),
    ("MIN_FREE_DISK_GB", "-1", "'-1': expected a finite, non-negative decimal such as 20 or 0.5"),
    ("RUN_BUDGET_SECONDS", "+5", "'+5': expected a whole number of digits only (no sign, spaces or underscores)"),
    ("CHECK_TIMEOUT_SECONDS", "0", "'0': must be > 0"),
    ("CHECK_TIMEOUTS", "runtime", "'runtime': 'runtime' is not <check id>:<seconds>"),
    ("CHECK_TIMEOUTS", "runtime:0", "'runtime:0': must be > 0"),
    ("CHECK_TIMEOUTS", "5", "'5': '5' is not <check id>:<seconds>"),
    ("CHECK_TIMEOUTS", "runtime:0.5,projectx:3",
     "'runtime:0.5,projectx:3': unknown check id 'projectx' (ids: runtime, "),
])
def test_each_kind_refuses_with_its_own_message(key: str, value: str, message: str):
    assert refused({key: value}).startswith(f"command-line flag ({key}): {key}={message}")


@pytest.mark.parametrize(("key", "value"), [
    ("PREFLIGHT_MAX_AGE", "1s"), ("PREFLIGHT_MAX_AGE", "0.5"),
    *[("WANDB_VERIFY_ONLINE", v) for v in ("1", "0", "true", "FALSE", "Yes", "no", "on", "OFF")],
    *[("SKYPILOT_CHECK", v) for v in ("off", "optional", "required")],
    *[("DEPS_INSTALLER", v) for v in ("auto", "uv", "pip")],
    ("PREFLIGHT_PROJECT_CHECKS", "a.b:c, d:e"), ("PREFLIGHT_PROJECT_CHECKS", ""),
    ("CHECK_TIMEOUTS", "runtime:0.5, project:check:3"), ("CHECK_TIMEOUT_SECONDS", "0.01"),
    ("PROJECT_NAME", "a" * 64), ("PROJECT_NAME", "x.y-z_"),
])
def test_each_kind_accepts_what_it_documents(key: str, value: str):
    assert load(None, {}, {key: value}).text(key) == value


def test_a_long_value_is_shown_cut_at_80_characters():
    assert refused({"WANDB_VERIFY_ONLINE": "x" * 200}) == \
        f"command-line flag (WANDB_VERIFY_ONLINE): WANDB_VERIFY_ONLINE={'x' * 80!r}: expected true or false"


def test_flag_and_seconds():
    config = load(None, {}, {"WANDB_VERIFY_ONLINE": "On", "PREFLIGHT_MAX_AGE": "2h"})
    assert config.flag("WANDB_VERIFY_ONLINE") is True and config.seconds("PREFLIGHT_MAX_AGE") == 7200
    for value, expected in (("1", True), ("TRUE", True), ("yes", True), ("0", False), ("off", False), ("no", False)):
        assert Config({"K": value}, "t").flag("K") is expected, value


def test_sha256_json_is_canonical_json():
    value = {"b": [1, "é"], "a": None}
    canonical = '{"a":null,"b":[1,"é"]}'
    assert sha256_json(value) == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    assert sha256_json({"a": None, "b": [1, "é"]}) == sha256_json(value)


def test_region_comes_from_the_ssm_agent_when_unset():
    assert load(None, {"AWS_REGION": ""}, {}).text("AWS_REGION") == "us-east-1"
    assert load(None, {"AWS_REGION": "", "AWS_SSM_REGION_NAME": "eu-west-1"}, {}).text("AWS_REGION") == "eu-west-1"
    assert load(None, {"AWS_REGION": "ap-south-1", "AWS_SSM_REGION_NAME": "eu-west-1"}, {}).text("AWS_REGION") == \
        "ap-south-1"


def test_source_names_the_file_or_the_environment(tmp_path: Path):
    path = tmp_path / "w.env"
    path.write_text("PROJECT_NAME=x\n")
    assert load(path, {}).source == str(path) and load(None, {}).source == "environment"
    typed = tmp_path / "typed.env"
    typed.write_text("WANDB_VERIFY_ONLINE=maybe\n")
    with pytest.raises(ConfigError) as caught:
        load(typed, {})
    assert str(caught.value) == f"{typed}: WANDB_VERIFY_ONLINE='maybe': expected true or false"
    # A value set in the file is judged as file text; one from the environment names its variable.
    with pytest.raises(ConfigError, match=r"^environment variable REPO_REF: REPO_REF: shell syntax is not allowed "
                                          r"in config values$"):
        load(path, {"REPO_REF": "$(id)"})
    with pytest.raises(ConfigError, match=r"^override: unknown key NOPE$"):
        load(None, {}, {"NOPE": "1"})


@pytest.mark.parametrize(("raw", "value"), [
    ("'a b' # note", "a b"), ('"x#y"', "x#y"), ("plain # note", "plain"), ("a#b", "a#b"),
    ("a  # b # c", "a"), ("'q'#c", "q"), ('""', ""), ("aXb", "aXb"),
])
def test_quoting(raw: str, value: str):
    assert parse_text(f"REPO_REF={raw}\n", "w.env") == {"REPO_REF": value}


@pytest.mark.parametrize(("raw", "message"), [
    ("'open", "w.env:1: REPO_REF: unterminated ' quote"),
    ("'a' b", "w.env:1: REPO_REF: unexpected text after closing quote: 'b'"),
    ("'a''b'", "w.env:1: REPO_REF: unexpected text after closing quote: \"'b'\""),
    ("a'b", "w.env:1: REPO_REF: quote inside an unquoted value; quote the whole value"),
    ('a"b', "w.env:1: REPO_REF: quote inside an unquoted value; quote the whole value"),
    ("$(id)", "w.env:1: REPO_REF: shell syntax ($(...), ${...}, $VAR or backticks) is not allowed; workflow.env is "
              "data, write the literal value"),
])
def test_quoting_refusals(raw: str, message: str):
    with pytest.raises(ConfigError) as caught:
        parse_text(f"REPO_REF={raw}\n", "w.env")
    assert str(caught.value) == message


def test_a_bad_line_is_shown_cut_at_60_characters():
    line = "not a key value line " + "z" * 100
    with pytest.raises(ConfigError) as caught:
        parse_text(f"# c\n{line}\n", "w.env")
    assert str(caught.value) == f"w.env:2: expected KEY=VALUE, got {line[:60]!r}"
    with pytest.raises(ConfigError, match=r"^w\.env:1: unknown key A$"):
        parse_text("A=b=c\n", "w.env")  # the first '=' splits


def test_value_and_file_size_limits_are_inclusive(tmp_path: Path):
    assert parse_text(f"REPO_REF={'v' * MAX_VALUE_BYTES}\n", "w.env")["REPO_REF"] == "v" * MAX_VALUE_BYTES
    with pytest.raises(ConfigError) as caught:
        parse_text(f"REPO_REF={'v' * (MAX_VALUE_BYTES + 1)}\n", "w.env")
    assert str(caught.value) == f"w.env:1: REPO_REF: value is {MAX_VALUE_BYTES + 1} bytes, over the 8192-byte " \
                                "limit per value"
    path = tmp_path / "w.env"
    path.write_bytes(b"#" * MAX_FILE_BYTES)
    assert read_file(path) == "#" * MAX_FILE_BYTES
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ConfigError) as caught:
        read_file(path)
    assert str(caught.value) == f"{path}: file is {MAX_FILE_BYTES + 1} bytes, over the 65536-byte limit"


def test_unreadable_and_undecodable_files_say_why(tmp_path: Path):
    path = tmp_path / "w.env"
    path.write_bytes(b"# ok\n# ok\nREPO_REF=\xff\n")
    with pytest.raises(ConfigError) as caught:
        read_file(path)
    assert str(caught.value) == f"{path}:3: line 3: not UTF-8 text (is this a binary file?)"
    below_a_file = path / "w.env"  # stat fails with ENOTDIR: the reason is named, not the errno
    with pytest.raises(ConfigError) as caught:
        read_file(below_a_file)
    assert str(caught.value) == f"{below_a_file}: cannot read config: Not a directory"


BINARY = " (is this a binary file?)"


@pytest.mark.parametrize(("char", "suffix"), [("\x00", BINARY), ("\x7f", BINARY), ("\x01", ""), ("\x1b", "")])
def test_control_characters_are_named(char: str, suffix: str):
    with pytest.raises(ConfigError) as caught:
        load(None, {"REPO_REF": f"a{char}b"})
    assert str(caught.value) == f"environment variable REPO_REF: control character U+{ord(char):04X}{suffix}"


LOCAL = {"REPO_DIR": "."}  # a local run needs its project (issue 22: no demo default)


def test_step_timeouts_nest_strictly_inside_their_budgets():
    validate_for_run(load(None, {}, {**LOCAL, **{"BOOTSTRAP_TIMEOUT_SECONDS": "1", "RUN_BUDGET_SECONDS": "1800"}}))
    validate_for_run(load(None, {}, {**LOCAL, **{"BOOTSTRAP_TIMEOUT_SECONDS": "1799"}}))
    with pytest.raises(ConfigError) as caught:
        validate_for_run(load(None, {}, {**LOCAL, **{"BOOTSTRAP_TIMEOUT_SECONDS": "1800"}}))
    assert str(caught.value) == ("environment: BOOTSTRAP_TIMEOUT_SECONDS=1800 must be > 0 and below "
                                 "RUN_BUDGET_SECONDS=1800 (every deadline nests inside the one around it)")
    with pytest.raises(ConfigError, match="BOOTSTRAP_TIMEOUT_SECONDS=0 must be > 0"):
        validate_for_run(Config({**load(None, {}, LOCAL).values, "BOOTSTRAP_TIMEOUT_SECONDS": "0"}, "environment"))


def test_probe_deadline_must_be_below_the_probe_step_timeout():
    validate_for_run(load(None, {}, {**LOCAL, **{"PROBE_DEADLINE_SECONDS": "299.5", "PROBE_TIMEOUT_SECONDS": "300"}}))
    with pytest.raises(ConfigError) as caught:
        validate_for_run(load(None, {}, {**LOCAL, **{"PROBE_DEADLINE_SECONDS": "300", "PROBE_TIMEOUT_SECONDS": "300"}}))
    assert str(caught.value) == "environment: PROBE_DEADLINE_SECONDS must be below PROBE_TIMEOUT_SECONDS"


def test_ssm_names_every_missing_key_and_every_secret_name():
    with pytest.raises(ConfigError) as caught:
        validate_for_run(load(None, {}, {**LOCAL, "TRANSPORT": "ssm", "EC2_AMI_ID": "ami-1"}))
    assert str(caught.value) == ("environment: transport ssm needs EC2_INSTANCE_TYPES, EC2_SUBNET_IDS, "
                                 "EC2_INSTANCE_PROFILE")
    with pytest.raises(ConfigError) as caught:
        validate_for_run(load(None, {}, {**SSM, "PASS_ENV": "A_TOKEN,KEY_FILE,DB_PASSWORD"}))
    assert str(caught.value) == (
        "environment: PASS_ENV names A_TOKEN, DB_PASSWORD: on ssm their values would be kept in SSM command "
        "history; read them from a store on the host instead: SECRETS=A_TOKEN=ssm:/your/parameter,"
        "DB_PASSWORD=ssm:/your/parameter (or secretsmanager:ARN), with the instance role allowed to read exactly "
        "those")
    with pytest.raises(ConfigError) as caught:
        validate_for_run(load(None, {}, {**SSM, "ARCTICDB_URI": "s3://h:b?access=x"}))
    assert str(caught.value) == (
        "environment: ARCTICDB_URI carries credentials (access=/secret=/aws_session_token=), which SSM command "
        "history would keep; on ssm use aws_auth=true and grant the instance role read access to the bucket")


# Issue 27, make mutation on config.py: the kinds added since its first run, word for word and at their edges.
CHECK_ID_LIST = ("all, arcticdb.freshness, arcticdb.library, aws.readonly, campaign.R1, campaign.R2, campaign.R3, "
                 "campaign.R4, campaign.R5, campaign.R6, campaign.R7, campaign.R8, campaign.R9, campaign.repo_access, "
                 "entrypoint, env, gpu, imports, lint, paths, pins, pins.consistency, runtime, s3, skypilot, wandb, "
                 "project:<name>)")
INTERNAL = ("the launcher or the steps set themselves (PF_*, PREFLIGHT_*, LD_*, PATH, HOME, VIRTUAL_ENV, PYTHONPATH, "
            "config keys, ...); a passed value would replace theirs. Pass another name, or set a config key in "
            "workflow.env")
SYMBOLS_EXPECTED = "expected all, none, sample:N (N a whole number >= 1) or a list of symbols"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("IGNORE_PREFLIGHT_ERRORS", "runtime,bogus", f"'runtime,bogus': 'bogus' is not a check id ({CHECK_ID_LIST}"),
    ("IGNORE_PREFLIGHT_ERRORS", "ALL", f"'ALL': 'ALL' is not a check id ({CHECK_ID_LIST}"),
    ("PREFLIGHT_LINT_IGNORE", "unreadable,nope", "'unreadable,nope': 'nope' is not a lint rule (ephemeral-save, "
     "push-without-hub-id, flash-attn-missing, no-tracking, no-resume, train-timeout-short, gpu-code-gpu-check-off, "
     "syntax-error, unreadable)"),
    ("PASS_ENV", "GOOD,1BAD", "'GOOD,1BAD': '1BAD' is not an environment variable name (letters, digits and _)"),
    ("PASS_ENV", "PF_X", f"'PF_X': PF_X: internal name {INTERNAL}"),
    ("PASS_ENV", "PF_X,PATH", f"'PF_X,PATH': PF_X, PATH: internal names {INTERNAL}"),
    ("PREFLIGHT_REQUIRED_ENV", "A,B-C", "'A,B-C': 'B-C' is not an environment variable name (letters, digits and _)"),
    ("PREFLIGHT_IMPORTS", "a,b-c", "'a,b-c': 'b-c' is not a module name such as pkg.module"),
    ("MIN_PYTHON", "three", "'three': expected a version such as 3.9 or 3.10.4"),
    ("MIN_FREE_DISK_GB", "1234567890123", "'1234567890123': expected at most 12 digits before the point"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:0", f"'sample:0': {SYMBOLS_EXPECTED}"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:x", f"'sample:x': {SYMBOLS_EXPECTED}"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:1234567890123", f"'sample:1234567890123': {SYMBOLS_EXPECTED}"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "ES,,CL", "'ES,,CL': an empty symbol in the list (two commas in a row?)"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "E S", "'E S': 'E S' is not a symbol (no spaces or commas)"),
    ("PROJECT_NAME", "_x", "'_x': names starting with _ are reserved (artifacts/preflight/_all holds "
     "preflight_all's summaries)"),
    ("SECRETS", "NOEQ", "'NOEQ': 'NOEQ' is not NAME=ssm:/parameter, NAME=secretsmanager:ARN or NAME=file:/path"),
    ("REMOTE_WORK_DIR", "rel/dir", "'rel/dir': expected an absolute path (it is a directory on the instance)"),
    ("AWS_REGION", "Mars", "'Mars': expected an AWS region such as us-east-1"),
    ("PREFLIGHT_IMPORT_NAMES", "a.b:c,bad", "'a.b:c,bad': 'bad' is not module:name (e.g. pkg.module:function)"),
    ("EC2_INSTANCE_TYPES", "g5.xlarge,big one", "'g5.xlarge,big one': 'big one' is not an instance type such as "
     "g5.xlarge"),
    ("SPOT_MAX_PRICE", "-1", "'-1': expected a finite, non-negative decimal such as 20 or 0.5"),
    ("CHECK_TIMEOUTS", "nope:3", "'nope:3': unknown check id 'nope' (ids: runtime, gpu, entrypoint, imports, pins, "
     "pins.consistency, lint, paths, env, s3, arcticdb.library, arcticdb.freshness, skypilot, wandb, campaign, "
     "project:<name>)"),
])
def test_list_kinds_refuse_with_their_own_message(key: str, value: str, message: str):
    assert refused({key: value}) == f"command-line flag ({key}): {key}={message}"


@pytest.mark.parametrize(("key", "value"), [
    ("IGNORE_PREFLIGHT_ERRORS", "all"), ("PREFLIGHT_LINT_IGNORE", "unreadable,syntax-error"),
    ("MIN_FREE_DISK_GB", "123456789012"), ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:1"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "sample:123456789012"), ("ARCTICDB_FRESHNESS_SYMBOLS", "all"),
    ("ARCTICDB_FRESHNESS_SYMBOLS", "none"), ("ARCTICDB_FRESHNESS_SYMBOLS", "ES, CL"),
    ("CHECK_TIMEOUTS", "project:x:3,runtime:0.5"), ("PASS_ENV", "WANDB_API_KEY_FILE,HF_TOKEN"),
    ("SPOT_MAX_PRICE", "0.5"), ("SECRETS", "A=ssm:/p/a"), ("AWS_REGION", "eu-west-1"),
])
def test_list_kinds_accept_their_edges(key: str, value: str):
    assert load(None, {}, {key: value}).text(key) == value


def test_a_name_in_both_pass_env_and_secrets_and_no_project_are_refused_word_for_word():
    both = load(None, {}, {"REPO_DIR": ".", "PASS_ENV": "A_TOKEN,B", "SECRETS": "A_TOKEN=ssm:/p/a,C=ssm:/c"})
    with pytest.raises(ConfigError) as caught:
        validate_for_run(both)
    assert str(caught.value) == "environment: A_TOKEN in both PASS_ENV and SECRETS: name each in one"
    with pytest.raises(ConfigError) as caught:
        validate_for_run(load(None, {}, {}))
    assert str(caught.value) == (
        "environment: no training project: REPO_DIR and REPO_URL are both empty, so there is nothing to preflight. "
        "Write a config for your training repository with `python3 -m preflight init --repo PATH` (from this "
        "checkout; it prints the command to run next), or set REPO_DIR or REPO_URL in this file or the environment. "
        "To see a READY run first: make preflight (the example project, --config examples/predictor/workflow.env)")
    validate_for_run(load(None, {}, {}), plan=True)  # a launch plan copies no project
