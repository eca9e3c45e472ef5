"""The campaign file: load it, apply LOAD_CAMPAIGN's own validation (R8), and hash it as the consumer does."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

REQUIRED = {
    "campaign": ("name",),
    "project": ("repo", "smoke_test_command"),
    "wandb": ("entity", "project"),
    "compute": ("provider", "accelerator", "num_sweep_agents", "max_budget_usd"),
    "objective": ("metric", "direction", "improvement_threshold"),
    "proposal_policy": ("current_target",),
    "stop_conditions": ("max_iterations", "max_no_improve_iterations"),
}
_PLACEHOLDER = re.compile(r"YOUR_|replace-me|<[^<>]*>")


class CampaignUsageError(Exception):
    """Missing file, malformed YAML, or a root that is not a mapping: exit 2, nothing written."""


def load(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CampaignUsageError(f"{path}: campaign file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignUsageError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise CampaignUsageError(f"{path}{where}: malformed YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise CampaignUsageError(f"{path}: the root must be a mapping, not {type(data).__name__}")
    return data


def get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ranges(data: dict[str, Any]) -> list[str]:
    problems = []
    if get(data, "objective.direction") not in ("maximize", "minimize"):
        problems.append("objective.direction must be maximize or minimize")
    agents = get(data, "compute.num_sweep_agents")
    if not (_integer(agents) and 1 <= agents <= 16):
        problems.append("compute.num_sweep_agents must be an integer in [1, 16]")
    budget = get(data, "compute.max_budget_usd")
    if not (_number(budget) and 0 < budget <= 100):
        problems.append("compute.max_budget_usd must be a number in (0, 100]")
    idle = get(data, "compute.idle_timeout_minutes")
    if idle is not None and not (_integer(idle) and 5 <= idle <= 60):
        problems.append("compute.idle_timeout_minutes must be an integer in [5, 60]")
    threshold = get(data, "objective.improvement_threshold")
    if not (_number(threshold) and threshold > 0):
        problems.append("objective.improvement_threshold must be a number > 0")
    for key in ("stop_conditions.max_iterations", "stop_conditions.max_no_improve_iterations"):
        if not (_integer(get(data, key)) and get(data, key) > 0):
            problems.append(f"{key} must be a positive integer")
    return problems


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def validate(data: dict[str, Any]) -> list[str]:
    """What LOAD_CAMPAIGN would reject, one line per problem; empty when it would accept the campaign."""
    problems = [f"missing top-level section {top}" for top in REQUIRED if not isinstance(data.get(top), dict)]
    problems += [f"missing {top}.{key}" for top, keys in REQUIRED.items() if isinstance(data.get(top), dict)
                 for key in keys if data[top].get(key) is None]
    if problems:
        return problems
    problems += _ranges(data)
    for where in ("project.repo", "project.smoke_test_command", "wandb"):
        if any(_PLACEHOLDER.search(text) for text in _strings(get(data, where))):
            problems.append(f"{where} contains a placeholder (YOUR_..., replace-me or <...>)")
    return problems


def digest(payload: dict[str, Any]) -> str:
    """The consumer's hash: sha256 of compact, key-sorted, ASCII-escaped JSON."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def identity_hash(data: dict[str, Any]) -> str:
    return digest({"campaign_name": get(data, "campaign.name"),
                   "objective": {"metric": get(data, "objective.metric"),
                                 "direction": get(data, "objective.direction")},
                   "wandb": {"entity": get(data, "wandb.entity"), "project": get(data, "wandb.project")}})


def runtime_hash(data: dict[str, Any]) -> str:
    compute = data.get("compute")
    return digest({"compute": compute if isinstance(compute, dict) else None,
                   "wandb": {"entity": get(data, "wandb.entity"), "project": get(data, "wandb.project")},
                   "project": {"repo": get(data, "project.repo"),
                               "smoke_test_command": get(data, "project.smoke_test_command")}})
