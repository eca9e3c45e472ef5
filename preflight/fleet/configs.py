"""Every config of a fleet run, validated before anything starts: one bad config or one PROJECT_NAME
used twice stops the whole run (exit 2) naming the file and key, and nothing is launched for anyone."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from preflight.config import Config, ConfigError, load, validate_for_run

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PROJECTS = 200
MAX_RUN_ID = 64


@dataclass(frozen=True)
class Member:
    """One project of the fleet: its config, and the run id its own spot_train.sh run gets."""

    project: str
    transport: str
    region: str
    config_path: str
    run_id: str
    config: Config

    def row(self) -> str:
        return "\t".join((self.project, self.transport, self.region, self.config_path, self.run_id))


def child_run_id(fleet_run_id: str, project: str, index: int) -> str:
    """`<fleet run id>-<project>`, unique per project (the local sandbox and the ssm RunId tag, which
    teardown terminates by, must never be shared); shortened with a digest when it would pass 64."""
    full = f"{fleet_run_id}-{project}"
    if len(full) <= MAX_RUN_ID:
        return full
    digest = hashlib.sha256(project.encode()).hexdigest()[:8]
    return f"{fleet_run_id}-{index:03d}-{digest}"[:MAX_RUN_ID]


def load_one(path: str, environ: Mapping[str, str], transport: str) -> Config:
    """What `python -m preflight config --config PATH --for-run [--set TRANSPORT=...]` checks."""
    if _CONTROL.search(path):
        raise ConfigError(f"{path!r}: a config path with a control character cannot be handed to bash")
    overrides = {"TRANSPORT": transport} if transport else {}
    config = load(Path(path), environ, overrides)
    validate_for_run(config)
    return config


def load_all(paths: list[str], environ: Mapping[str, str], transport: str, fleet_run_id: str
             ) -> tuple[list[Member], list[str]]:
    """The fleet's members in argument order, and every problem found (all of them, not the first)."""
    problems: list[str] = []
    if len(paths) > MAX_PROJECTS:
        return [], [f"{len(paths)} configs: at most {MAX_PROJECTS} in one run"]
    members: list[Member] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(paths):
        try:
            config = load_one(raw, environ, transport)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        resolved = str(Path(raw).resolve())
        name = config.text("PROJECT_NAME")
        if name in seen:
            origin = " (both from the environment variable PROJECT_NAME)" if "PROJECT_NAME" in environ else ""
            problems.append(f"{raw}: PROJECT_NAME={name!r} is also the project of {seen[name]}{origin}: "
                            "each project's results, venv and instance are keyed by it, so every config "
                            "needs its own")
            continue
        seen[name] = raw
        members.append(Member(name, config.text("TRANSPORT"), config.text("AWS_REGION"), resolved,
                              child_run_id(fleet_run_id, name, index), config))
    return members, problems
