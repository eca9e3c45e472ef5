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


# A campaign file is a page of settings: these bounds are far above any real one and far below what
# hangs or crashes a reader (a billion-laughs alias bomb, 5000-deep brackets, a 5000-digit integer).
MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000  # after alias expansion: what hashing and validation will walk
MAX_INT = 2**63
_REFUSED_TAGS = {
    "tag:yaml.org,2002:timestamp": "a date or time (quote it to keep it as text)",
    "tag:yaml.org,2002:binary": "!!binary data",
    "tag:yaml.org,2002:set": "a !!set",
    "tag:yaml.org,2002:omap": "an !!omap",
    "tag:yaml.org,2002:pairs": "!!pairs",
}


class CampaignUsageError(Exception):
    """Missing file, malformed YAML, or a root that is not a mapping: exit 2, nothing written."""


def _loader() -> type:
    """A SafeLoader that builds only what JSON can hold and the consumer hashes: mappings with string
    keys, lists, strings, booleans, null, integers below 2**63 and finite floats; nesting and alias
    expansion bounded. Everything else is a YAMLError at the node's line."""
    import math

    import yaml
    from yaml.constructor import ConstructorError

    def refuse(node: yaml.Node, what: str) -> ConstructorError:
        return ConstructorError(None, None, what, node.start_mark)

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels",
                                                      self.peek_event().start_mark)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_document(self, node):  # type: ignore[no-untyped-def]
            _expanded_size(node)
            return super().construct_document(node)

        def construct_yaml_int(self, node):  # type: ignore[no-untyped-def]
            digits = len(str(node.value).lstrip("+-").replace("_", ""))
            if digits > 20:
                raise refuse(node, f"an integer of {digits} digits (at most {MAX_INT:,} in size)")
            value = super().construct_yaml_int(node)
            if abs(value) >= MAX_INT:
                raise refuse(node, f"the integer {value} is out of range (below {MAX_INT:,} in size)")
            return value

        def construct_yaml_float(self, node):  # type: ignore[no-untyped-def]
            value = super().construct_yaml_float(node)
            if not math.isfinite(value):
                raise refuse(node, f"{node.value!r} is not a finite number")
            return value

        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            self.flatten_mapping(node)
            for key_node, _ in node.value:
                if key_node.tag != "tag:yaml.org,2002:str":
                    raise refuse(key_node, f"the mapping key {key_node.value!r} is not a string (quote it)")
            return super().construct_mapping(node, deep)

    def refused(loader: Loader, node: yaml.Node) -> None:
        raise refuse(node, f"{_REFUSED_TAGS[node.tag]} is not allowed")

    for tag in _REFUSED_TAGS:
        Loader.add_constructor(tag, refused)
    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    return Loader


def _expanded_size(root) -> int:  # type: ignore[no-untyped-def]
    """Nodes after alias expansion (each alias counts its whole target again), without expanding
    anything; a recursive alias or more than MAX_NODES is a YAMLError."""
    import yaml
    from yaml.composer import ComposerError

    sizes: dict[int, int] = {}
    busy: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            children = _children(node)
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            busy.discard(id(node))
            if sizes[id(node)] > MAX_NODES:
                raise ComposerError(None, None, f"aliases expand to more than {MAX_NODES:,} values (an alias bomb?)",
                                    node.start_mark)
            continue
        if id(node) in sizes:
            continue
        if id(node) in busy:
            raise ComposerError(None, None, "a recursive alias (a value that contains itself)", node.start_mark)
        busy.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    assert isinstance(root, yaml.Node)
    return sizes[id(root)]


def _children(node) -> list:  # type: ignore[no-untyped-def]
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def load(path: Path) -> dict[str, Any]:
    """The campaign as plain JSON-able data, or CampaignUsageError naming the file (and line)."""
    import yaml

    from preflight.bounded import NotRegular, read_regular

    try:
        text = read_regular(path, MAX_BYTES, "a campaign file").decode("utf-8")
    except FileNotFoundError:
        raise CampaignUsageError(f"{path}: campaign file not found") from None
    except (OSError, UnicodeDecodeError, NotRegular) as exc:
        raise CampaignUsageError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_loader())  # noqa: S506 - a restricted SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        label = "" if isinstance(exc, yaml.constructor.ConstructorError) else "malformed YAML: "
        raise CampaignUsageError(f"{path}{where}: {label}{getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise CampaignUsageError(f"{path}: malformed YAML: nested too deeply") from None
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
