"""Run user code in a child Python process: under the read-only guard, with a deadline it cannot hold.

A module that hangs at import while holding the GIL, or that starts processes of its own, would
stall or escape a check running in the probe's own process. In a child, the deadline is a SIGKILL
of its whole process group, and the guard is installed by sitecustomize in the child and in every
Python process it starts. The child's output (the project's logging and warnings) is kept out of
check messages: it goes to this process's stderr, which is the probe's log.

Two venvs on the host: the probe runs in its own tool venv, the child on the project venv's Python
(PREFLIGHT_PROJECT_PYTHON; this interpreter when unset), whose path holds the guard site, the tool
root (for preflight's own child modules), the project's PYTHONPATH and the working directory — nothing
of the tool venv. So this module, and every module a child imports, is standard library only and
Python 3.9-safe (tests/test_two_venvs.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflight.bounded import read_regular
from preflight.guard import note
from preflight.reaper import TOKEN_VAR, sweep

OUTPUT_TAIL_CHARS = 4000
MAX_RESULT_BYTES = 16 << 20
TAIL_DRAIN_S = 2.0  # after the child's group is killed, how long its output pipe may take to close
# The child ends this much before its check's deadline, so the check, not the runner, reports it (and names
# what the child was doing). After the kill come the group kill, the /proc sweep for what left the group and
# the output drain: on a loaded 2-core machine (make test) 0.5 s was not always enough.
MARGIN_S = 1.0


@dataclass(frozen=True)
class ChildResult:
    value: Any  # what the child wrote to its result file; None when it wrote nothing
    output: str  # the tail of its stdout and stderr
    returncode: int
    timed_out: bool
    limit_s: float  # how long the child was allowed to run
    leftovers: tuple[str, ...] = ()  # "pid argv" of each process it left running, killed when it ended


TOOL_ROOT = Path(__file__).resolve().parent.parent
GUARD_SITE = TOOL_ROOT / "preflight" / "guard_site"
# `python -m` without the working directory on sys.path (see that file); the child puts it back around
# the project's code (project_namespace).
RUN_MODULE = TOOL_ROOT / "preflight" / "pyrun" / "run_module.py"


def project_python(environ: Mapping[str, str]) -> str:
    """The interpreter training uses: the project venv's Python (probe.sh and deps.sh name it)."""
    return environ.get("PREFLIGHT_PROJECT_PYTHON") or sys.executable


def guarded_env(environ: Mapping[str, str], guard_log: str, token: str = "") -> dict[str, str]:
    path = [str(GUARD_SITE)]  # the tool itself the child finds through RUN_MODULE, never through its path
    if environ.get("PYTHONPATH"):
        path.append(environ["PYTHONPATH"])
    env = {**environ, "PREFLIGHT_GUARD": "1", "PYTHONPATH": os.pathsep.join(path)}
    if token:  # marks every process this child starts, so what it leaves running is found (reaper.sweep)
        env[TOKEN_VAR] = token
    if guard_log:
        env["PREFLIGHT_GUARD_LOG"] = guard_log
    return env


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # also what the child left running (its own subprocesses)


class _Tail(threading.Thread):
    """Drains a pipe, keeping only its last `keep` bytes: a check that prints a gigabyte costs this
    process `keep` bytes of memory and nothing on disk."""

    def __init__(self, fd: int, keep: int) -> None:
        super().__init__(name="child-output", daemon=True)
        self.fd, self.keep, self.data = fd, keep, bytearray()

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            self.data += chunk
            if len(self.data) > 2 * self.keep:
                del self.data[: len(self.data) - self.keep]


def run_guarded(module: str, request: dict[str, Any], deadline_s: float, environ: Mapping[str, str],
                guard_log: str = "", python: str | None = None, cwd: str | None = None) -> ChildResult:
    """`python RUN_MODULE module RESULT_FILE` with `request` as JSON on stdin, on the project's interpreter
    unless `python` names another, ended MARGIN_S before the calling check's `deadline_s` (at least 0.5 s
    after this call, the spawn included); its output is logged, never returned."""
    limit_s = max(0.5, deadline_s - MARGIN_S)
    ends = time.monotonic() + limit_s  # from now, not from the spawn: a loaded machine's fork and exec count
    with tempfile.TemporaryDirectory(prefix="preflight-child-") as tmp:
        result, request_file = Path(tmp) / "result.json", Path(tmp) / "request.json"
        token = secrets.token_hex(8)
        request_file.write_text(json.dumps(request), encoding="utf-8")
        timed_out = False
        interpreter = python or project_python(environ)
        if guard_log:  # a start the guard log must see answered (a .pth that unsets the guard would not)
            note(guard_log, f"spawn {os.getpid()} preflight {Path(interpreter).name}:{module}")
        with request_file.open("rb") as stdin:
            proc = subprocess.Popen([interpreter, str(RUN_MODULE), module, str(result)], stdin=stdin,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=guarded_env(environ, guard_log, token), start_new_session=True, cwd=cwd)
        assert proc.stdout is not None
        tail = _Tail(proc.stdout.fileno(), OUTPUT_TAIL_CHARS * 4)
        tail.start()
        try:
            proc.wait(timeout=max(0.0, ends - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(proc.pid)
        proc.wait()
        # What left the group (a setsid daemon) is still ours: the probe is the subreaper (reaper.py).
        leftovers = tuple(sweep(token))
        if leftovers:
            print(f"--- {module}: killed {len(leftovers)} process{'' if len(leftovers) == 1 else 'es'} it left "
                  "running: " + "; ".join(leftovers), file=sys.stderr)
        tail.join(TAIL_DRAIN_S)  # whatever still holds the pipe open (a process that left the group) is not waited for
        if not tail.is_alive():
            proc.stdout.close()
        text = bytes(tail.data).decode("utf-8", errors="replace")[-OUTPUT_TAIL_CHARS:]
        if text.strip():  # the project's own logging and warnings belong in probe.log, not in messages
            print(f"--- output of {module} ---\n{text.rstrip()}", file=sys.stderr)
        try:
            value = json.loads(read_regular(result, MAX_RESULT_BYTES, "a child's result"))
        except (OSError, ValueError, RecursionError):
            value = None
        return ChildResult(value, text, proc.returncode, timed_out, limit_s, leftovers)


def child_request() -> dict[str, Any]:
    """In the child: the request. Its path is its own interpreter's plus PYTHONPATH (guarded_env)."""
    return json.load(sys.stdin)


def child_reply(path: str, value: Any) -> None:
    Path(path).write_text(json.dumps(value), encoding="utf-8")


def training_path() -> list[str]:
    """In the child: sys.path as training has it — the working directory first (as `python -m`), then
    PYTHONPATH (which RUN_MODULE took off the child's own path), then the interpreter's — with nothing of
    the tool."""
    return _without_tool([*_ahead_of_stdlib(), *sys.path])


def _ahead_of_stdlib() -> list[str]:
    """The working directory and PYTHONPATH: where a project file shadows the standard library."""
    return _without_tool([os.getcwd(), *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)])


def _without_tool(path: list[str]) -> list[str]:
    ours = {os.path.realpath(TOOL_ROOT), os.path.realpath(GUARD_SITE)}
    return [p for p in dict.fromkeys(os.path.abspath(p) for p in path) if os.path.realpath(p) not in ours]


def _shadowed(name: str, folders: list[str]) -> bool:
    top = name.partition(".")[0]
    return any(os.path.isfile(os.path.join(f, top + ".py")) or os.path.isfile(os.path.join(f, top, "__init__.py"))
               for f in folders)


def _startup_modules() -> frozenset[str]:
    """What the interpreter loaded before any code ran: RUN_MODULE hands it to the child module it runs
    (as `__main__`, its STARTUP_MODULES). A child started another way hides every shadowed module."""
    return getattr(sys.modules.get("__main__"), "STARTUP_MODULES", frozenset())


@contextlib.contextmanager
def project_namespace() -> Iterator[None]:
    """In the child, around the project's code: training's path (training_path), and what this tool
    loaded for itself out of sight where training would find something else: its own `preflight`
    package (a project's preflight.py is a common home for its checks), and a standard library module
    the project shadows with a file of its own (a quant's signal.py, a secrets.py) unless the interpreter
    loads it at start-up (_startup_modules), when training gets the standard one too. The tool's
    modules stay loaded for its own code, which holds them by reference, and come back after."""
    saved, ahead, startup = list(sys.path), _ahead_of_stdlib(), _startup_modules()
    sys.path[:] = training_path()
    hidden = {name: module for name, module in sys.modules.items()
              if name == "preflight" or name.startswith("preflight.")
              or (name not in startup and name.partition(".")[0] not in startup and _shadowed(name, ahead))}
    tops = {name.partition(".")[0] for name in hidden}
    for name in hidden:
        del sys.modules[name]
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n.partition(".")[0] in tops]:  # the project's, of those names
            del sys.modules[name]
        sys.modules.update(hidden)
        sys.path[:] = saved
