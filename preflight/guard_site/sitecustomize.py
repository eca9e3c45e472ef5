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
        module = _load_guard(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        guard = module.ReadOnlyGuard(log).__enter__()  # never exited: it lives as long as the process
        module.note(log, f"guarded {os.getpid()} {os.getppid()} {sys.executable}")
        module.watch(guard, log)  # every process this one starts, and at its end whether the guard is still there
    except Exception as exc:  # a broken guard must be visible, never a crashed child
        print(f"preflight guard not installed: {exc}", file=sys.stderr)
    _chain(os.path.dirname(os.path.abspath(__file__)))


def _load_guard(package: str):  # noqa: ANN202 (the module)
    """preflight/guard.py (standard library only) under a private name, never as `preflight.guard`: a
    `preflight` in sys.modules is what the project's own `import preflight` would get, in every process
    the project starts."""
    import importlib.util
    import os
    import sys

    spec = importlib.util.spec_from_file_location("_preflight_guard", os.path.join(package, "guard.py"))
    if spec is None or spec.loader is None:
        raise ImportError(f"no guard.py in {package}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


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
