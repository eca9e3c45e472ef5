"""`preflight campaign --campaign PATH [--cwd DIR] [--json]`: exit 0 READY, 1 FAILED, 2 usage (nothing written)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from preflight.campaign import backend, readiness, repo, spec
from preflight.parallel import concurrently

ARTIFACT = Path(repo.META) / "preflight-readiness.json"
BACKEND_DEADLINE_S = 30.0


def _backend(data: dict, environ: Mapping[str, str]) -> list[repo.Verdict]:
    out = []
    for check_id, (answer, _) in concurrently(dict(backend.checks(data, environ)), BACKEND_DEADLINE_S).items():
        if isinstance(answer, TimeoutError):
            out.append(repo.Verdict(check_id, "backend", "fail", str(answer),
                                    "find what hangs (network, a prompt) and rerun"))
        elif isinstance(answer, BaseException):  # a crashing check is a failed check, never a crashed run
            out.append(repo.Verdict(check_id, "backend", "fail", f"check raised {type(answer).__name__}: {answer}"))
        else:
            out.append(answer)
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
    try:  # everything the artifact needs from the file, proven before the first write
        spec.identity_hash(data), spec.runtime_hash(data)
    except (TypeError, ValueError, RecursionError) as exc:
        print(f"preflight campaign: {campaign}: cannot be hashed as LOAD_CAMPAIGN does: {exc}", file=sys.stderr)
        return 2
    outside = repo.escapes(cwd)
    if outside:
        print(f"preflight campaign: refusing to write outside --cwd {cwd}: {'; '.join(outside)} (a link leading "
              "outside it); remove or fix the link; nothing was written", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        found, actions = verdicts(data, cwd, environ, True, f"preflight campaign --campaign {campaign} --cwd {cwd}")
        artifact = readiness.build(found, data, time.monotonic() - started, actions)
        target = Path(os.path.realpath(cwd / ARTIFACT.parent)) / ARTIFACT.name
        if repo.escapes(cwd):  # a link swapped in while the checks ran
            raise repo.OutsideCwd("; ".join(repo.escapes(cwd)))
        write_atomic(artifact, target)
    except repo.OutsideCwd as exc:
        print(f"preflight campaign: refusing to write outside --cwd {cwd}: {exc} (a link leading outside it); "
              "nothing was written there", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"preflight campaign: cannot write inside --cwd {cwd}: {exc}", file=sys.stderr)
        return 2
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
