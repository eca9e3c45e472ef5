"""Strict reader for workflow.env: KEY=VALUE data that is parsed, never executed.

Standard library only, so the bash orchestrator can call it with a bare python3 before any
virtualenv exists. Precedence: defaults < file < environment (same name) < explicit overrides.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from preflight.durations import parse_duration
from preflight.keys import BUDGET_KEY_OF_STEP, KEYS, PATH_KEYS, PROJECT_KEYS, REQUIRED_BY_TRANSPORT

_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# `$(`, `${`, `$NAME` and backticks look like shell; rejecting them keeps the file plain data.
_SHELLISH = re.compile(r"\$[({A-Za-z_]|`")
# Control characters (tab aside) can desynchronise the hand-off to bash or hide text from a reviewer.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_WHOLE = re.compile(r"^[0-9]+$")
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
# The same rule as run ids: one path component that cannot climb out or read as a flag.
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")
_TARGET = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$")
# Names that hold a credential themselves (a name that points at one, *_FILE, *_PATH, *_DIR, *_URL, does not).
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|ACCESS_KEY|PRIVATE_KEY")
_POINTER_NAME = re.compile(r"_(FILE|PATH|DIR|URL)$")
_URI_CREDENTIAL = re.compile(r"[?&](access|secret|aws_session_token)=", re.IGNORECASE)
MAX_VALUE_BYTES = 8 * 1024
MAX_FILE_BYTES = 64 * 1024


class ConfigError(Exception):
    """A config problem that names the file, line and key; the CLI maps it to exit 2."""


@dataclass(frozen=True)
class Config:
    values: dict[str, str]
    source: str

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def text(self, key: str) -> str:
        return self.values[key]

    def list(self, key: str) -> list[str]:
        return [item.strip() for item in self.values[key].split(",") if item.strip()]

    def int(self, key: str) -> int:
        return int(self.values[key])

    def float(self, key: str) -> float:
        return float(self.values[key])

    def flag(self, key: str) -> bool:
        return self.values[key].lower() in ("1", "true", "yes", "on")

    def seconds(self, key: str) -> float:
        return parse_duration(self.values[key])

    def probe_identity(self) -> dict[str, str]:
        """The keys that decide what the probe checks; their hash identifies a readiness artifact."""
        return {key: self.values[key] for key, spec in KEYS.items() if spec.probe}

    def identity_hash(self) -> str:
        return sha256_json(self.probe_identity())


def sha256_json(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _unquote(raw: str, where: str) -> str:
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        if end < 0:
            raise ConfigError(f"{where}: unterminated {quote} quote")
        rest = raw[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise ConfigError(f"{where}: unexpected text after closing quote: {rest!r}")
        return raw[1:end]
    value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
    if any(ch in value for ch in "'\""):
        raise ConfigError(f"{where}: quote inside an unquoted value; quote the whole value")
    return value


def _plain(value: str, where: str) -> None:
    """One value is bounded, and free of control characters; `where` names its origin."""
    bad = _CONTROL.search(value)
    if bad:
        raise ConfigError(f"{where}: control character U+{ord(bad.group()):04X}"
                          f"{' (is this a binary file?)' if bad.group() in chr(0) + chr(0x7f) else ''}")
    size = len(value.encode())
    if size > MAX_VALUE_BYTES:
        raise ConfigError(f"{where}: value is {size} bytes, over the {MAX_VALUE_BYTES}-byte limit per value")


def parse_text(text: str, source: str) -> dict[str, str]:
    """KEY -> VALUE for one file's text. Unknown, duplicate and shell-like entries are errors."""
    seen: dict[str, int] = {}
    values: dict[str, str] = {}
    # split("\n"), not splitlines(): the latter also breaks at \x0b, \x1c or U+2028, which the line
    # numbers a user sees in an editor would not match.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line[:-1] if line.endswith("\r") else line
        where = f"{source}:{number}"
        bad = _CONTROL.search(line)
        if bad:
            _plain(line, f"{where}: line {number}")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, raw = stripped.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise ConfigError(f"{where}: expected KEY=VALUE, got {stripped[:60]!r}")
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown key {key}")
        if key in seen:
            raise ConfigError(f"{where}: duplicate key {key} (first set on line {seen[key]})")
        value = _unquote(raw, f"{where}: {key}")
        _plain(value, f"{where}: {key}")
        if _SHELLISH.search(value):
            raise ConfigError(f"{where}: {key}: shell syntax ($(...), ${{...}}, $VAR or backticks) "
                              "is not allowed; workflow.env is data, write the literal value")
        seen[key] = number
        values[key] = value
    return values


# Project check ids are `project:<callable name>`; the campaign checks share one deadline, "campaign".
_PROJECT_ID = re.compile(r"^project:[A-Za-z_][A-Za-z0-9_]*$")
_DEADLINE_IDS = ("campaign",)


def _timeouts(value: str) -> None:
    from preflight.checks import CHECK_IDS

    for item in (part.strip() for part in value.split(",") if part.strip()):
        name, sep, seconds = item.rpartition(":")  # project check ids hold a colon themselves
        name = name.strip()
        if not sep or not _DECIMAL.match(seconds.strip()):
            raise ValueError(f"{item!r} is not <check id>:<seconds>")
        if name.startswith("project:"):
            if not _PROJECT_ID.match(name):
                raise ValueError(f"{name!r} is not project:<callable name>")
        elif name not in CHECK_IDS + _DEADLINE_IDS:
            raise ValueError(f"unknown check id {name!r} (ids: {', '.join(CHECK_IDS + _DEADLINE_IDS)}, "
                             "project:<name>)")
        _number("float+", seconds.strip())


# Twelve digits: a thousand years of seconds; more is a typo, and 400 digits of float() is infinity.
MAX_DIGITS = 12


def _number(kind: str, value: str) -> None:
    if kind.startswith("int") and not _WHOLE.match(value):
        raise ValueError("expected a whole number of digits only (no sign, spaces or underscores)")
    if kind.startswith("float") and not (_DECIMAL.match(value) and math.isfinite(float(value))):
        raise ValueError("expected a finite, non-negative decimal such as 20 or 0.5")
    if len(value.partition(".")[0].lstrip("0")) > MAX_DIGITS:
        raise ValueError(f"expected at most {MAX_DIGITS} digits before the point")
    if kind.endswith("+") and float(value) <= 0:
        raise ValueError("must be > 0")


_VERSION = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,4}){0,2}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SYMBOL = re.compile(r"^[^\s,]{1,255}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_INSTANCE_TYPE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+$")


def _items(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _each(value: str, ok, what: str) -> None:  # type: ignore[no-untyped-def]
    bad = [item for item in _items(value) if not ok(item)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not {what}")


# Names the launcher, the transports and the steps set or read themselves (infra_scripts/lib/*.sh,
# infra_scripts/remote/*.sh, preflight/aws/ssm_command.py): a PASS_ENV value of the same name would replace
# theirs — PASS_ENV=PF_HOST_DIR once pointed bootstrap's `rm -rf "$PF_HOST_DIR/work/project"` elsewhere.
# Every config key is one too (it travels in the step environment under its own name).
INTERNAL_PREFIXES = ("PF_", "PREFLIGHT_", "LD_", "BASH_FUNC_")
INTERNAL_NAMES = frozenset({
    "PATH", "HOME", "LANG", "PWD", "OLDPWD", "SHLVL", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "CDPATH",
    "GLOBIGNORE", "PS4", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE",
    "PYTHONNOUSERSITE", "PYTHONSAFEPATH", "PYTHONPLATLIBDIR", "PYTHONEXECUTABLE", "PROJECT_DIR", "TOOL_DIR",
    "XDG_CACHE_HOME", "PIP_CACHE_DIR", "UV_CACHE_DIR", "UV_SYSTEM_CERTS", "UV_NATIVE_TLS", "UV_PYTHON_DOWNLOADS",
    "AWS_DEFAULT_REGION", "SFN_TASK_TOKEN",
})


def internal(name: str) -> bool:
    return name in INTERNAL_NAMES or name in KEYS or name.startswith(INTERNAL_PREFIXES)


def _pass_env(value: str) -> None:
    _each(value, _ENV_NAME.match, "an environment variable name (letters, digits and _)")
    shadowing = [name for name in _items(value) if internal(name)]
    if shadowing:
        raise ValueError(f"{', '.join(shadowing)}: internal name{'s' if len(shadowing) > 1 else ''} the launcher "
                         "or the steps set themselves (PF_*, PREFLIGHT_*, LD_*, PATH, HOME, VIRTUAL_ENV, PYTHONPATH, "
                         "config keys, ...); a passed value would replace theirs. Pass another name, or set a config "
                         "key in workflow.env")


def _symbols(value: str) -> None:
    """ARCTICDB_FRESHNESS_SYMBOLS: all · none · sample:N (N >= 1) · a list of symbols."""
    text = value.strip()
    if text in ("", "all", "none"):
        return
    if text.startswith("sample"):
        count = text[len("sample:"):] if text.startswith("sample:") else ""
        if not _WHOLE.match(count) or int(count) < 1 or len(count) > MAX_DIGITS:
            raise ValueError("expected all, none, sample:N (N a whole number >= 1) or a list of symbols")
        return
    if any(not item.strip() for item in text.split(",")):
        raise ValueError("an empty symbol in the list (two commas in a row?)")
    _each(text, _SYMBOL.match, "a symbol (no spaces or commas)")


def _check_ids(value: str) -> None:
    from preflight.checks import CHECK_IDS
    from preflight.checks.campaign import IDS

    known = set(CHECK_IDS) | {"all", "aws.readonly"} | {f"campaign.{i}" for i in IDS}
    _each(value, lambda item: item in known or bool(_PROJECT_ID.match(item)),
          f"a check id ({', '.join(sorted(known))}, project:<name>)")


def _lint_rules(value: str) -> None:
    from preflight.lint.rules import RULES

    known = (*RULES, "syntax-error", "unreadable")
    _each(value, lambda item: item in known, f"a lint rule ({', '.join(known)})")


def _shape(kind: str, key: str, value: str) -> None:
    """The shape of the kinds that are neither numbers nor choices; ValueError says what is expected."""
    if kind == "version" and not _VERSION.match(value):
        raise ValueError("expected a version such as 3.9 or 3.10.4")
    if kind == "symbols":
        _symbols(value)
    elif kind == "envnames" and key == "PASS_ENV":
        _pass_env(value)
    elif kind == "envnames":
        _each(value, _ENV_NAME.match, "an environment variable name (letters, digits and _)")
    elif kind == "modules":
        _each(value, _MODULE.match, "a module name such as pkg.module")
    elif kind == "names":
        _each(value, lambda item: item.count(":") == 1 and all(_MODULE.match(part) for part in item.split(":")),
              "module:name (e.g. pkg.module:function)")
    elif kind == "checkids" and _items(value):
        _check_ids(value)
    elif kind == "lintrules" and _items(value):
        _lint_rules(value)
    elif kind == "itypes":
        _each(value, _INSTANCE_TYPE.match, "an instance type such as g5.xlarge")
    elif kind == "price" and value:
        _number("float+", value)
    elif kind == "abspath" and not value.startswith("/"):
        raise ValueError("expected an absolute path (it is a directory on the instance)")
    elif kind == "region" and value and not _REGION.match(value):
        raise ValueError("expected an AWS region such as us-east-1")


def _check_kind(key: str, value: str, origin: str) -> None:
    kind = KEYS[key].kind
    try:
        if kind.startswith(("int", "float")):
            _number(kind, value)
        elif kind == "name" and not _NAME.match(value):
            raise ValueError("use 1-64 of A-Z a-z 0-9 . _ -, not starting with - or . (it names a directory)")
        elif key == "PROJECT_NAME" and value.startswith("_"):
            raise ValueError("names starting with _ are reserved (artifacts/preflight/_all holds preflight_all's "
                             "summaries)")
        elif kind == "timeouts":
            _timeouts(value)
        elif kind == "secrets":
            from preflight.secret_spec import parse

            parse(value)
        elif kind == "targets":
            bad = [t.strip() for t in value.split(",") if t.strip() and not _TARGET.match(t.strip())]
            if bad:
                raise ValueError(f"{bad[0]!r} is not module:callable (e.g. training.preflight:TrainingPreflight)")
        elif kind == "duration" and parse_duration(value) <= 0:
            raise ValueError("must be > 0")
        elif kind == "bool" and value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError("expected true or false")
        elif kind == "mode" and value not in ("off", "optional", "required"):
            raise ValueError("expected off, optional or required")
        elif kind.startswith("choice:") and value not in kind[7:].split("|"):
            raise ValueError(f"expected one of {kind[7:].replace('|', ', ')}")
        else:
            _shape(kind, key, value)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {key}={value[:80]!r}: {exc}") from None


def read_file(path: Path) -> str:
    """The file's text, or a ConfigError that says what is wrong with the path itself."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path}: not a regular file (give the path of a workflow.env)")
    if info.st_size > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: file is {info.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    try:
        # A leading byte order mark is how Windows editors (Notepad) save UTF-8: accepted, and dropped.
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: line {line}: not UTF-8 text (is this a binary file?)") from None


def load(path: Path | None, environ: Mapping[str, str], overrides: Mapping[str, str] | None = None) -> Config:
    """Resolve defaults, file, environment and overrides into a validated Config."""
    values = {key: spec.default for key, spec in KEYS.items()}
    origins = {key: "default" for key in KEYS}
    if path is not None:
        for key, value in parse_text(read_file(path), str(path)).items():
            values[key], origins[key] = value, str(path)
    for key in KEYS:
        if key in environ:
            values[key], origins[key] = environ[key], f"environment variable {key}"
    for key, value in (overrides or {}).items():
        if key not in KEYS:
            raise ConfigError(f"override: unknown key {key}")
        values[key], origins[key] = value, f"command-line flag ({key})"
    for key in PATH_KEYS:  # a relative path means: next to the config file that says it
        scheme = "lmdb://" if values[key].startswith("lmdb://") else ""
        local = values[key][len(scheme):]
        if local and not local.startswith("/") and (scheme or "://" not in local):
            base = path.resolve().parent if path is not None and origins[key] == str(path) else Path.cwd()
            values[key] = scheme + str(base / local)
    if not values["AWS_REGION"]:
        # Under SSM Run Command (the Step Functions path) the agent names its region in the environment.
        values["AWS_REGION"] = environ.get("AWS_SSM_REGION_NAME") or "us-east-1"
    for key, value in values.items():
        if origins[key] != str(path):
            _plain(value, origins[key])
            if _SHELLISH.search(value):
                raise ConfigError(f"{origins[key]}: {key}: shell syntax is not allowed in config values")
        _check_kind(key, value, origins[key])
    return Config(values=values, source=str(path) if path else "environment")


def _no_inline_credentials(config: Config) -> None:
    """SSM keeps every command's text, the step environment in it, in its command history (readable
    with ssm:ListCommands): a credential must come from the instance role instead."""
    if _URI_CREDENTIAL.search(config.text("ARCTICDB_URI")):
        raise ConfigError(f"{config.source}: ARCTICDB_URI carries credentials (access=/secret=/aws_session_token=), "
                          "which SSM command history would keep; on ssm use aws_auth=true and grant the instance "
                          "role read access to the bucket")
    secret = [name for name in config.list("PASS_ENV")
              if _SECRET_NAME.search(name.upper()) and not _POINTER_NAME.search(name.upper())]
    if secret:
        raise ConfigError(f"{config.source}: PASS_ENV names {', '.join(secret)}: on ssm their values would be kept "
                          "in SSM command history; read them from a store on the host instead: "
                          f"SECRETS={','.join(n + '=ssm:/your/parameter' for n in secret)} (or secretsmanager:ARN), "
                          "with the instance role allowed to read exactly those")


def healthy_instance_s(config: Config) -> int:
    """The longest a run that keeps to its budget holds its instance: the longer budget (launch, SSM
    wait, every step) plus teardown. The watchdog (MAX_RUNTIME_SECONDS) must exceed it, or it powers off
    a training that was about to finish. It may still end a step that overran the budget: that run has
    already failed, and what it cuts is the diagnostics command. (Here, not in deadlines.py: the
    probe's children import this module on the project's bare venv, and deadlines imports the AWS side.)"""
    return max(config.int("RUN_BUDGET_SECONDS"), config.int("TRAIN_RUN_BUDGET_SECONDS")) + \
        config.int("TEARDOWN_TIMEOUT_SECONDS")


def no_project(source: str) -> str:
    """What a run of a config that names no training project says, and how to get one that does (the root
    workflow.env, the reference, names none on purpose)."""
    return (f"{source}: no training project: REPO_DIR and REPO_URL are both empty, so there is nothing to "
            "preflight. Write a config for your training repository with `python3 -m preflight init --repo PATH` "
            "(from this checkout; it prints the command to run next), or set REPO_DIR or REPO_URL in this file or "
            "the environment. To see a READY run first: make preflight (the example project, "
            "--config examples/predictor/workflow.env)")


def validate_for_run(config: Config, plan: bool = False) -> None:
    """Checks that only matter when the orchestrator is about to launch something. `plan` (--plan proves
    a launch and copies no project): the project keys are not required."""
    both = sorted(set(config.list("PASS_ENV")) & {item.partition("=")[0] for item in config.list("SECRETS")})
    if both:
        raise ConfigError(f"{config.source}: {', '.join(both)} in both PASS_ENV and SECRETS: name each in one")
    if not plan and not config.text("REPO_DIR") and not config.text("REPO_URL"):
        raise ConfigError(no_project(config.source))
    transport = config.text("TRANSPORT")
    missing = [key for key in REQUIRED_BY_TRANSPORT[transport] if not config.text(key)
               and not (plan and key in PROJECT_KEYS)]
    if missing:
        raise ConfigError(f"{config.source}: transport {transport} needs {', '.join(missing)}")
    for key, budget_keys in BUDGET_KEY_OF_STEP.items():
        for budget_key in budget_keys:
            if not 0 < config.int(key) < config.int(budget_key):
                raise ConfigError(f"{config.source}: {key}={config.int(key)} must be > 0 and below "
                                  f"{budget_key}={config.int(budget_key)} (every deadline nests inside the one "
                                  "around it)")
    if transport == "ssm":
        _no_inline_credentials(config)
        longest = healthy_instance_s(config)
        if config.int("MAX_RUNTIME_SECONDS") <= longest:
            raise ConfigError(f"{config.source}: MAX_RUNTIME_SECONDS={config.int('MAX_RUNTIME_SECONDS')} must exceed "
                              f"the longest run budget plus TEARDOWN_TIMEOUT_SECONDS ({longest})")
    if config.float("PROBE_DEADLINE_SECONDS") >= config.int("PROBE_TIMEOUT_SECONDS"):
        raise ConfigError(f"{config.source}: PROBE_DEADLINE_SECONDS must be below PROBE_TIMEOUT_SECONDS")
