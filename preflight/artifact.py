"""The readiness artifact: build, redact, bound, validate, write atomically, frame, and verify."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import socket
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from preflight.bounded import NotRegular, read_regular
from preflight.config import sha256_json
from preflight.model import CheckResult

SCHEMA_VERSION = 1
MAX_BYTES = 16 * 1024
BEGIN = "-----BEGIN PREFLIGHT READINESS-----"
END_PREFIX = "-----END PREFLIGHT READINESS sha256="
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD", re.IGNORECASE)
_SECRET_PARAM = re.compile(r"((?:access|secret|aws_session_token|password)=)[^&\s\"']+", re.IGNORECASE)


# What a reader of an artifact (or of run.json beside it) will take: artifacts stay under MAX_BYTES, campaign
# artifacts a little more; nothing real comes near these. Above them a file is not an artifact.
MAX_READ_BYTES = 1 << 20
MAX_JSON_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


class ArtifactError(Exception):
    """An artifact that is missing, cut, corrupt or does not match its schema."""


def read_bounded(path: Path, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of `path` if it is a regular file (after links) of at most `limit` bytes, else
    ArtifactError naming why (FileNotFoundError passes through: missing is its own answer)."""
    try:
        return read_regular(path, limit, "an artifact")
    except NotRegular as exc:
        raise ArtifactError(str(exc)) from None


def loads_bounded(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads, after proving the nesting is at most `max_depth` deep: the C parser recurses, and a
    RecursionError from 100,000 brackets is a corrupt file, not a crash. Raises ArtifactError or ValueError."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > deepest:
            deepest = depth
            if deepest > max_depth:
                raise ArtifactError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError:
        raise ArtifactError(f"JSON nested deeper than {max_depth} levels") from None


def read_json(path: Path, limit: int = MAX_READ_BYTES) -> Any:
    """A bounded regular file, UTF-8, bounded JSON. Raises FileNotFoundError, ArtifactError (naming why),
    OSError, UnicodeDecodeError or ValueError."""
    return loads_bounded(read_bounded(path, limit).decode("utf-8"))


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """Values that must never be printed: every env var whose name says it is a credential."""
    return sorted({v for k, v in environ.items() if _SECRET_NAME.search(k) and len(v) >= 4}, key=len,
                  reverse=True)


def redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return _SECRET_PARAM.sub(r"\1***", value)
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value


def _summary(checks: list[dict[str, Any]]) -> dict[str, int]:
    count = {s: sum(1 for c in checks if c["status"] == s) for s in ("pass", "fail", "warn", "skip",
                                                                      "bootstrapped")}
    return {"total": len(checks), "passed": count["pass"], "failed": count["fail"],
            "bootstrapped": count["bootstrapped"], "warnings": count["warn"], "skipped": count["skip"]}


def runtime_hash(pins_file: str) -> str:
    path = Path(pins_file) if pins_file else None
    pins = hashlib.sha256(path.read_bytes()).hexdigest() if path and path.is_file() else None
    return sha256_json({"pins_sha256": pins, "python": platform.python_version()})


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 15] + " …[truncated]"


def _shorten_items(text: str, limit: int) -> str:
    """Each `; `-separated item cut on its own: a long first item cannot push the others out."""
    return "; ".join(_shorten(item, limit) for item in text.split("; "))


def _fits(artifact: dict[str, Any]) -> bool:
    return len(to_json(artifact).encode()) <= MAX_BYTES


def _bound(artifact: dict[str, Any]) -> dict[str, Any]:
    """Fit MAX_BYTES by dropping what matters least first: the details of checks that did not fail, then
    those of failures, then long text item by item, so that every failing item keeps at least a line."""
    for failing in (False, True):
        for check in artifact["checks"]:
            if _fits(artifact):
                return artifact
            if (check["status"] == "fail") == failing and len(json.dumps(check["details"])) > 200:
                check["details"] = {"truncated": True}
    for limit in (1200, 600, 300, 160, 100, 60):
        if _fits(artifact):
            break
        for item in artifact["checks"] + artifact["failures"]:
            item["message"] = _shorten_items(item["message"], limit)
            item["remediation"] = _shorten(item["remediation"], limit)
        artifact["next_action"] = _shorten(artifact["next_action"], limit * 2)
    return artifact


def build(results: list[CheckResult], *, run_id: str, mode: str, identity_hash: str, runtime_config_hash: str,
          duration_s: float, environ: Mapping[str, str], diagnostics: dict[str, Any]) -> dict[str, Any]:
    checks = [r.to_dict() for r in results]
    failures = [{"id": c["id"], "message": c["message"], "remediation": c["remediation"]}
                for c in checks if c["status"] == "fail"]
    next_action = "proceed" if not failures else " | ".join(
        f"{f['id']}: {f['remediation'] or f['message']}" for f in failures)
    artifact = {
        "schema_version": SCHEMA_VERSION,
        "status": "FAILED" if failures else "READY",
        "run_id": run_id,
        "mode": mode,
        "config_identity_hash": identity_hash,
        "runtime_config_hash": runtime_config_hash,
        "emitted_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "preflight_duration_seconds": round(duration_s, 3),
        "host": {"hostname": socket.gethostname(), "python": platform.python_version(),
                 "platform": platform.platform(), "instance_id": environ.get("PREFLIGHT_INSTANCE_ID")},
        "checks": checks,
        "checks_summary": _summary(checks),
        "failures": failures,
        "next_action": next_action,
        "diagnostics": diagnostics,
    }
    artifact = _bound(redact(artifact, secret_values(environ)))
    validate(artifact)
    return artifact


def load_schema() -> dict[str, Any]:
    return json.loads(resources.files("preflight").joinpath("schema/readiness.schema.json").read_text())


def validate(artifact: Any) -> None:
    """Schema plus the invariants a schema cannot say. Raises ArtifactError with the first problem."""
    import jsonschema

    try:
        jsonschema.validate(artifact, load_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ArtifactError(f"schema: {where}: {exc.message}") from None
    _consistent(artifact)


def _consistent(artifact: dict[str, Any]) -> None:
    consistent(artifact, _summary(artifact["checks"]), "id")


def consistent(artifact: dict[str, Any], recount: dict[str, int], failure_id: str) -> None:
    """The verdict is recounted from checks[]: a READY that its own checks contradict is not READY. Shared
    by the probe's artifact and the campaign's (whose failures name `check_id` and count no skips)."""
    checks, summary = artifact["checks"], artifact["checks_summary"]
    if not checks:
        raise ArtifactError("no checks: an artifact that proved nothing cannot be READY or FAILED")
    if {k: summary.get(k) for k in recount} != recount or set(summary) - set(recount):
        raise ArtifactError(f"checks_summary {_counts(summary, recount)} does not match the checks it summarises "
                            f"({_counts(recount, recount)})")
    failing = [c["id"] for c in checks if c["status"] == "fail"]
    listed = [f[failure_id] for f in artifact["failures"]]
    if artifact["status"] == "READY" and failing:
        raise ArtifactError(f"status READY contradicts failed check(s): {', '.join(failing)}")
    if artifact["status"] == "READY" and listed:
        raise ArtifactError(f"status READY but failures[] lists {', '.join(listed)}")
    if artifact["status"] != "READY" and not failing:
        raise ArtifactError(f"status {artifact['status']} but no check failed")
    if sorted(listed) != sorted(failing):
        raise ArtifactError(f"failures[] lists {', '.join(listed) or 'nothing'} but the failed checks are "
                            f"{', '.join(failing) or 'none'}")


def _counts(summary: dict[str, Any], keys: dict[str, int]) -> str:
    return ", ".join(f"{k} {summary.get(k)}" for k in ("total", "passed", "failed", "warnings", "skipped",
                                                       "bootstrapped") if k in keys)


def to_json(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_atomic(artifact: dict[str, Any], path: Path) -> None:
    """Temp file in the same directory, fsync, rename: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(artifact, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def frame(artifact: dict[str, Any]) -> str:
    """One line between markers, with a checksum, so a transport can cut it out of any stdout."""
    payload = to_json(artifact)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return f"{BEGIN}\n{payload}\n{END_PREFIX}{digest}-----"


def unframe(text: str) -> dict[str, Any]:
    """The artifact framed in `text` (the last frame wins). Raises ArtifactError naming the cause."""
    start = text.rfind(BEGIN)
    if start < 0 and text.lstrip().startswith("{"):  # a fetched artifact file rather than a step log
        try:
            artifact = loads_bounded(text)
        except ValueError as exc:
            raise ArtifactError(f"fetched artifact is not JSON: {exc}") from None
        validate(artifact)
        return artifact
    if start < 0:
        raise ArtifactError("no readiness frame in the step output (the probe did not run to the end, "
                            "or the output was cut before the artifact)")
    lines = text[start:].splitlines()
    if len(lines) < 3 or not lines[2].startswith(END_PREFIX):
        raise ArtifactError("readiness frame is not closed: the step output was cut inside the artifact "
                            "(SSM keeps only the first 24,000 characters)")
    payload, digest = lines[1], lines[2][len(END_PREFIX):].rstrip("-")
    if hashlib.sha256(payload.encode()).hexdigest() != digest:
        raise ArtifactError("readiness frame checksum mismatch: the artifact was altered in transit")
    artifact = loads_bounded(payload)
    validate(artifact)
    return artifact


def without_frame(lines: list[str]) -> list[str]:
    """A step's output lines around its readiness frame: what a report shows of the step; the frame is
    the artifact, read on its own (unframe)."""
    kept, inside = [], False
    for line in lines:
        if line.startswith(BEGIN):
            inside = True
        elif inside:
            inside = not line.startswith(END_PREFIX)
        else:
            kept.append(line)
    return kept


def read_tail(path: Path, limit: int = 8 * MAX_READ_BYTES) -> str:
    """The last `limit` bytes of a step log (a regular file; the frame is at its end), as text."""
    try:
        return read_regular(path, limit, "a step log", tail=True).decode("utf-8", errors="replace")
    except NotRegular as exc:
        raise ArtifactError(f"{path}: {exc}") from None
