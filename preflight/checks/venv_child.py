"""In a guarded child on the project venv's Python: what that interpreter is and what its venv holds.

`python -m preflight.checks.venv_child RESULT_FILE`, request on stdin (see preflight/child.py):
`{"torch": false}` answers the interpreter (version, executable, prefix), its PEP 508 marker environment
and every installed distribution's name, version and Requires-Dist, read with importlib.metadata over
the path training sees (its site-packages, the project's PYTHONPATH, the working directory — not the
guard site or the tool root this child was started with). `{"torch": true}` answers instead whether the
project's own torch sees CUDA. Standard library only, Python 3.9-safe: nothing is installed here but
the project's requirements. The judging (packaging) happens in the probe's own venv.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from importlib import metadata
from typing import Any

from preflight.child import child_reply, child_request, project_namespace, training_path

MAX_DISTRIBUTIONS = 5000  # bounded before it is trusted; a venv holds a few hundred
MAX_REQUIRES = 500


def _full_version(info: Any) -> str:
    version = f"{info.major}.{info.minor}.{info.micro}"
    return version if info.releaselevel == "final" else version + info.releaselevel[0] + str(info.serial)


def marker_environment() -> dict[str, str]:
    """PEP 508's environment markers for this interpreter (packaging.markers.default_environment)."""
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": _full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def distributions() -> tuple[list[list[Any]], bool]:
    """[name, version, requires] of each distribution, the first of a name on the path winning (as
    import does); whether the list was cut at MAX_DISTRIBUTIONS."""
    seen: set[str] = set()
    out: list[list[Any]] = []
    for dist in metadata.distributions(path=training_path()):
        try:
            name, version, requires = dist.metadata["Name"], dist.version, list(dist.requires or [])
        except Exception:  # noqa: BLE001 - a broken .dist-info: pip skips it too
            continue
        key = re.sub(r"[-_.]+", "-", name or "").lower()
        if not key or key in seen:
            continue
        seen.add(key)
        if len(out) >= MAX_DISTRIBUTIONS:
            return out, True
        out.append([name, version, requires[:MAX_REQUIRES]])
    return out, False


def interpreter() -> dict[str, Any]:
    dists, truncated = distributions()
    return {"version": platform.python_version(), "executable": sys.executable, "prefix": sys.prefix,
            "markers": marker_environment(), "distributions": dists, "truncated": truncated}


def torch_cuda() -> dict[str, Any]:
    """Whether the project's torch sees a GPU; importing torch is project code, so it runs here."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return {"torch": None}
    try:
        import torch

        return {"torch": str(getattr(torch, "__version__", "?")), "cuda": bool(torch.cuda.is_available())}
    except Exception as exc:  # a torch that cannot load its CUDA libraries says so here
        return {"torch": "?", "error": f"{type(exc).__name__}: {exc}"[:300]}


def main(argv: list[str]) -> int:
    request = child_request()
    if request.get("torch"):
        with project_namespace():  # torch is project code
            answer = torch_cuda()
    else:
        answer = interpreter()
    child_reply(argv[0], answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
