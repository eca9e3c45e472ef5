"""Strict reader for workflow.env: KEY=VALUE data that is parsed, never executed.

Standard library only, so the bash orchestrator can call it with a bare python3 before any
virtualenv exists. Precedence: defaults < file < environment (same name) < explicit overrides.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from preflight.durations import parse_duration
from preflight.keys import BUDGET_KEY_OF_STEP, KEYS, REQUIRED_BY_TRANSPORT

_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# `$(`, `${`, `$NAME` and backticks look like shell; rejecting them keeps the file plain data.
_SHELLISH = re.compile(r"\$[({A-Za-z_]|`")


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


def parse_text(text: str, source: str) -> dict[str, str]:
    """KEY -> VALUE for one file's text. Unknown, duplicate and shell-like entries are errors."""
    seen: dict[str, int] = {}
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{source}:{number}"
        key, sep, raw = stripped.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            raise ConfigError(f"{where}: expected KEY=VALUE, got {stripped[:60]!r}")
        if key not in KEYS:
            raise ConfigError(f"{where}: unknown key {key}")
        if key in seen:
            raise ConfigError(f"{where}: duplicate key {key} (first set on line {seen[key]})")
        value = _unquote(raw, f"{where}: {key}")
        if _SHELLISH.search(value):
            raise ConfigError(f"{where}: {key}: shell syntax ($(...), ${{...}}, $VAR or backticks) "
                              "is not allowed; workflow.env is data, write the literal value")
        seen[key] = number
        values[key] = value
    return values


def _check_kind(key: str, value: str, origin: str) -> None:
    kind = KEYS[key].kind
    try:
        if kind == "int":
            int(value)
        elif kind == "float":
            float(value)
        elif kind == "duration":
            parse_duration(value)
        elif kind == "bool" and value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError("expected true or false")
        elif kind == "mode" and value not in ("off", "optional", "required"):
            raise ValueError("expected off, optional or required")
        elif kind.startswith("choice:") and value not in kind[7:].split("|"):
            raise ValueError(f"expected one of {kind[7:].replace('|', ', ')}")
    except ValueError as exc:
        raise ConfigError(f"{origin}: {key}={value!r}: {exc}") from None


def load(path: Path | None, environ: Mapping[str, str], overrides: Mapping[str, str] | None = None) -> Config:
    """Resolve defaults, file, environment and overrides into a validated Config."""
    values = {key: spec.default for key, spec in KEYS.items()}
    origins = {key: "default" for key in KEYS}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
        for key, value in parse_text(text, str(path)).items():
            values[key], origins[key] = value, str(path)
    for key in KEYS:
        if key in environ:
            values[key], origins[key] = environ[key], f"environment variable {key}"
    for key, value in (overrides or {}).items():
        if key not in KEYS:
            raise ConfigError(f"override: unknown key {key}")
        values[key], origins[key] = value, "command-line flag"
    if not values["AWS_REGION"]:
        # Under SSM Run Command (the Step Functions path) the agent names its region in the environment.
        values["AWS_REGION"] = environ.get("AWS_SSM_REGION_NAME") or "us-east-1"
    for key, value in values.items():
        if _SHELLISH.search(value) and origins[key] != str(path):
            raise ConfigError(f"{origins[key]}: {key}: shell syntax is not allowed in config values")
        _check_kind(key, value, origins[key])
    return Config(values=values, source=str(path) if path else "environment")


def validate_for_run(config: Config) -> None:
    """Checks that only matter when the orchestrator is about to launch something."""
    transport = config.text("TRANSPORT")
    missing = [key for key in REQUIRED_BY_TRANSPORT[transport] if not config.text(key)]
    if missing:
        raise ConfigError(f"{config.source}: transport {transport} needs {', '.join(missing)}")
    for key, budget_keys in BUDGET_KEY_OF_STEP.items():
        for budget_key in budget_keys:
            if not 0 < config.int(key) < config.int(budget_key):
                raise ConfigError(f"{config.source}: {key}={config.int(key)} must be > 0 and below "
                                  f"{budget_key}={config.int(budget_key)} (every deadline nests inside the one "
                                  "around it)")
    if transport == "ssm":
        # The watchdog powers the host off at MAX_RUNTIME_SECONDS: it must outlast the longest healthy run
        # (its budget plus teardown), or it kills a training that was about to finish.
        longest = max(config.int("RUN_BUDGET_SECONDS"), config.int("TRAIN_RUN_BUDGET_SECONDS")) + \
            config.int("TEARDOWN_TIMEOUT_SECONDS")
        if config.int("MAX_RUNTIME_SECONDS") <= longest:
            raise ConfigError(f"{config.source}: MAX_RUNTIME_SECONDS={config.int('MAX_RUNTIME_SECONDS')} must exceed "
                              f"the longest run budget plus TEARDOWN_TIMEOUT_SECONDS ({longest})")
    if config.float("PROBE_DEADLINE_SECONDS") >= config.int("PROBE_TIMEOUT_SECONDS"):
        raise ConfigError(f"{config.source}: PROBE_DEADLINE_SECONDS must be below PROBE_TIMEOUT_SECONDS")
