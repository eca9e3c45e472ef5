"""`preflight campaign --campaign PATH [--cwd DIR] [--json]`: exit 0 READY, 1 FAILED, 2 usage (nothing written)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from preflight.campaign import backend, readiness, repo, spec

ARTIFACT = Path(repo.META) / "preflight-readiness.json"
BACKEND_DEADLINE_S = 30.0


def _backend(data: dict, environ: Mapping[str, str]) -> list[repo.Verdict]:
    pool = ThreadPoolExecutor(max_workers=5, thread_name_prefix="campaign")
    futures = [(check_id, pool.submit(run)) for check_id, run in backend.checks(data, environ)]
    started, out = time.monotonic(), []
    for check_id, future in futures:
        try:
            out.append(future.result(timeout=max(0.0, BACKEND_DEADLINE_S - (time.monotonic() - started))))
        except FutureTimeout:
            out.append(repo.Verdict(check_id, "backend", "fail", f"no answer within {BACKEND_DEADLINE_S:.0f}s",
                                    "find what hangs (network, a prompt) and rerun"))
        except Exception as exc:  # noqa: BLE001 - a crashing check is a failed check, never a crashed run
            out.append(repo.Verdict(check_id, "backend", "fail", f"check raised {type(exc).__name__}: {exc}"))
    pool.shutdown(wait=False)
    return out


def verdicts(data: dict, cwd: Path, environ: Mapping[str, str], bootstrap: bool,
             remedy: str) -> tuple[list[repo.Verdict], list[str]]:
    layout, actions = repo.layout(cwd, bootstrap, remedy)
    return layout + repo.config(data) + _backend(data, environ), actions


def run(campaign: Path, cwd: Path, as_json: bool, environ: Mapping[str, str]) -> int:
    from preflight.artifact import write_atomic
    from preflight.report import check_lines, use_color

    try:
        data = spec.load(campaign)
    except spec.CampaignUsageError as exc:
        print(f"preflight campaign: {exc}", file=sys.stderr)
        return 2
    if not cwd.is_dir():
        print(f"preflight campaign: --cwd {cwd} is not a directory", file=sys.stderr)
        return 2
    started = time.monotonic()
    found, actions = verdicts(data, cwd, environ, True, f"preflight campaign --campaign {campaign} --cwd {cwd}")
    artifact = readiness.build(found, data, time.monotonic() - started, actions)
    write_atomic(artifact, cwd / ARTIFACT)
    if as_json:
        print(json.dumps(artifact, sort_keys=True))
    else:
        rows = [{**c, "duration_s": 0.0, "status": c["status"]} for c in artifact["checks"]]
        print("\n".join(check_lines(rows, use_color(environ, sys.stdout.isatty()))))
        s = artifact["checks_summary"]
        print(f"{artifact['status']}: {s['passed']} passed, {s['failed']} failed, {s['bootstrapped']} bootstrapped, "
              f"{s['warnings']} warnings of {s['total']} checks · {cwd / ARTIFACT}")
        if artifact["status"] != "READY":
            print(f"next action: {artifact['next_action']}")
    return 0 if artifact["status"] == "READY" else 1
