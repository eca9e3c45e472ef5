"""What the reports are made of: the verified readiness artifact (or why there is none) and, for a
spot_train.sh run, its steps, exit code and reason."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIMEOUT = 124  # what every transport returns for a step that overran its deadline
# The steps of each spot_train.sh mode, in order (a bare `preflight probe` has none).
MODE_STEPS = {"preflight-only": ("bootstrap", "deps", "probe"), "smoke-only": ("bootstrap", "deps", "probe", "smoke"),
              "full-only": ("bootstrap", "deps", "probe", "train"),
              "full": ("bootstrap", "deps", "probe", "smoke", "train")}
TAIL_LINES = 40  # as many as spot_train.sh prints for a failed step
TAIL_WIDTH = 300
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain(text: object) -> str:
    """Text without terminal colours or control characters (tab and newlines stay): what a report shows."""
    return _CONTROL.sub("", _ANSI.sub("", str(text)))


@dataclass(frozen=True)
class Step:
    name: str
    exit_code: int
    duration_s: float
    log_tail: str = ""  # the end of its log, for a step that did not succeed

    @property
    def outcome(self) -> str:
        """ok · failed · timed out. The probe exits 1 when checks failed: the step itself worked."""
        if self.exit_code == TIMEOUT:
            return "timed out"
        return "ok" if self.exit_code == 0 or (self.name == "probe" and self.exit_code == 1) else "failed"


@dataclass(frozen=True)
class Run:
    run_id: str
    mode: str
    exit_code: int
    status: str  # READY · FAILED · DONE · ERROR · INTERRUPTED · TEARDOWN_UNCONFIRMED
    reason: str
    artifact: dict[str, Any] | None
    artifact_problem: str = ""  # why there is no artifact, when there is none
    steps: tuple[Step, ...] = ()
    results: str = ""  # the run's results directory; "" for a bare `preflight probe`
    tool_version: str = ""

    def steps_not_run(self) -> list[str]:
        """The mode's steps that never ended: the run stopped before them, or while they ran."""
        ran = {step.name for step in self.steps}
        return [name for name in MODE_STEPS.get(self.mode, ()) if name not in ran] if self.results else []

    def run_error(self) -> str:
        """Why the run failed when neither a check nor a step says so (no capacity, unreachable, an
        artifact that did not come back, teardown, an interruption), else ""."""
        if self.exit_code in (0, 1) and self.artifact is not None:
            return ""
        if any(step.outcome != "ok" for step in self.steps):
            return ""
        return f"exit {self.exit_code}: {self.reason or self.artifact_problem or self.status}"


def from_probe(artifact: dict[str, Any], tool_version: str) -> Run:
    code = 0 if artifact["status"] == "READY" else 1
    return Run(artifact["run_id"], artifact["mode"], code, artifact["status"], "", artifact,
               tool_version=tool_version)


def load_artifact(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(the artifact, "") once it verifies (schema and its own consistency), else (None, why not)."""
    from preflight.artifact import validate

    if not path.is_file():
        return None, "no readiness artifact came back"
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
        validate(artifact)
    except Exception as exc:  # noqa: BLE001 - any reason not to trust it is reported, never raised
        return None, f"readiness artifact {path} does not verify: {exc}"
    return artifact, ""


def log_tail(path: Path, environ: Mapping[str, str]) -> str:
    """The last lines of a step log, without the framed artifact or colours, credentials redacted."""
    from preflight.artifact import redact, secret_values, without_frame

    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    kept = [_ANSI.sub("", line)[:TAIL_WIDTH] for line in without_frame(lines)]
    return redact("\n".join(kept[-TAIL_LINES:]), secret_values(environ))


def read_steps(results: Path, environ: Mapping[str, str]) -> tuple[Step, ...]:
    from preflight.runrecord import read_steps as rows

    steps = []
    for row in rows(results / "steps.tsv"):
        step = Step(row["step"], row["exit_code"], row["duration_s"])
        if step.outcome != "ok":
            step = Step(step.name, step.exit_code, step.duration_s, log_tail(results / "logs" / f"{step.name}.log",
                                                                             environ))
        steps.append(step)
    return tuple(steps)


def from_results(results: Path, *, run_id: str, mode: str, exit_code: int, status: str, reason: str,
                 tool_version: str, environ: Mapping[str, str] = os.environ) -> Run:
    artifact, problem = load_artifact(results / "preflight-readiness.json")
    return Run(run_id, mode, exit_code, status, reason, artifact, problem, read_steps(results, environ),
               str(results), tool_version)
