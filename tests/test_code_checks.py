"""imports and pins against real modules and real installed distributions."""

import sys
from importlib import metadata
from pathlib import Path

import pytest

from preflight.checks.imports import check_imports
from preflight.checks.pins import check_pins
from tests.conftest import make_context


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pf_good.py").write_text("VALUE = 1\n")
    (tmp_path / "pf_raises.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("pf_good", "pf_raises"):
        sys.modules.pop(name, None)


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


def _pins(tmp_path: Path, text: str, **extra: str):
    (tmp_path / "req.txt").write_text(text)
    return check_pins(make_context(tmp_path, PREFLIGHT_PINS_FILE=str(tmp_path / "req.txt"), **extra))


def test_pins_match_installed(tmp_path: Path):
    pytest_version = metadata.version("pytest")
    outcome = _pins(tmp_path, f"# comment\npytest=={pytest_version}  # inline\nPyYAML>=5\n")
    assert outcome.status == "pass", outcome.message


def test_pins_drift_lists_pinned_and_installed(tmp_path: Path):
    (tmp_path / "base.txt").write_text("pytest==0.0.1\n")
    outcome = _pins(tmp_path, "-r base.txt\npackaging[extra-x]==0.1 ; python_version >= '3'\n"
                              "not-installed-dist-xyz==1.0\nskipme==9.9 ; python_version < '3'\n")
    assert outcome.status == "fail"
    installed = metadata.version("pytest")
    assert f"pytest: pinned ==0.0.1, installed {installed}" in outcome.message
    assert "packaging: pinned ==0.1" in outcome.message
    assert "not-installed-dist-xyz: pinned ==1.0, not installed" in outcome.message
    assert "skipme" not in outcome.message


def test_pins_unverifiable_vcs_is_a_warning(tmp_path: Path):
    outcome = _pins(tmp_path, "git+https://example.invalid/x.git#egg=x\nsomething @ https://example.invalid/a.whl\n")
    assert outcome.status == "warn" and "VCS/URL without a version" in outcome.message


def test_pins_file_missing_fails(tmp_path: Path):
    outcome = check_pins(make_context(tmp_path, PREFLIGHT_PINS_FILE=str(tmp_path / "nope.txt")))
    assert outcome.status == "fail" and "not found" in outcome.message


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A flat training repo: a module whose dependency is missing, one that raises a 5 KB error, names."""
    (tmp_path / "train_handler.py").write_text("import torch_not_installed_here\n")
    (tmp_path / "big_error.py").write_text("raise RuntimeError('bad config: ' + 'c' * 5000)\n")
    (tmp_path / "features.py").write_text("import logging, sys, warnings\nlogging.basicConfig()\n"
                                          "logging.getLogger('x').warning('noise from logging')\n"
                                          "warnings.warn('noise from warnings')\nprint('noise on stdout')\n"
                                          "def build_features():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
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


def _dist(root: Path, name: str, version: str, *requires: str, extras: tuple[str, ...] = ()) -> None:
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Provides-Extra: {extra}" for extra in extras] + [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Installed distributions shaped like the real case: krepis[flow_doctor] without flow-doctor."""
    site = tmp_path / "site"
    _dist(site, "krepis", "1.4.0", 'pf-flow-doctor>=0.3; extra == "flow_doctor"', 'pf-helper>=1; extra == "ok"',
          'pf-helper==2.0; extra == "fast"', extras=("flow_doctor", "ok", "fast"))
    _dist(site, "pf-helper", "1.0")
    monkeypatch.syspath_prepend(str(site))
    return tmp_path


@pytest.mark.parametrize("line, status, needle", [
    ("krepis[flow-doctor]==1.4.0", "fail", "krepis[flow-doctor]: needs pf-flow-doctor>=0.3, not installed"),
    ("krepis[flow_doctor]==1.4.0", "fail", "needs pf-flow-doctor>=0.3, not installed"),  # PEP 685 names
    ("krepis[fast]==1.4.0", "fail", "krepis[fast]: needs pf-helper==2.0, installed 1.0"),
    ("krepis[ok]==1.4.0", "pass", "1 pins match"),
    ("krepis==1.4.0", "pass", "1 pins match"),
])
def test_pins_resolve_requested_extras(dists: Path, line: str, status: str, needle: str):
    outcome = _pins(dists, line + "\n")
    assert outcome.status == status and needle in outcome.message, outcome.message


def test_pins_remediation_names_the_venv_to_install_into(tmp_path: Path):
    outcome = _pins(tmp_path, "pytest==0.0.1\n")
    assert f"{sys.prefix}/bin/python -m pip install -r" in outcome.remediation
