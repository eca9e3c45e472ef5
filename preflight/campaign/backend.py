"""The backend checks: report and guide, never mutate. Ids are part of the campaign contract."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import partial
from typing import Any

from preflight.campaign.repo import Verdict
from preflight.campaign.spec import get

REPO_ACCESS_DEADLINE_S = 20.0


def _probe_check(environ: Mapping[str, str], key: str, target: str) -> tuple[str, str, str]:
    """Our probe's own check (skypilot/Vast or W&B) in required mode: (status, message, remediation)."""
    import importlib

    from preflight.config import load
    from preflight.model import Context

    module, _, name = target.partition(":")
    ctx = Context(config=load(None, {}, {key: "required"}), environ=dict(environ), base_dir=os.getcwd())
    outcome = getattr(importlib.import_module(module), name)(ctx)
    return outcome.status, outcome.message, outcome.remediation


def repo_access(repo: Any, environ: Mapping[str, str], deadline_s: float = REPO_ACCESS_DEADLINE_S) -> Verdict:
    if not isinstance(repo, str) or not repo.strip():
        return Verdict("repo_access", "backend", "fail", "project.repo is empty: nothing to reach",
                       "set project.repo")
    # Never prompt: no terminal prompt, no askpass, ssh in batch mode.
    env = {**environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true",
           "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=10"}
    try:
        run = subprocess.run(["git", "ls-remote", "--exit-code", repo, "HEAD"], env=env, capture_output=True,
                             text=True, timeout=deadline_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Verdict("repo_access", "backend", "fail", f"git ls-remote {repo} did not answer within "
                       f"{deadline_s:.0f}s", "check the network path and credentials to the repository")
    except FileNotFoundError:
        return Verdict("repo_access", "backend", "fail", "git is not installed", "install git")
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1]
        return Verdict("repo_access", "backend", "fail", f"git ls-remote {repo} failed: {why}",
                       f"check that this host can read {repo} (deploy key, token, or URL)")
    return Verdict("repo_access", "backend", "pass", f"{repo} is reachable (HEAD {run.stdout.split()[0][:12]})")


def checks(data: dict[str, Any], environ: Mapping[str, str]) -> list[Any]:
    """(id, function) pairs, run concurrently by the caller under its deadline."""
    return [
        ("skypilot_installed", lambda: Verdict(
            "skypilot_installed", "backend", "pass" if shutil.which("sky", path=environ.get("PATH")) else "fail",
            "`sky` is on PATH" if shutil.which("sky", path=environ.get("PATH")) else "`sky` is not on PATH",
            "pip install 'skypilot[vast]' into the environment that runs the campaign")),
        ("vast_configured", partial(_verdict, "vast_configured", _probe_check, environ, "SKYPILOT_CHECK",
                                    "preflight.checks.skypilot:check_skypilot")),
        ("wandb_credentials", partial(_verdict, "wandb_credentials", _probe_check, environ, "WANDB_CHECK",
                                      "preflight.checks.wandb:check_wandb")),
        ("repo_access", partial(repo_access, get(data, "project.repo"), environ)),
        ("smoke_test_command_nonempty", lambda: _smoke(data)),
    ]


def _verdict(check_id: str, probe: Any, *args: Any) -> Verdict:
    status, message, remediation = probe(*args)
    return Verdict(check_id, "backend", "pass" if status == "pass" else "fail", message, remediation)


def _smoke(data: dict[str, Any]) -> Verdict:
    smoke = get(data, "project.smoke_test_command")
    ok = isinstance(smoke, str) and bool(smoke.strip())
    return Verdict("smoke_test_command_nonempty", "backend", "pass" if ok else "warn",
                   "project.smoke_test_command is set" if ok else "project.smoke_test_command is empty: "
                   "trials will not be smoke-tested", "" if ok else "set project.smoke_test_command")
