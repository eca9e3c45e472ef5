"""The machine itself: python version, free disk, memory, and optionally a GPU."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys

from packaging.version import Version

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


def check_runtime(ctx: Context) -> Outcome:
    problems: list[str] = []
    python = platform.python_version()
    minimum = ctx.config.text("MIN_PYTHON")
    if Version(python) < Version(minimum):
        problems.append(f"python {python} < MIN_PYTHON {minimum}")
    free = shutil.disk_usage(os.getcwd()).free
    if free < ctx.config.float("MIN_FREE_DISK_GB") * _GIB:
        problems.append(f"{free / _GIB:.1f} GiB free in {os.getcwd()} < MIN_FREE_DISK_GB")
    memory = _available_memory()
    if memory is not None and memory < ctx.config.float("MIN_MEMORY_GB") * _GIB:
        problems.append(f"{memory / _GIB:.1f} GiB memory available < MIN_MEMORY_GB")
    details = {"python": python, "executable": sys.executable, "disk_free_gib": round(free / _GIB, 1),
               "memory_available_gib": round(memory / _GIB, 1) if memory else None}
    if problems:
        return failed("; ".join(problems), "use a larger instance type or root volume in workflow.env",
                      **details)
    return passed(f"python {python}, {free / _GIB:.0f} GiB disk free, "
                  f"{(memory or 0) / _GIB:.1f} GiB memory available", **details)


def _gpu_problem() -> str | None:
    smi = shutil.which("nvidia-smi")
    if smi:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
        if done.returncode == 0 and "GPU" in done.stdout:
            return None
        return f"nvidia-smi -L exited {done.returncode}: {(done.stderr or done.stdout).strip()[:120]}"
    if importlib.util.find_spec("torch") is not None:
        import torch

        return None if torch.cuda.is_available() else "torch.cuda.is_available() is False"
    return "no nvidia-smi on PATH and torch is not installed"


def check_gpu(ctx: Context) -> Outcome:
    mode = ctx.config.text("GPU_CHECK")
    if mode == "off":
        return skipped("GPU_CHECK=off")
    problem = _gpu_problem()
    if problem is None:
        return passed("GPU visible")
    remedy = "pick a GPU instance type and an AMI with the NVIDIA driver"
    return failed(problem, remedy) if mode == "required" else warned(problem, remedy)
