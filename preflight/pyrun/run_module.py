"""`python PATH/preflight/pyrun/run_module.py MODULE ARGS...`: the tool's `python -m MODULE ARGS...`
without the working directory on sys.path.

`python -m` puts the working directory first on sys.path, and the tool runs in places it does not own:
the probe in the training project's directory, the launcher wherever the user stands. A project's own
`preflight.py`, `logging.py` or `secrets.py` would be imported in place of the tool's package or the
standard library's module. A script's directory goes first instead, and this one holds only this file;
it is swapped for the tool's root, ahead of PYTHONPATH. Python 3.11's `-P` does this too, 3.9 has none.
"""

import os
import runpy
import sys

if __name__ == "__main__":
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if len(sys.argv) < 2:
        sys.exit("usage: python run_module.py MODULE [ARGS...]")
    runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
