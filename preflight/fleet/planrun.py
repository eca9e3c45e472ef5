"""Every ssm project's launch plan at once (`python -m preflight.aws plan`, the code every ssm run uses),
each in its own process under a deadline, its lines prefixed with the project name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from preflight.child import RUN_MODULE
from preflight.fleet.configs import Member

PLAN_DEADLINE_S = 120  # the plan's calls run at once, each under 10 s; this only bounds a wedged process
PLANS_AT_ONCE = 8  # each plan makes ~8 calls at once: 64 describe calls in flight at most


def _pairs(member: Member, directory: Path) -> Path:
    """The resolved config as the launcher's NUL-separated KEY=VALUE file (config keys only, 0600)."""
    path = directory / f"{member.project}.pairs"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(b"".join(f"{k}={v}\0".encode() for k, v in member.config.values.items()))
    return path


def _failed_plan(message: str) -> dict[str, Any]:
    return {"exit_code": 2, "candidates": [], "pruned": [], "checks": [{"id": "plan", "status": "fail",
                                                                      "message": message}]}


def plan_one(member: Member, out_dir: Path, scratch: Path, tool_root: Path) -> dict[str, Any]:
    out = out_dir / f"{member.project}.json"
    # RUN_MODULE, not -m: the working directory (a training repository?) stays off sys.path.
    command = [sys.executable, str(RUN_MODULE), "preflight.aws", "plan", "--env-file", str(_pairs(member, scratch)),
               "--run-id", member.run_id, "--mode", "preflight-only",
               "--budget-seconds", member.config.text("RUN_BUDGET_SECONDS"), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(tool_root)}
    try:
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=PLAN_DEADLINE_S)
        text = done.stderr
    except subprocess.TimeoutExpired as exc:
        text = (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        text += f"\nplan: no answer within {PLAN_DEADLINE_S}s"
    for line in text.splitlines():
        print(f"[{member.project}] {line}", file=sys.stderr, flush=True)
    try:
        return json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        plan = _failed_plan(f"the launch plan wrote no plan.json ({text.strip().splitlines()[-1:] or '?'})")
        out.write_text(json.dumps(plan, indent=2) + "\n", encoding="utf-8")
        return plan


def plan_all(members: list[Member], out_dir: Path, tool_root: Path) -> dict[str, dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="preflight-all-plan-") as scratch, \
            ThreadPoolExecutor(max_workers=max(1, min(PLANS_AT_ONCE, len(members)))) as pool:
        futures = {m.project: pool.submit(plan_one, m, out_dir, Path(scratch), tool_root) for m in members}
        return {project: future.result() for project, future in futures.items()}
