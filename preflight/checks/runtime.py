"""The machine itself: the Python training runs on, free disk, memory, and optionally a GPU.

The Python judged is the project venv's (MIN_PYTHON is about the interpreter training uses), read by
its own child; the GPU is seen by nvidia-smi, else through the project's own torch in a child — the
probe's venv holds no torch.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys

from packaging.version import Version

from preflight.checks.project_venv import SnapshotError, project_torch, snapshot
from preflight.model import Context, Outcome, failed, passed, skipped, warned

_GIB = 1024**3


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def check_runtime(ctx: Context, deadline_s: float) -> Outcome:
    problems: list[str] = []
    try:
        project = snapshot(ctx, deadline_s)
        python, executable = project.version, project.executable
    except SnapshotError as exc:
        python, executable = "unknown", ""
        problems.append(f"could not ask the project venv's Python: {exc}")
    minimum = ctx.config.text("MIN_PYTHON")
    if executable and Version(python) < Version(minimum):
        problems.append(f"python {python} < MIN_PYTHON {minimum}")
    free = shutil.disk_usage(os.getcwd()).free
    if free < ctx.config.float("MIN_FREE_DISK_GB") * _GIB:
        problems.append(f"{free / _GIB:.1f} GiB free in {os.getcwd()} < MIN_FREE_DISK_GB")
    memory = _available_memory()
    if memory is not None and memory < ctx.config.float("MIN_MEMORY_GB") * _GIB:
        problems.append(f"{memory / _GIB:.1f} GiB memory available < MIN_MEMORY_GB")
    details = {"python": python, "executable": executable, "probe_python": platform.python_version(),
               "probe_executable": sys.executable, "disk_free_gib": round(free / _GIB, 1),
               "memory_available_gib": round(memory / _GIB, 1) if memory else None}
    if problems:
        return failed("; ".join(problems), "use a larger instance type or root volume in workflow.env",
                      **details)
    return passed(f"python {python}, {free / _GIB:.0f} GiB disk free, "
                  f"{(memory or 0) / _GIB:.1f} GiB memory available", **details)


def _gpu_problem(ctx: Context, deadline_s: float) -> tuple[str | None, str]:
    """(the problem or None, how the GPU was seen)."""
    smi = shutil.which("nvidia-smi", path=ctx.environ.get("PATH", os.defpath))
    if smi:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
        if done.returncode == 0 and "GPU" in done.stdout:
            return None, "nvidia-smi -L"
        return f"nvidia-smi -L exited {done.returncode}: {(done.stderr or done.stdout).strip()[:120]}", ""
    torch = project_torch(ctx, deadline_s)
    if torch.get("error"):
        return f"the project's torch could not answer: {torch['error']}", ""
    if torch["torch"] is None:
        return "no nvidia-smi on PATH and torch is not installed in the project venv", ""
    seen = f"torch {torch['torch']} in the project venv"
    return (None, seen) if torch["cuda"] else ("torch.cuda.is_available() is False", seen)


def check_gpu(ctx: Context, deadline_s: float) -> Outcome:
    mode = ctx.config.text("GPU_CHECK")
    if mode == "off":
        return skipped("GPU_CHECK=off")
    problem, seen = _gpu_problem(ctx, deadline_s)
    if problem is None:
        return passed(f"GPU visible ({seen})")
    remedy = "pick a GPU instance type and an AMI with the NVIDIA driver"
    return failed(problem, remedy) if mode == "required" else warned(problem, remedy)
