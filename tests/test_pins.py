"""pins and pins.consistency: the requirements file against what the project venv holds.

The installed set is read in the project's interpreter (a stdlib-only child, PREFLIGHT_PROJECT_PYTHON);
the judging (packaging) happens in the probe's own venv. Fake installs are dist-info directories on the
project's PYTHONPATH, as a training repo's `src/` would be.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from preflight.checks.pins import check_consistency, check_pins
from tests.conftest import ROOT, make_context

FIXTURES = ROOT / "tests" / "fixtures" / "projects"


def _pins(where: Path, text: str, environ: dict[str, str] | None = None, **extra: str):
    (where / "req.txt").write_text(text)
    return check_pins(make_context(where, environ, PREFLIGHT_PINS_FILE=str(where / "req.txt"), **extra), 30)


def _dist(root: Path, name: str, version: str, *requires: str, extras: tuple[str, ...] = ()) -> None:
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Provides-Extra: {extra}" for extra in extras] + [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


def _site(tmp_path: Path, *dists: tuple) -> dict[str, str]:
    """Fake installed distributions in a directory on the project's PYTHONPATH; the child's environment."""
    site = tmp_path / "site"
    for dist in dists:
        args, extras = (dist[:-1], dist[-1]) if isinstance(dist[-1], tuple) else (dist, ())
        _dist(site, *args, extras=extras)
    return {"PYTHONPATH": str(site)}


def test_pins_match_installed(tmp_path: Path):
    pytest_version = metadata.version("pytest")
    outcome = _pins(tmp_path, f"# comment\npytest=={pytest_version}  # inline\nPyYAML==" + metadata.version("PyYAML"))
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


GIT_AND_URL = "git+https://example.invalid/x.git#egg=x\nsomething @ https://example.invalid/a.whl\n"


def test_pins_unverifiable_vcs_is_a_warning(tmp_path: Path):
    outcome = _pins(tmp_path, GIT_AND_URL, _site(tmp_path, ("something", "1.0")))
    assert outcome.status == "warn" and "VCS/URL without a version" in outcome.message
    assert "something @ https://example.invalid/a.whl (installed 1.0" in outcome.message


def test_a_url_requirement_that_is_not_installed_is_drift(tmp_path: Path):
    outcome = _pins(tmp_path, GIT_AND_URL)
    assert outcome.status == "fail", outcome.message
    assert "something: from https://example.invalid/a.whl, not installed" in outcome.message


def test_pins_file_missing_fails(tmp_path: Path):
    outcome = check_pins(make_context(tmp_path, PREFLIGHT_PINS_FILE=str(tmp_path / "nope.txt")), 30)
    assert outcome.status == "fail" and "not found" in outcome.message


KREPIS = ("krepis", "1.4.0", 'pf-flow-doctor>=0.3; extra == "flow_doctor"', 'pf-helper>=1; extra == "ok"',
          'pf-helper==2.0; extra == "fast"', ("flow_doctor", "ok", "fast"))


@pytest.mark.parametrize("line, status, needle", [
    ("krepis[flow-doctor]==1.4.0", "fail", "krepis[flow-doctor]: needs pf-flow-doctor>=0.3, not installed"),
    ("krepis[flow_doctor]==1.4.0", "fail", "needs pf-flow-doctor>=0.3, not installed"),  # PEP 685 names
    ("krepis[fast]==1.4.0", "fail", "krepis[fast]: needs pf-helper==2.0, installed 1.0"),
    ("krepis[ok]==1.4.0", "pass", "1 pins match"),
    ("krepis==1.4.0", "pass", "1 pins match"),
])
def test_pins_resolve_requested_extras(tmp_path: Path, line: str, status: str, needle: str):
    """Installed distributions shaped like the real case: krepis[flow_doctor] without flow-doctor."""
    env = _site(tmp_path, KREPIS, ("pf-helper", "1.0"))
    outcome = _pins(tmp_path, line + "\n", env)
    assert outcome.status == status and needle in outcome.message, outcome.message


def test_pins_remediation_names_the_project_venv(tmp_path: Path, bare_venv: Path):
    outcome = _pins(tmp_path, "pytest==0.0.1\n", {"PREFLIGHT_PROJECT_PYTHON": str(bare_venv)})
    assert outcome.status == "fail", outcome.message
    assert f"{bare_venv.parent.parent}/bin/python -m pip install -r" in outcome.remediation


# --- issue 23 item 5: hash-pinned requirements ------------------------------------------------------------
HASHES = ("    --hash=sha256:1324c476b4811eff41a8bc2122cd0bbd4d9c7234c725446d99ab1612b3a7fdd2 \\\n"
          "    --hash=sha256:00edb7682962c596f774bfa126e6b6f885b7af2319f448d327591c284a482de8\n")


def test_hash_pinned_lines_are_pins_and_drift_is_caught(tmp_path: Path):
    """pip-compile --generate-hashes style: `name==1.2 \\` continued by `--hash=` lines, `# via` comments."""
    text = "# This file was autogenerated by uv via the following command:\n#    uv pip compile --generate-hashes\n"
    for name, version in (("pytest", metadata.version("pytest")), ("packaging", "0.1"), ("pyyaml", "1.0")):
        text += f"{name}=={version} \\\n{HASHES}    # via -r requirements.in\n"
    outcome = _pins(tmp_path, text)
    assert outcome.status == "fail", outcome.message
    assert outcome.message.startswith("2 of 3 pins drifted")
    assert "packaging: pinned ==0.1, installed" in outcome.message and "pyyaml: pinned ==1.0" in outcome.message
    assert "cannot be verified" not in outcome.message


def test_the_hash_pinned_fixture_reads_as_pins():
    from preflight.checks.pins import read_requirements

    reqs, unverifiable = read_requirements(FIXTURES / "hash-pinned" / "requirements.txt")
    assert unverifiable == []
    assert {r.name: str(r.specifier) for r in reqs}["protobuf"] == "==7.36.2" and len(reqs) == 9


# --- issue 20 item 5 (a): unpinned requirements are a warning, not "9 pins match" --------------------------
TRAINING_SITE = (("torch", "2.13.0"), ("transformers", "4.57.0"), ("datasets", "4.2.0"), ("accelerate", "1.11.0"),
                 ("wandb", "0.22.3"), ("tqdm", "4.70.1"), ("scipy", "1.16.3"), ("numpy", "2.4.6"),
                 ("pandas", "2.3.3"))


def test_unpinned_requirements_are_a_warning_naming_them(tmp_path: Path):
    env = _site(tmp_path, *TRAINING_SITE)
    outcome = _pins(tmp_path, "torch\ntransformers>=4.40\ndatasets\naccelerate~=1.0\nwandb\ntqdm\nscipy<2\n"
                              "numpy==2.4.6\npandas===2.3.3\n", env)
    assert outcome.status == "warn", outcome.message
    assert "7 of 9 requirements are unpinned: torch, transformers, datasets, accelerate, wandb, tqdm, scipy" \
        in outcome.message
    assert outcome.details["unpinned"] == ["torch", "transformers", "datasets", "accelerate", "wandb", "tqdm", "scipy"]


def test_unpinned_names_at_most_ten(tmp_path: Path):
    site = [(f"lib{n}", "1.0") for n in range(12)]
    outcome = _pins(tmp_path, "".join(f"lib{n}\n" for n in range(12)), _site(tmp_path, *site))
    assert outcome.status == "warn"
    assert "12 of 12 requirements are unpinned: lib0, lib1, lib2, lib3, lib4, lib5, lib6, lib7, lib8, lib9, …" \
        in outcome.message


# --- issue 20 item 5 (b): the installed set is consistent, as `pip check` would say --------------------------
CONFLICTED = (("foo", "1.0", "bar<2", "baz>=1", 'qux; python_version < "3"', 'quux; extra == "fast"', ("fast",)),
              ("bar", "2.1"), ("corge", "3.0", "Bar[speed]>=2"))


def test_consistency_fails_naming_both_sides(tmp_path: Path):
    outcome = check_consistency(make_context(tmp_path, _site(tmp_path, *CONFLICTED)), 30)
    assert outcome.status == "fail", outcome.message
    assert "foo 1.0 requires bar<2, but bar 2.1 is installed" in outcome.message
    assert "foo 1.0 requires baz>=1, which is not installed" in outcome.message
    assert "qux" not in outcome.message and "quux" not in outcome.message and "corge" not in outcome.message


def test_consistency_passes_on_a_consistent_venv(tmp_path: Path):
    outcome = check_consistency(make_context(tmp_path, _site(tmp_path, ("foo", "1.0", "bar<3"), ("bar", "2.1"))), 30)
    assert outcome.status == "pass", outcome.message


def test_consistency_agrees_with_pip_check(tmp_path: Path):
    env = _site(tmp_path, *CONFLICTED)
    pip = subprocess.run([sys.executable, "-m", "pip", "check", "--disable-pip-version-check"], capture_output=True,
                         text=True, env={"PYTHONPATH": env["PYTHONPATH"], "PATH": "/usr/bin:/bin"})
    said = set()
    for line in pip.stdout.splitlines():
        if match := re.match(r"(\S+) (\S+) (?:requires|has requirement) ([A-Za-z0-9_.-]+)", line):
            said.add(f"{match[1]} {match[2]} requires {match[3]}")
    outcome = check_consistency(make_context(tmp_path, env), 30)
    ours = {re.match(r"\S+ \S+ requires [A-Za-z0-9_.-]+", p)[0] for p in outcome.details["conflicts"]}
    assert said and ours == said, (pip.stdout, outcome.details)


# --- markers are the project interpreter's, not the probe's ------------------------------------------------
def test_markers_are_evaluated_for_the_project_python(tmp_path: Path, bare_venv: Path):
    env = {"PREFLIGHT_PROJECT_PYTHON": str(bare_venv)}
    outcome = _pins(tmp_path, 'tomli==2.0.1 ; python_version < "3.10"\nnumpy==2.4.6 ; python_version >= "3.10"\n',
                    env)
    assert outcome.status == "fail", outcome.message
    assert outcome.message == "1 of 2 pins drifted: tomli: pinned ==2.0.1, not installed", outcome.message


def test_drift_cli_reads_the_project_venv(tmp_path: Path, bare_venv: Path):
    """The deps step's skip decision: `python -m preflight.checks.pins FILE` in the tool venv, about the
    project venv named by PREFLIGHT_PROJECT_PYTHON."""
    (tmp_path / "req.txt").write_text(f"pytest=={metadata.version('pytest')} \\\n{HASHES}")
    out = subprocess.run([sys.executable, "-m", "preflight.checks.pins", str(tmp_path / "req.txt")],
                         capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(ROOT), "PREFLIGHT_PROJECT_PYTHON": str(bare_venv)})
    assert out.returncode == 1 and "drift: pytest: pinned ==" in out.stdout and "not installed" in out.stdout, out
    same = subprocess.run([sys.executable, "-m", "preflight.checks.pins", str(tmp_path / "req.txt")],
                          capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert same.returncode == 0, same
