"""The text of one SSM Run Command: the step script and the run's config travel inline, in base64.

Nothing goes through S3. The step runs with `env -i`, like the local transport, so only the config,
PASS_ENV and what bootstrap exports reach it. Before bootstrap, the payload (the preflight package
and, without REPO_URL, the project) is sent as a base64 tar.gz in pieces, each its own command
under SSM's 64 KB limit and its own file; the bootstrap command joins them, checks the sha256 of the
whole and unpacks it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shlex
import tarfile
from pathlib import Path

# SSM refuses a document plus its parameters over 64 KB (MaxDocumentSizeExceeded); what we send is
# JSON-encoded, so measure that and keep a margin for the request's other fields.
MAX_COMMAND_BYTES = 60 * 1024
# The payload travels as base64 pieces of this size, each written to its own file by its own command.
PAYLOAD_CHUNK_CHARS = 48 * 1024
# More pieces than this (about 2 MB of compressed code) is not a project's code any more: each piece is
# a command, minutes of sending; the run stops before launch and names what to leave out.
MAX_PAYLOAD_PIECES = 40
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Never shipped: version control, this tool's own state, caches; and venvs (a pyvenv.cfg) and data
# directories (these names, unless they are Python packages) whatever they are called or wherever.
_NEVER = {".git", ".hg", ".svn", ".preflight", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
          "node_modules", ".ipynb_checkpoints"}
_DATA_DIRS = {"data", "datasets", "checkpoints", "wandb", "mlruns", "artifacts", "outputs", "lightning_logs"}


def _skip_dir(path: Path) -> bool:
    name = path.name
    if name in _NEVER or name.startswith(".venv") or (path / "pyvenv.cfg").exists():
        return True
    return name in _DATA_DIRS and not (path / "__init__.py").exists()


def _filter(root: Path, arcname: str):
    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        relative = Path(info.name).relative_to(arcname) if info.name != arcname else Path()
        path = root
        for part in relative.parts:
            path = path / part
            if path.is_dir() and _skip_dir(path):
                return None
        return info
    return keep


def payload(tool_root: Path, project_dir: Path | None, lint_seed: Path | None = None) -> str:
    """base64 of a tar.gz holding preflight/ and, when given, project/ (without what is never shipped) and
    the launcher's lint facts (lint-seed.json)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(tool_root / "preflight", arcname="preflight", filter=_filter(tool_root / "preflight", "preflight"))
        if project_dir is not None:
            tar.add(project_dir, arcname="project", filter=_filter(project_dir, "project"))
        if lint_seed is not None:
            tar.add(lint_seed, arcname="lint-seed.json")
    return base64.b64encode(buffer.getvalue()).decode()


def pieces(payload_b64: str) -> int:
    return -(-len(payload_b64) // PAYLOAD_CHUNK_CHARS)


def largest_entries(project_dir: Path, count: int = 5) -> list[tuple[str, int]]:
    """The project's biggest top-level entries that would be shipped (bytes), to say what to leave out."""
    sizes = []
    for entry in project_dir.iterdir():
        if entry.is_dir() and _skip_dir(entry):
            continue
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()
                                                     and not any(_skip_dir(d) for d in p.parents if entry in
                                                                 [d, *d.parents])]
        sizes.append((entry.name, sum(p.stat().st_size for p in files)))
    return sorted(sizes, key=lambda item: -item[1])[:count]


def _prologue(work_dir: str, run_id: str) -> list[str]:
    q = shlex.quote
    return ["set -eu", f"mkdir -p {q(work_dir)} && cd {q(work_dir)}", 'root="$PWD"', f'host="$root/runs/{run_id}"',
            'mkdir -p "$host/steps" "$host/home" "$host/payload" "$root/image"']


def _checked(text: str, what: str) -> str:
    size = len(json.dumps(text).encode())
    if size > MAX_COMMAND_BYTES:
        raise ValueError(f"the {what} command is {size} bytes, over SSM's 64 KB document limit; "
                         "shorten the config values it carries (PASS_ENV values, long lists)")
    return text


def payload_chunks(payload_b64: str, *, work_dir: str, run_id: str) -> list[str]:
    """Commands that put the payload on the host piece by piece, so any project size fits. Each piece
    is its own file: a SendCommand that is retried, or delivered twice, rewrites it harmlessly."""
    pieces = [payload_b64[i:i + PAYLOAD_CHUNK_CHARS] for i in range(0, len(payload_b64), PAYLOAD_CHUNK_CHARS)]
    return [_checked("\n".join([*_prologue(work_dir, run_id), 'mkdir -p "$host/pieces"',
                                f'printf %s {shlex.quote(piece)} > "$host/pieces/{n:04d}"']) + "\n",
                     f"payload {n + 1}/{len(pieces)}")
            for n, piece in enumerate(pieces)]


def _unpack(payload_b64: str) -> list[str]:
    """Join the pieces, check the whole against its hash, unpack; any failure stops the command."""
    digest = hashlib.sha256(payload_b64.encode()).hexdigest()
    return ['cat "$host"/pieces/* > "$host/payload.b64"',
            f'echo "{digest}  $host/payload.b64" | sha256sum -c --quiet - || '
            '{ echo "payload damaged in transit (sha256 mismatch)" >&2; exit 1; }',
            'base64 -d < "$host/payload.b64" > "$host/payload.tgz"',
            'tar -xzf "$host/payload.tgz" -C "$host/payload"',
            'rm -rf "$host/pieces" "$host/payload.b64" "$host/payload.tgz"']


def build(*, step: str, script: str, env: dict[str, str], work_dir: str, run_id: str, mode: str,
          instance_id: str, payload_b64: str | None) -> str:
    q = shlex.quote
    b64 = base64.b64encode(script.encode()).decode()
    lines = _prologue(work_dir, run_id)
    if payload_b64 is not None:
        lines += _unpack(payload_b64)
    lines.append(f'printf %s {q(b64)} | base64 -d > "$host/steps/{step}.sh"')
    fixed = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "PF_STEP": step, "PREFLIGHT_INSTANCE_ID": instance_id,
             "PREFLIGHT_RUN_ID": run_id, "PREFLIGHT_MODE": mode}
    pairs = " ".join(q(f"{k}={v}") for k, v in {**env, **fixed}.items())
    lines.append(
        f'exec env -i {pairs} HOME="$host/home" PF_HOST_DIR="$host" PF_IMAGE_DIR="$root/image" '
        f'PF_TOOL_SRC="$host/payload" PF_PROJECT_SRC="$host/payload/project" bash "$host/steps/{step}.sh" 2>&1')
    return _checked("\n".join(lines) + "\n", step)
