"""paths: the files, directories and S3 objects training reads must exist before it starts.

PREFLIGHT_PATHS names them (relative to the project, absolute, `s3://bucket/key`, or
`s3://bucket/prefix/` for "at least one object under it"): a missing one fails. Arguments of
TRAIN_CMD / SMOKE_CMD that look like local input paths (`./x`, `../x`, `/x`, or a data or model file
name) and do not exist are a warning: the command says training will read them. So is a file the entry
(a script, or the module `-m` runs) reads by name inside a function or branch; one it reads whenever it
starts fails (preflight/checks/code_paths.py).
S3 is read-only here: HeadObject and ListObjectsV2, nothing else.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from preflight.checks.aws_env import _describe, _s3_client
from preflight.checks.code_paths import entry_reads
from preflight.checks.entrypoint import entries_of, project_roots
from preflight.entry.command import Entry
from preflight.model import Context, Outcome, failed, passed, skipped, warned

_DATA = re.compile(r"\.(jsonl?|csv|tsv|parquet|arrow|feather|npy|npz|pkl|pickle|h5|hdf5|pt|pth|bin|ckpt|"
                   r"safetensors|onnx|joblib|yaml|yml|toml|gz|zip|tar|txt|model)$", re.IGNORECASE)
# Options whose value is something training writes, not reads.
_OUTPUT_OPTION = re.compile(r"out|save|log|dump|export|cache|result|report|tensorboard|wandb|run_name|work_?dir|"
                            r"(ckpt|checkpoint)_?dir", re.I)


def _looks_like_input(value: str) -> bool:
    if not value or any(c in value for c in "$*?{") or "://" in value:
        return False
    return value.startswith(("./", "../", "/", "~/")) or bool(_DATA.search(value))


def derived_paths(entries: list[Entry], project: Path) -> list[tuple[str, Path]]:
    """(shown, path) for each command argument that names a local input."""
    found: list[tuple[str, Path]] = []
    for entry in entries:
        option = ""
        for word in entry.args:
            name, eq, value = word.partition("=")
            if word.startswith("-") and not eq:
                option = word
                continue
            if eq:  # --data_path=./x, or a Hydra-style override data.train_file=data/train.jsonl
                option, word = name, value
            if option and _OUTPUT_OPTION.search(option):
                option = ""
                continue
            option = ""
            if _looks_like_input(word):
                path = Path(os.path.expanduser(word))
                found.append((f"{word} ({entry.source})", path if path.is_absolute() else project / entry.cwd / path))
    return found


def _s3_missing(ctx: Context, specs: list[str], deadline_s: float) -> list[str]:
    if not specs:
        return []
    client = _s3_client(ctx, deadline_s)
    missing = []
    for spec in specs:
        bucket, _, key = spec[len("s3://"):].partition("/")
        try:
            if not key or key.endswith("/"):
                listed = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
                if not listed.get("KeyCount"):
                    missing.append(f"{spec}: no object under this prefix")
            else:
                client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:  # each cause is one readable line
            missing.append(_describe(exc, spec))
    return missing


def check_paths(ctx: Context, deadline_s: float) -> Outcome:
    project = Path(os.getcwd())
    configured = ctx.config.list("PREFLIGHT_PATHS")
    local = [p for p in configured if not p.startswith("s3://")]
    missing = [p for p in local if not (Path(p) if p.startswith("/") else project / p).exists()]
    missing += _s3_missing(ctx, [p for p in configured if p.startswith("s3://")], deadline_s)
    entries = entries_of(ctx, project)
    derived = derived_paths(entries, project)
    absent = [shown for shown, path in derived if not path.exists()]
    code = entry_reads(entries, project, project_roots(ctx, project))
    absent += [p.shown for p in code if not p.certain and not p.path.exists()]
    unread = [p.shown for p in code if p.certain and not p.path.exists()]
    if not configured and not derived and not code:
        return skipped("not configured: set PREFLIGHT_PATHS to the files, directories or s3:// objects "
                       "training reads")
    details = {"configured": configured, "missing": missing, "from_commands": [s for s, _ in derived],
               "from_code": [p.shown for p in code], "missing_from_code": unread, "absent_from_commands": absent}
    if missing or unread:
        said = [f"{len(missing)} of {len(configured)} PREFLIGHT_PATHS missing: {'; '.join(missing)}"] if missing else []
        said += [f"the entry script reads {len(unread)} missing path{'s' if len(unread) > 1 else ''} whenever it "
                 f"starts (training would stop with FileNotFoundError): {'; '.join(unread)}"] if unread else []
        extra = f"; also named by the commands and absent: {', '.join(absent)}" if absent else ""
        return failed("; ".join(said) + extra,
                      "create or sync them (relative paths are under the project, or where the command runs), "
                      "or fix PREFLIGHT_PATHS or the code that names them", **details)
    if absent:
        many = len(absent) > 1
        return warned(f"the training command or its script names {len(absent)} local path{'s' if many else ''} that "
                      f"do{'' if many else 'es'} not exist on the host: {', '.join(absent)}",
                      "make them exist before training (and list them in PREFLIGHT_PATHS to make this a "
                      "failure), or ignore this if training creates them", **details)
    return passed(f"{len(configured)} configured, {len(derived)} command and {len(code)} script paths exist",
                  **details)
