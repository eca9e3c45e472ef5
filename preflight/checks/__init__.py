"""The check registry: every precondition the probe proves, with its id, category and deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from preflight.model import Check, Context, Outcome

# (id, category, function, takes its deadline) — the function modules are imported lazily so that
# `preflight probe --help` and a probe with everything off never import boto3, arcticdb or pandas.
_TABLE: tuple[tuple[str, str, str, bool], ...] = (
    ("runtime", "runtime", "preflight.checks.runtime:check_runtime", True),
    ("gpu", "runtime", "preflight.checks.runtime:check_gpu", True),
    ("entrypoint", "code", "preflight.checks.entrypoint:check_entrypoint", True),
    ("imports", "code", "preflight.checks.imports:check_imports", True),
    ("pins", "code", "preflight.checks.pins:check_pins", True),
    ("pins.consistency", "code", "preflight.checks.pins:check_consistency", True),
    ("lint", "code", "preflight.checks.lint:check_lint", True),
    ("paths", "data", "preflight.checks.paths:check_paths", True),
    ("env", "aws", "preflight.checks.aws_env:check_env", False),
    ("s3", "aws", "preflight.checks.aws_env:check_s3", True),
    ("arcticdb.library", "data", "preflight.checks.arctic:check_library", True),
    ("arcticdb.freshness", "data", "preflight.checks.arctic:check_freshness", True),
    ("skypilot", "credentials", "preflight.checks.skypilot:check_skypilot", False),
    ("wandb", "credentials", "preflight.checks.wandb:check_wandb", False),
)

CHECK_IDS = tuple(row[0] for row in _TABLE)


IMPORTING = ("entrypoint", "imports")  # checks that import the project's stack (IMPORT_TIMEOUT_SECONDS)
ADVISORY = ("lint",)  # never a failure: a raise or an overrun deadline is a warning


def deadline_for(ctx: Context, check_id: str) -> float:
    """CHECK_TIMEOUTS (`id:seconds,...`) overrides CHECK_TIMEOUT_SECONDS (IMPORT_TIMEOUT_SECONDS for the
    importing checks) for one check."""
    for item in ctx.config.list("CHECK_TIMEOUTS"):
        name, _, seconds = item.rpartition(":")
        if name.strip() == check_id:
            return float(seconds)
    return ctx.config.float("IMPORT_TIMEOUT_SECONDS" if check_id in IMPORTING else "CHECK_TIMEOUT_SECONDS")


def _resolve(target: str) -> Callable[..., Outcome]:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _left(deadline: float, begun: float) -> float:
    """What is left of a deadline counted, as the runner counts it, from when the check began: its module's
    import (seconds on a loaded machine) comes out of it, so the child it spawns ends within it."""
    return deadline - (time.monotonic() - begun)


def _call(target: str, ctx: Context, deadline: float | None) -> Outcome:
    begun = time.monotonic()
    function = _resolve(target)
    return function(ctx) if deadline is None else function(ctx, _left(deadline, begun))


def _project(ctx: Context, deadline: float, target: str) -> Outcome:
    begun = time.monotonic()
    from preflight.checks.project import check_project

    return check_project(ctx, _left(deadline, begun), target)


def build_checks(ctx: Context) -> list[Check]:
    checks = []
    for check_id, category, target, wants_deadline in _TABLE:
        deadline = deadline_for(ctx, check_id)
        run = partial(_call, target, ctx, deadline if wants_deadline else None)
        checks.append(Check(check_id, category, deadline, run, advisory=check_id in ADVISORY))
    for target in ctx.config.list("PREFLIGHT_PROJECT_CHECKS"):  # the project's own preflight, one check each
        check_id = f"project:{target.rpartition(':')[2]}"
        deadline = deadline_for(ctx, check_id)
        checks.append(Check(check_id, "project", deadline, partial(_project, ctx, deadline, target)))
    if ctx.config.text("PREFLIGHT_CAMPAIGN"):
        from preflight.checks.campaign import campaign_checks

        checks += campaign_checks(ctx, deadline_for(ctx, "campaign"))
    return checks

