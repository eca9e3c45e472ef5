"""Nothing outlives the run: become the subreaper of what we start, and kill what is left at the end.

A process that double-forks and calls setsid (a daemon) leaves its session and process group, so killing
the group it was started in misses it, and it is re-parented to init: it outlives the check or step that
started it. On Linux, a process that sets PR_SET_CHILD_SUBREAPER receives those orphans instead, so every
process it started, however detached, stays its descendant and can be found (/proc) and killed.

Two users:
- the probe (preflight/cli.py) becomes the subreaper of every check; each guarded child carries a token
  in its environment (TOKEN_VAR), so what one check left running is killed when that check ends, without
  touching the processes of checks still running; whatever is left when the probe ends is killed then;
- every step (infra_scripts/remote/prelude.sh) re-runs itself under `python3 reaper.py --step NAME -- ...`,
  which kills what the step left running when it ends, or when the step is stopped (SIGTERM/SIGINT).

Standard library only, Python 3.9, no imports from preflight: the step wrapper runs as a bare script
(`python3 -I -S reaper.py`) before any venv exists. Without /proc or prctl (not Linux) it does nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

TOKEN_VAR = "PREFLIGHT_CHILD_TOKEN"
PR_SET_CHILD_SUBREAPER = 36
# After SIGTERM, how long the processes of a stopped step get to end before SIGKILL (below the 5 s the
# local transport waits before it SIGKILLs the step itself).
TERM_GRACE_S = 3.0


def become_subreaper() -> bool:
    """Make orphans of our descendants our children (Linux); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (/proc/PID/stat); {} without /proc."""
    out = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            out[int(name)] = int(fields[1])
    return out


def descendants(root: int | None = None) -> list[int]:
    """Every process below `root` (default: this one), parents before children."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _has_token(pid: int, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return f"{TOKEN_VAR}={token}".encode() in handle.read().split(b"\0")
    except OSError:
        return False


def describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        argv = ""
    return f"{pid} {argv[:160] or '(exited)'}"


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2:].split()
    return bool(fields) and fields[0] not in (b"Z", b"X")


def _reap(pids: list[int]) -> None:
    """Collect the exit status of those that are our children now (re-parented orphans), so no zombie
    stays; one that is not ours (ECHILD) its own parent collects."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)


def sweep(token: str | None = None, grace_s: float = 0.0, exclude: tuple[int, ...] = ()) -> list[str]:
    """Kill the running descendants of this process (only those whose environment holds `token`, when
    given); SIGTERM first when `grace_s` > 0, then SIGKILL. Returns "pid argv" of each one killed."""
    found = [pid for pid in descendants() if pid not in exclude and _alive(pid) and
             (token is None or _has_token(pid, token))]
    if not found:
        return []
    shown = [describe(pid) for pid in found]
    if grace_s > 0:
        _signal(found, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while any(_alive(pid) for pid in found) and time.monotonic() < deadline:
            _reap_exited(found)
            time.sleep(0.05)
    _signal(found, signal.SIGKILL)
    _reap([pid for pid in found if _parents().get(pid) == os.getpid()])
    return shown


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _reap_exited(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.waitpid(pid, os.WNOHANG)


def reap_zombies() -> None:
    """Collect every exited child (orphans that ended on their own, re-parented to us)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _plural(n: int) -> str:
    return f"{n} process{'' if n == 1 else 'es'}"


def run(step: str, argv: list[str]) -> int:
    """Run `argv` as the subreaper of everything it starts; when it ends (or we are told to stop), kill
    what is left, say so on stderr, and exit with its code."""
    become_subreaper()
    child = subprocess.Popen(argv)
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)
        killed = sweep(grace_s=TERM_GRACE_S)
        _report(step, killed, "when the step was stopped")
        reap_zombies()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = child.wait()
    killed = sweep()
    _report(step, killed, "after it ended")
    reap_zombies()
    return 128 - code if code < 0 else code


def _report(step: str, killed: list[str], when: str) -> None:
    if killed:
        print(f"reaper: killed {_plural(len(killed))} the {step} step left running {when}: "
              + "; ".join(killed), file=sys.stderr, flush=True)


def main(args: list[str]) -> int:
    step = "step"
    if args[:1] == ["--step"] and len(args) > 1:
        step, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: reaper.py [--step NAME] -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    return run(step, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
