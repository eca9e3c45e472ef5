"""Weights & Biases credentials: present and well-formed, verified offline unless asked otherwise."""

from __future__ import annotations

import base64
import json
import netrc
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from preflight.checks.passing import how_to_pass
from preflight.model import Context, Outcome, failed, passed, skipped, warned

DEFAULT_BASE_URL = "https://api.wandb.ai"
# Classic keys are 40 characters; `local-` and org-prefixed keys keep a 40+ character tail; v1 keys are 86.
_KEY_TAIL = re.compile(r"^[A-Za-z0-9_]{40,}$")


def key_format_ok(key: str) -> bool:
    return len(key) == 86 or bool(_KEY_TAIL.match(key.rsplit("-", 1)[-1]))


def _netrc_key(ctx: Context, host: str) -> tuple[str | None, str]:
    path = Path(ctx.environ.get("NETRC") or Path(ctx.environ.get("HOME") or Path.home()) / ".netrc")
    if not path.is_file():
        return None, f"no netrc at {path}"
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        return None, f"netrc {path} unreadable: {type(exc).__name__}"
    return (entry[2] if entry else None), f"netrc {path}"


def _verify_online(base_url: str, key: str) -> str | None:
    token = base64.b64encode(f"api:{key}".encode()).decode()
    body = json.dumps({"query": "query { viewer { id } }"}).encode()
    request = urllib.request.Request(f"{base_url}/graphql", data=body, method="POST",
                                     headers={"Authorization": f"Basic {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            viewer = json.loads(response.read()).get("data", {}).get("viewer")
    except Exception as exc:  # any transport or HTTP error means "not verified"
        return f"online verification failed: {type(exc).__name__}"
    return None if viewer else "online verification: the key is not accepted"


def check_wandb(ctx: Context) -> Outcome:
    mode = ctx.config.text("WANDB_CHECK")
    if mode == "off":
        return skipped("WANDB_CHECK=off")
    base_url = ctx.environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL
    host = urlparse(base_url).hostname or "api.wandb.ai"
    key, source = ctx.environ.get("WANDB_API_KEY", "").strip() or None, "WANDB_API_KEY"
    if key is None:
        key, source = _netrc_key(ctx, host)
    problem = None
    if key is None:
        problem = f"no W&B key: WANDB_API_KEY unset and {source} has no entry for {host}"
    elif not key_format_ok(key):
        problem = f"W&B key from {source} is malformed ({len(key)} characters)"
    elif ctx.config.flag("WANDB_VERIFY_ONLINE"):
        problem = _verify_online(base_url, key)
    if problem is None:
        return passed(f"W&B key present ({source}, host {host})", source=source, host=host)
    remedy = how_to_pass(ctx, ["WANDB_API_KEY"]) if key is None else \
        "replace the key: a W&B key is 40 characters (https://wandb.ai/authorize)"
    return failed(problem, remedy) if mode == "required" else warned(problem, remedy)
