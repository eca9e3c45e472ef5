"""PREFLIGHT_CAMPAIGN: the campaign's repo checks (R1-R9) and repo_access, proven on the training host.

The probe never writes, so nothing is bootstrapped here: a missing .ml-metaopt layout fails with the
command that creates it. The campaign path is relative to the project directory (the probe's cwd).
"""

from __future__ import annotations

import os
from pathlib import Path

from preflight.model import Check, Context, Once, Outcome, failed, passed, warned

IDS = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "repo_access")


def _evaluate(ctx: Context, deadline_s: float) -> dict[str, Outcome]:
    from preflight.campaign import backend, repo, spec

    path = Path(ctx.config.text("PREFLIGHT_CAMPAIGN"))
    try:
        data = spec.load(path)
    except spec.CampaignUsageError as exc:
        return {check_id: failed(str(exc), "fix PREFLIGHT_CAMPAIGN or the campaign file") for check_id in IDS}
    cwd = Path(os.getcwd())
    layout, _ = repo.layout(cwd, False, f"preflight campaign --campaign {path} --cwd {cwd}")
    found = layout + repo.config(data) + [backend.repo_access(spec.get(data, "project.repo"), ctx.environ,
                                                              deadline_s)]
    make = {"pass": passed, "warn": warned}
    return {v.check_id: make[v.status](v.message) if v.status in make else failed(v.message, v.remediation)
            for v in found}


def campaign_checks(ctx: Context, deadline_s: float) -> list[Check]:
    once = Once()  # one evaluation shared by the ten checks of this probe

    def one(check_id: str) -> Outcome:
        return once.get(lambda: _evaluate(ctx, deadline_s))[check_id]

    return [Check(f"campaign.{check_id}", "campaign", deadline_s, lambda c=check_id: one(c)) for check_id in IDS]
