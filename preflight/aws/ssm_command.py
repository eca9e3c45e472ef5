"""The text of one SSM Run Command: the step script and the run's config travel inline, in base64.

Nothing goes through S3. The step runs with `env -i`, like the local transport, so only the config,
PASS_ENV and what bootstrap exports reach it. The bootstrap command also carries the payload (the
preflight package and, without REPO_URL, the project) as a base64 tar.gz.
"""

from __future__ import annotations

import base64
import io
import shlex
import tarfile
from pathlib import Path

# Well under what one SendCommand request may carry.
MAX_COMMAND_BYTES = 96 * 1024
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    parts = Path(info.name).parts
    return None if "__pycache__" in parts or any(p.startswith((".venv", ".git")) for p in parts) else info


def payload(tool_root: Path, project_dir: Path | None) -> str:
    """base64 of a tar.gz holding preflight/ and, when given, project/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(tool_root / "preflight", arcname="preflight", filter=_skip)
        if project_dir is not None:
            tar.add(project_dir, arcname="project", filter=_skip)
    return base64.b64encode(buffer.getvalue()).decode()


def build(*, step: str, script: str, env: dict[str, str], work_dir: str, run_id: str, mode: str,
          instance_id: str, payload_b64: str | None) -> str:
    q = shlex.quote
    b64 = base64.b64encode(script.encode()).decode()
    lines = [
        "set -eu",
        f"mkdir -p {q(work_dir)} && cd {q(work_dir)}",
        'root="$PWD"',
        f'host="$root/runs/{run_id}"',
        'mkdir -p "$host/steps" "$host/home" "$host/payload" "$root/image"',
    ]
    if payload_b64 is not None:
        lines.append(f'printf %s {q(payload_b64)} | base64 -d | tar -xzf - -C "$host/payload"')
    lines.append(f'printf %s {q(b64)} | base64 -d > "$host/steps/{step}.sh"')
    fixed = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "PF_STEP": step, "PREFLIGHT_INSTANCE_ID": instance_id,
             "PREFLIGHT_RUN_ID": run_id, "PREFLIGHT_MODE": mode}
    pairs = " ".join(q(f"{k}={v}") for k, v in {**env, **fixed}.items())
    lines.append(
        f'exec env -i {pairs} HOME="$host/home" PF_HOST_DIR="$host" PF_IMAGE_DIR="$root/image" '
        f'PF_TOOL_SRC="$host/payload" PF_PROJECT_SRC="$host/payload/project" bash "$host/steps/{step}.sh" 2>&1')
    text = "\n".join(lines) + "\n"
    if len(text.encode()) > MAX_COMMAND_BYTES:
        raise ValueError(f"the {step} command is {len(text.encode())} bytes, over {MAX_COMMAND_BYTES}; "
                         "set REPO_URL so the project is cloned on the host instead of shipped inline")
    return text
