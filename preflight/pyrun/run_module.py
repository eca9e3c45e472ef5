"""`python PATH/preflight/pyrun/run_module.py MODULE ARGS...`: the tool's `python -m MODULE ARGS...`
with only the tool and the interpreter's own directories on sys.path.

`python -m` puts the working directory first on sys.path, and PYTHONPATH before the standard library;
the tool runs where it does not own either: the probe in the training project's directory with the
project's PYTHONPATH (PROJECT_PYTHONPATH=. is common), the launcher wherever the user stands. A project's
own `preflight.py`, `logging.py` or `secrets.py` would be imported in place of the tool's package or the
standard library's module. A script's directory goes first instead (this one holds only this file); it
is replaced by the tool's root, and PYTHONPATH's entries leave sys.path (not the environment: a child
that imports project code puts them back around it, preflight/child.py `project_namespace`). Python
3.11's `-P` does a part of this; 3.9 has none of it.
"""

import sys

if __name__ == "__main__":
    startup = frozenset(sys.modules)  # what the interpreter loads before any code: training has these too
    import os
    import runpy

    if len(sys.argv) < 2:
        sys.exit("usage: python run_module.py MODULE [ARGS...]")
    if not getattr(sys.flags, "safe_path", False):  # -P / PYTHONSAFEPATH: no script directory to drop
        del sys.path[0]
    given = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [root, *(p for p in sys.path if os.path.abspath(p or ".") not in given)]
    runpy.run_module(sys.argv.pop(1), init_globals={"STARTUP_MODULES": startup}, run_name="__main__",
                     alter_sys=True)
