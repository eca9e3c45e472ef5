"""lint: advisory findings on the training code (preflight/lint). Never fails the probe: a `warn`
finding makes the check a warning, `info` findings keep it a pass."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

from preflight.child import run_guarded
from preflight.model import Context, Outcome, passed, skipped, warned

SHOWN = 20  # findings kept whole in the artifact and shown on the console


def _locations(findings: list[dict]) -> dict[str, dict[str, list[int]]]:
    """Every finding as rule → file → lines, so all of them fit the artifact where whole findings could
    not (500 in ~3 KB). What varies within a rule's messages (which save call, which parse error) is
    kept for the whole findings only."""
    where: dict[str, dict[str, list[int]]] = {}
    for f in findings:
        where.setdefault(f["rule"], {}).setdefault(f["file"], []).append(f["line"])
    return where


TRACKERS = ("wandb", "mlflow", "trackio", "tensorboard", "tensorboardx", "comet-ml", "neptune", "clearml", "aim")


def _requirement_facts(ctx: Context) -> dict:
    """What lint's rules read from the requirements: flash-attn, tracking packages, transformers 5+."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    from preflight.checks.pins import read_requirements

    name = ctx.config.text("PREFLIGHT_PINS_FILE")
    if not name or not Path(name).is_file():
        return {"has_flash_attn_requirement": False}
    reqs, _ = read_requirements(Path(name))
    names = {canonicalize_name(r.name): r for r in reqs}
    transformers = names.get("transformers")
    # 5+ only when the pin admits no 4.x release (sampled across the 4.x line).
    v5 = bool(transformers and transformers.specifier and
              not any(transformers.specifier.contains(Version(v)) for v in ("4.0", "4.30", "4.46", "4.57.1", "4.99")))
    return {"has_flash_attn_requirement": "flash-attn" in names, "trackers": tuple(t for t in TRACKERS if t in names),
            "transformers_v4": not v5}


def _config_line(ctx: Context, key: str) -> tuple[str, int]:
    """The config file the run was started with (the launcher says which) and `key`'s line in it."""
    path = ctx.environ.get("PREFLIGHT_CONFIG_FILE", "")
    if not path:
        return "workflow.env", 0
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:  # on ssm the file is on the caller's machine: name it, without a line
        return path, 0
    return path, next((n for n, line in enumerate(lines, 1) if line.strip().startswith(f"{key}=")), 0)


def _closure_files(ctx: Context) -> list[str]:
    """The files training runs (the entry's import closure), when the commands name an entry: a
    post-processing script training never imports is not judged. Reading the closure first also puts
    every one of its files in the facts cache, so the lint child parses none of them again."""
    from preflight.checks.entrypoint import static_closure

    try:
        static = static_closure(ctx)
    except Exception:  # the entrypoint check reports its own failure; lint falls back to the project
        return []
    if static is None:
        return []
    return [str(p) for p in static.closure.modules.values() if p.is_file()]


def check_lint(ctx: Context, deadline_s: float) -> Outcome:
    if ctx.config.text("PREFLIGHT_LINT") == "off":
        return skipped("PREFLIGHT_LINT=off")
    from preflight.lint.rules import longest_train_step

    config_file, timeout_line = _config_line(ctx, "TRAIN_TIMEOUT_SECONDS")
    settings = {**_requirement_facts(ctx), "config_file": config_file, "timeout_line": timeout_line,
                "gpu_check": ctx.config.text("GPU_CHECK"),
                "train_timeout_s": ctx.config.int("TRAIN_TIMEOUT_SECONDS"),
                "longest_train_s": longest_train_step(Path(ctx.base_dir) / "artifacts" / "preflight")}
    configured = ctx.config.list("PREFLIGHT_LINT_PATHS")
    paths = configured or _closure_files(ctx)
    scope = "PREFLIGHT_LINT_PATHS" if configured else ("the entry's import closure" if paths else "the project")
    request = {"root": os.getcwd(), "paths": paths,
               "ignore": ctx.config.list("PREFLIGHT_LINT_IGNORE"), "settings": settings}
    # Lint reads files and needs nothing of the project's world: it runs on the probe's own interpreter.
    child = run_guarded("preflight.lint", request, deadline_s, ctx.environ, python=sys.executable)
    if child.value is None:
        # Worded as the runner words an advisory check it stopped; no figure: what is left of the deadline
        # here (its module's import taken off) is not the configured one the remediation raises.
        why = ("did not finish within its deadline" if child.timed_out
               else f"lint's child exited {child.returncode} without findings (its output is in probe.log)")
        return warned(f"advisory check, not a failure: {why}",
                      "raise CHECK_TIMEOUTS=lint:<seconds> or narrow PREFLIGHT_LINT_PATHS")
    findings = child.value["findings"]
    by_rule = dict(Counter(f["rule"] for f in findings))
    details = {"findings": findings[:SHOWN], "total": len(findings), "by_rule": by_rule,
               "locations": _locations(findings), "files": child.value["files"], "lines": child.value["lines"],
               "parsed": child.value.get("parsed"), "scope": scope}
    suppressed = child.value.get("suppressed", [])
    if suppressed:  # kept for reports that show suppressions (SARIF), never counted as findings
        details.update(suppressed=suppressed[:SHOWN], suppressed_total=len(suppressed))
    summary = ", ".join(f"{rule} x{n}" for rule, n in sorted(by_rule.items()))
    scanned = f"{child.value['files']} files, {child.value['lines']} lines"
    if not findings:
        return passed(f"no findings in {scanned}", **details)
    message = f"{len(findings)} finding{'' if len(findings) == 1 else 's'} in {scanned}: {summary}"
    if any(f["severity"] == "warn" for f in findings):
        return warned(message, "advisory: fix, or suppress with `# preflight: ignore[rule]` on the line or "
                      "PREFLIGHT_LINT_IGNORE=rule", **details)
    return passed(message, **details)
