"""imports against real modules (pins: tests/test_pins.py)."""

from pathlib import Path

import pytest

from preflight.checks.imports import check_imports
from tests import conftest


def make_context(where: Path, **values: str):
    """The project's modules reach the imports child as a training run's would: on its PYTHONPATH."""
    return conftest.make_context(where, {"PYTHONPATH": str(where)}, **values)


@pytest.fixture
def modules(tmp_path: Path) -> Path:
    (tmp_path / "pf_good.py").write_text("VALUE = 1\n")
    (tmp_path / "pf_raises.py").write_text("raise RuntimeError('boom at import')\n")
    return tmp_path


def test_imports_pass(modules: Path):
    outcome = check_imports(make_context(modules, PREFLIGHT_IMPORTS="pf_good", PREFLIGHT_IMPORT_NAMES="pf_good:VALUE"),
                            10)
    assert outcome.status == "pass"


@pytest.mark.parametrize("imports, names, needle", [
    ("pf_missing_mod", "", "pf_missing_mod: module not found"),
    ("pf_raises", "", "pf_raises: importing it raised RuntimeError: boom at import"),
    ("", "pf_good:GONE", "pf_good:GONE: name 'GONE' is gone from pf_good"),
])
def test_imports_fail_naming_module_and_exception(modules: Path, imports: str, names: str, needle: str):
    outcome = check_imports(make_context(modules, PREFLIGHT_IMPORTS=imports, PREFLIGHT_IMPORT_NAMES=names), 10)
    assert outcome.status == "fail" and needle in outcome.message


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A flat training repo: a module whose dependency is missing, one that raises a 5 KB error, names."""
    (tmp_path / "train_handler.py").write_text("import torch_not_installed_here\n")
    (tmp_path / "big_error.py").write_text("raise RuntimeError('bad config: ' + 'c' * 5000)\n")
    (tmp_path / "features.py").write_text("import logging, sys, warnings\nlogging.basicConfig()\n"
                                          "logging.getLogger('x').warning('noise from logging')\n"
                                          "warnings.warn('noise from warnings')\nprint('noise on stdout')\n"
                                          "def build_features():\n    pass\n")
    return tmp_path


def test_each_import_problem_says_what_really_failed_once(project: Path):
    ctx = make_context(project, PREFLIGHT_IMPORTS="train_handler,no_such_module,big_error,features",
                       PREFLIGHT_IMPORT_NAMES="train_handler:main,features:gone_fn,features:build_features")
    outcome = check_imports(ctx, 20)
    problems = outcome.details["problems"]
    assert outcome.status == "fail"
    assert "train_handler: found, but importing it needs torch_not_installed_here, which is not installed" \
        in problems
    assert "no_such_module: module not found" in problems
    assert any(p.startswith("big_error: importing it raised RuntimeError: bad config") for p in problems)
    assert "features:gone_fn: name 'gone_fn' is gone from features" in problems
    assert len(problems) == 4, problems  # train_handler is reported once, not again for train_handler:main
    for noise in ("noise from logging", "noise from warnings", "noise on stdout"):
        assert noise not in outcome.message


def test_import_noise_goes_to_the_log_not_the_message(project: Path, capfd):
    outcome = check_imports(make_context(project, PREFLIGHT_IMPORTS="features", PREFLIGHT_IMPORT_NAMES=""), 20)
    err = capfd.readouterr().err
    assert outcome.status == "pass" and "noise" not in outcome.message
    assert "noise from logging" in err and "noise on stdout" in err
