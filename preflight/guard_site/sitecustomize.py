"""The read-only guard for every Python process the probe starts for user code.

This directory goes first on the child's PYTHONPATH, which its own children inherit, and Python's
`site` imports `sitecustomize` at start-up: so the guard is in place before any user module runs,
in every Python descendant that keeps the environment. Import-time work is the point of this file.
A descendant that does not keep it is still counted: each guarded process records what it starts
(preflight/guard.py `watch`), and aws.readonly names every start that never reported in.
A sitecustomize the project itself ships is still run, after ours.
"""


def _install() -> None:
    import os
    import sys

    log = os.environ.get("PREFLIGHT_GUARD_LOG")
    if not os.environ.get("PREFLIGHT_GUARD"):
        return
    try:
        from preflight.guard import ReadOnlyGuard, note, watch

        guard = ReadOnlyGuard(log).__enter__()  # never exited: it lives as long as the process
        note(log, f"guarded {os.getpid()} {os.getppid()} {sys.executable}")
        watch(guard, log)  # every process this one starts, and at its end whether the guard is still there
    except Exception as exc:  # a broken guard must be visible, never a crashed child
        print(f"preflight guard not installed: {exc}", file=sys.stderr)
    _chain(os.path.dirname(os.path.abspath(__file__)))


def _chain(ours: str) -> None:
    import importlib.machinery
    import importlib.util
    import os
    import sys

    rest = [p for p in sys.path if os.path.abspath(p or ".") != ours]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_install()
