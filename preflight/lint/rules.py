"""The seven rules, judged over the whole project (an upload helper defined anywhere counts)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from preflight.lint.facts import TRAINERS, Facts

RULES = ("ephemeral-save", "push-without-hub-id", "flash-attn-missing", "no-tracking", "no-resume",
         "train-timeout-short", "gpu-code-gpu-check-off")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # warn · info
    file: str
    line: int
    message: str
    remediation: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RuleDoc:
    """A rule described apart from any finding: what reports such as SARIF list as rule metadata."""

    severity: str  # the severity every finding of the rule has: warn · info
    summary: str
    why: str
    remediation: str


DOCS = {
    "syntax-error": RuleDoc("info", "A Python file does not parse", "the lint rules cannot read it, and neither can "
                            "Python on the instance", "fix the syntax or leave the file out with PREFLIGHT_LINT_PATHS"),
    "ephemeral-save": RuleDoc("warn", "Saves to the instance's disk and nothing in the project uploads it",
                              "a spot instance's disk dies with the instance", "upload what you save (boto3 "
                              "upload_file, push_to_hub, wandb.save or log_artifact, `aws s3 cp`) before the step "
                              "ends"),
    "push-without-hub-id": RuleDoc("warn", "push_to_hub=True without hub_model_id", "the push goes to a repo named "
                                   "after output_dir, under whichever account the token belongs to",
                                   "set hub_model_id='org/name' next to push_to_hub=True"),
    "flash-attn-missing": RuleDoc("warn", "flash_attention_2 is requested but flash-attn is in none of the "
                                  "requirements", "loading the model fails on the instance",
                                  "add flash-attn to the requirements file (PREFLIGHT_PINS_FILE)"),
    "no-tracking": RuleDoc("info", "Training runs without experiment tracking", "a run cut short by a spot "
                           "interruption leaves no curves behind",
                           "wandb.init(...) or report_to=['wandb'] (also trackio, tensorboard, mlflow)"),
    "no-resume": RuleDoc("warn", "Checkpoints are written but never read back", "after a spot interruption "
                         "training restarts from zero", "resume: trainer.train(resume_from_checkpoint=True), or "
                         "load_state_dict of the last checkpoint at start-up"),
    "train-timeout-short": RuleDoc("warn", "TRAIN_TIMEOUT_SECONDS is short for this training", "the train step is "
                                   "killed before it ends",
                                   "raise TRAIN_TIMEOUT_SECONDS (and TRAIN_RUN_BUDGET_SECONDS)"),
    "gpu-code-gpu-check-off": RuleDoc("info", "The code moves work to CUDA while GPU_CHECK=off", "a host without a "
                                      "usable GPU passes the preflight", "set GPU_CHECK=required in workflow.env"),
}


@dataclass(frozen=True)
class Settings:
    has_flash_attn_requirement: bool
    gpu_check: str
    train_timeout_s: int
    longest_train_s: float | None  # the longest successful train step in earlier runs' run.json
    trackers: tuple[str, ...] = ()  # tracking packages among the requirements (wandb, mlflow, ...)
    transformers_v4: bool = True  # False when the requirements pin transformers 5+ (report_to defaults to none)
    config_file: str = "workflow.env"  # where TRAIN_TIMEOUT_SECONDS is set, for config findings
    timeout_line: int = 0  # its line there (0: not in the file, the default applies)


def _first(sites: list[tuple[Facts, int]]) -> tuple[Facts, int]:
    return min(sites, key=lambda s: (s[0].path, s[1]))


def _unparsable(files: list[Facts], _: Settings) -> list[Finding]:
    return [Finding("syntax-error", "info", f.path, 0, f"does not parse: {f.syntax_error}",
                    "fix the syntax or leave the file out with PREFLIGHT_LINT_PATHS") for f in files if f.syntax_error]


def _unreadable(files: list[Facts], _: Settings) -> list[Finding]:
    return [Finding("unreadable", "info", f.path, 0, f"not linted: {f.unreadable}",
                    "leave the file out with PREFLIGHT_LINT_PATHS if it is not training code") for f in files
            if f.unreadable]


def _ephemeral(files: list[Facts], _: Settings) -> list[Finding]:
    if any(f.uploads for f in files):
        return []
    return [Finding("ephemeral-save", "warn", f.path, line, f"{what} saves to the instance's disk and nothing in the "
                    "project uploads it: a spot disk dies with the instance",
                    "upload what you save (boto3 upload_file, push_to_hub, wandb.save or log_artifact, `aws s3 cp`) "
                    "before the step ends") for f in files for line, what, _ in f.saves]


def _push(files: list[Facts], _: Settings) -> list[Finding]:
    return [Finding("push-without-hub-id", "warn", f.path, line, "push_to_hub=True without hub_model_id: the push "
                    "goes to a repo named after output_dir, under whichever account the token belongs to",
                    "set hub_model_id='org/name' next to push_to_hub=True")
            for f in files for line in f.push_without_id]


def _flash(files: list[Facts], settings: Settings) -> list[Finding]:
    if settings.has_flash_attn_requirement:
        return []
    return [Finding("flash-attn-missing", "warn", f.path, line, "flash_attention_2 is requested but flash-attn is in "
                    "none of the requirements: loading the model fails on the instance",
                    "add flash-attn to the requirements file (PREFLIGHT_PINS_FILE)") for f in files for line in f.flash]


# Packages that exist only to track experiments: requiring one is tracking.
TRACKING_PACKAGES = {"wandb", "mlflow", "trackio", "comet-ml", "neptune", "clearml", "aim"}


def _hf_trainer_reports(files: list[Facts], settings: Settings) -> bool:
    """transformers 4.x's TrainingArguments(report_to=...) defaults to "all": every installed
    integration (huggingface/transformers#9735); 5.0 made it "none" (#41375)."""
    uses_trainer = any(name.rsplit(".", 1)[-1] in TRAINERS for f in files for _, name in f.entries)
    return uses_trainer and settings.transformers_v4 and bool(settings.trackers)


def _tracking(files: list[Facts], settings: Settings) -> list[Finding]:
    entries = [(f, line) for f in files for line, _ in f.entries]
    if not entries or any(f.tracking for f in files) or set(settings.trackers) & TRACKING_PACKAGES or \
            _hf_trainer_reports(files, settings):
        return []
    f, line = _first(entries)
    return [Finding("no-tracking", "info", f.path, line, "training runs without experiment tracking: a run cut short "
                    "by a spot interruption leaves no curves behind",
                    "wandb.init(...) or report_to=['wandb'] (also trackio, tensorboard, mlflow)")]


def _resume(files: list[Facts], _: Settings) -> list[Finding]:
    checkpoints = [(f, line) for f in files for line, _, ckpt in f.saves if ckpt]
    if not checkpoints or any(f.reads_back for f in files):
        return []
    f, line = _first(checkpoints)
    return [Finding("no-resume", "warn", f.path, line, "checkpoints are written but never read back: after a spot "
                    "interruption training restarts from zero", "resume: trainer.train(resume_from_checkpoint=True), "
                    "or load_state_dict of the last checkpoint at start-up")]


def _gpu(files: list[Facts], settings: Settings) -> list[Finding]:
    cuda = [(f, line) for f in files for line in f.cuda]
    if not cuda or settings.gpu_check != "off":
        return []
    f, line = _first(cuda)
    return [Finding("gpu-code-gpu-check-off", "info", f.path, line, "the code moves work to CUDA while GPU_CHECK=off: "
                    "a host without a usable GPU passes the preflight", "set GPU_CHECK=required in workflow.env")]


def judge(files: list[Facts], settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    for rule in (_unparsable, _unreadable, _ephemeral, _push, _flash, _tracking, _resume, _timeout, _gpu):
        out += rule(files, settings)
    return out


def _timeout(files: list[Facts], settings: Settings) -> list[Finding]:
    entries = [line for f in files for line, _ in f.entries]
    limit, longest = settings.train_timeout_s, settings.longest_train_s
    if longest is not None and limit < 1.2 * longest:
        why = f"below 1.2 x the longest successful train step so far ({longest:.0f}s)"
    elif longest is None and entries and limit < 1800:
        why = "below 1800 s for a project with a training entry point and no earlier train step to go by"
    else:
        return []
    where = "" if settings.timeout_line else " (the default: the config does not set it)"
    return [Finding("train-timeout-short", "warn", settings.config_file, settings.timeout_line,
                    f"TRAIN_TIMEOUT_SECONDS={limit}{where} is {why}",
                    f"raise TRAIN_TIMEOUT_SECONDS (and TRAIN_RUN_BUDGET_SECONDS) to at least "
                    f"{max(1800, int(1.2 * (longest or 0)) + 1)}")]


def longest_train_step(results_dir: Path) -> float | None:
    """The longest successful `train` step recorded in earlier runs' run.json, if any."""
    from preflight.bounded import NotRegular, read_regular

    longest = None
    for record in results_dir.glob("*/run.json"):
        try:
            steps = json.loads(read_regular(record, 1 << 20, "a run.json")).get("steps", [])
            durations = [float(step.get("duration_s", 0)) for step in steps
                         if step.get("step") == "train" and step.get("exit_code") == 0]
        except (OSError, ValueError, NotRegular, TypeError, AttributeError, RecursionError):
            continue  # one unreadable record is not the history
        longest = max([longest or 0.0, *durations]) if durations else longest
    return longest


def suppressions(findings: list[Finding], files: list[Facts], ignored: set[str]) -> list[str]:
    """How each finding is suppressed, in SARIF's words: "inSource" (`# preflight: ignore[rule]` on its
    line), "external" (PREFLIGHT_LINT_IGNORE), or "" (it is not)."""
    by_path = {f.path: f.ignored for f in files}
    return ["inSource" if x.rule in by_path.get(x.file, {}).get(x.line, set()) else
            "external" if x.rule in ignored else "" for x in findings]


def unsuppressed(findings: list[Finding], files: list[Facts], ignored: set[str]) -> list[Finding]:
    return [x for x, how in zip(findings, suppressions(findings, files, ignored)) if not how]
