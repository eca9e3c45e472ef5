"""Two venvs on the host (issue 20 item 4): the probe runs in its own tool venv; what must see the
project's world runs as a guarded child on the project venv's Python (PREFLIGHT_PROJECT_PYTHON), with
the standard library only and nothing of the tool venv on its path."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.checks.arctic import check_freshness, check_library
from preflight.checks.project import check_project
from preflight.checks.runtime import check_gpu, check_runtime
from tests.conftest import ROOT, make_context

# Every module a guarded child imports on the project's interpreter, and the packages above them.
CHILD_MODULES = ("preflight", "preflight.child", "preflight.model", "preflight.guard", "preflight.checks",
                 "preflight.checks.project_child", "preflight.checks.import_child", "preflight.checks.venv_child",
                 "preflight.checks.arctic_child")
# What a child may import lazily because it is the project's own (read through the project's venv).
PROJECT_OWNED = {"torch", "arcticdb", "pandas"}
# Lazy imports a child never reaches: a Context's AWS session is made in the probe (the ArcticDB child
# passes aws=None), and only the probe decides whose arcticdb reads the store.
TOOL_SIDE = {("preflight.model", "preflight.aws.clients"), ("preflight.checks.arctic", "preflight.checks.project_venv")}
WHERE = '''
import json, sys

def where():
    return json.dumps({"executable": sys.executable, "path": sys.path, "version": list(sys.version_info[:3])})
'''


def _child_env(bare_venv: Path, proj: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(proj), "PREFLIGHT_PROJECT_PYTHON": str(bare_venv), "PATH": "/usr/bin:/bin"}


def test_children_run_on_the_project_python_with_nothing_of_the_tool_venv(tmp_path: Path, bare_venv: Path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pf_where.py").write_text(WHERE)
    outcome = check_project(make_context(tmp_path, _child_env(bare_venv, tmp_path / "proj")), 20, "pf_where:where")
    assert outcome.status == "pass", outcome.message
    seen = json.loads(outcome.message.split(" passed: ", 1)[1])
    assert seen["executable"] == str(bare_venv)
    assert str(tmp_path / "proj") in seen["path"]
    tool = [p for p in seen["path"] if p.startswith((sys.prefix, sys.exec_prefix)) or "site-packages" in p
            and not p.startswith(str(bare_venv.parent.parent))]
    assert tool == [], f"the tool venv leaked into the project's interpreter: {tool}"


def test_without_a_project_python_children_use_the_probe_interpreter(tmp_path: Path):
    (tmp_path / "pf_where.py").write_text(WHERE)
    outcome = check_project(make_context(tmp_path, {"PYTHONPATH": str(tmp_path)}), 20, "pf_where:where")
    assert json.loads(outcome.message.split(" passed: ", 1)[1])["executable"] == sys.executable


@pytest.mark.parametrize("module", CHILD_MODULES)
def test_child_modules_import_with_the_standard_library_only(module: str, bare_venv: Path, tmp_path: Path):
    """On a bare venv (3.9 when this machine has it), under the guard as a child runs."""
    log = tmp_path / "guard.log"
    env = {"PYTHONPATH": f"{ROOT / 'preflight' / 'guard_site'}:{ROOT}", "PREFLIGHT_GUARD": "1",
           "PREFLIGHT_GUARD_LOG": str(log), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(bare_venv), "-c", f"import {module}"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert out.returncode == 0 and "guard not installed" not in out.stderr, out.stderr
    assert "guarded" in log.read_text()


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _source(module: str) -> Path:
    path = ROOT / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def test_child_modules_import_nothing_but_the_standard_library_even_lazily():
    """Function bodies too: an import inside a function fails only when that function runs."""
    todo, done, foreign = [*CHILD_MODULES, "preflight.guard_site.sitecustomize"], set(), {}
    while todo:
        module = todo.pop()
        if module in done:
            continue
        done.add(module)
        for name in _imports(_source(module)):
            top = name.partition(".")[0]
            if (module, name) in TOOL_SIDE:
                continue
            if top == "preflight":
                todo.append(name)
            elif top not in sys.stdlib_module_names and top not in PROJECT_OWNED | {"__future__"}:
                foreign.setdefault(module, []).append(name)
    assert foreign == {}


def test_runtime_judges_the_interpreter_training_uses(tmp_path: Path, bare_venv: Path):
    ctx = make_context(tmp_path, {"PREFLIGHT_PROJECT_PYTHON": str(bare_venv)}, MIN_PYTHON="3.10")
    outcome = check_runtime(ctx, 20)
    assert outcome.status == "fail" and "python 3.9." in outcome.message and "< MIN_PYTHON 3.10" in outcome.message
    assert outcome.details["executable"] == str(bare_venv)
    assert check_runtime(make_context(tmp_path, {"PREFLIGHT_PROJECT_PYTHON": str(bare_venv)}), 20).status == "pass"


def test_gpu_is_seen_through_the_project_torch(tmp_path: Path, bare_venv: Path):
    """No nvidia-smi here: the project's own torch says whether CUDA is visible; the tool venv has no torch."""
    torch = tmp_path / "proj" / "torch"
    torch.mkdir(parents=True)
    fake = "class cuda:\n    @staticmethod\n    def is_available():\n        return {}\n"
    (torch / "__init__.py").write_text(fake.format(True))
    ctx = make_context(tmp_path, _child_env(bare_venv, tmp_path / "proj"), GPU_CHECK="required")
    outcome = check_gpu(ctx, 20)
    assert outcome.status == "pass" and "torch" in outcome.message, outcome.message
    (torch / "__init__.py").write_text(fake.format(False))
    outcome = check_gpu(make_context(tmp_path, _child_env(bare_venv, tmp_path / "proj"), GPU_CHECK="required"), 20)
    assert outcome.status == "fail" and "torch.cuda.is_available() is False" in outcome.message
    outcome = check_gpu(make_context(tmp_path, _child_env(bare_venv, tmp_path / "empty"), GPU_CHECK="optional"), 20)
    assert outcome.status == "warn" and "torch is not installed in the project venv" in outcome.message


FAKE_ARCTICDB = """class Arctic:
    def __init__(self, uri):
        raise RuntimeError("storage format version 7 is newer than this arcticdb understands")
"""


def test_arcticdb_checks_read_through_the_project_arcticdb(tmp_path: Path, bare_venv: Path, seeded_store: Path):
    """A project pinned to an arcticdb that cannot read the store fails here, as its training would;
    the probe's own arcticdb (which can) would have said READY."""
    site = tmp_path / "site"
    (site / "arcticdb").mkdir(parents=True)
    (site / "arcticdb" / "__init__.py").write_text(FAKE_ARCTICDB)
    info = site / "arcticdb-5.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: arcticdb\nVersion: 5.0.0\n")
    config = {"ARCTICDB_URI": f"lmdb://{seeded_store}", "ARCTICDB_LIBRARY": "demo", "ARCTICDB_REQUIRED_SYMBOLS": ""}
    ctx = make_context(tmp_path, {"PYTHONPATH": str(site), "PREFLIGHT_PROJECT_PYTHON": str(bare_venv)}, **config)
    for check in (check_library, check_freshness):
        outcome = check(ctx, 30)
        assert outcome.status == "fail", outcome.message
        assert "storage format version 7" in outcome.message and "project's arcticdb 5.0.0" in outcome.message
    # A project without arcticdb of its own: the probe's reads the store.
    ctx = make_context(tmp_path, {"PREFLIGHT_PROJECT_PYTHON": str(bare_venv)}, **config)
    assert check_library(ctx, 30).status == "pass" and check_freshness(ctx, 30).status == "pass"
