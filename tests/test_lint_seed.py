"""Issue 25 item 5: lint off the critical path. The launcher parses the project while the host boots
(preflight/lint/seed.py); the probe's facts cache takes those entries (PREFLIGHT_LINT_SEED), so on a
cold host it parses only the files that differ — and decides exactly the same findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "model.py").write_text("import torch\n\ndef save(m):\n    torch.save(m, '/tmp/m.pt')\n")
    (root / "train.py").write_text(textwrap.dedent("""\
        from pkg.model import save
        import pickle
        model = object()
        save(model)
        pickle.dump(model, open("/tmp/model.pkl", "wb"))
        """))
    return root


def _lint(root: Path, monkeypatch, cache: Path, seed: Path | None) -> tuple[list, int]:
    from preflight.lint import __main__ as lint_main
    from preflight.lint import rules

    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    if seed is None:
        monkeypatch.delenv("PREFLIGHT_LINT_SEED", raising=False)
    else:
        monkeypatch.setenv("PREFLIGHT_LINT_SEED", str(seed))
    files, _lines, parsed = lint_main._read_all(root, [])
    settings = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=3600,
                              longest_train_s=None)
    findings = [f.to_dict() for f in rules.judge(files, settings)]
    return findings, parsed


def test_a_seeded_cold_host_parses_nothing_and_finds_the_same(tmp_path: Path, monkeypatch):
    from preflight.lint.seed import write_seed

    launcher, host = _project(tmp_path / "launcher"), tmp_path / "host" / "project"
    shutil.copytree(launcher, host)  # the host's copy: another path, the same files
    seed = tmp_path / "seed" / "lint-seed.json"
    assert write_seed(launcher, seed) == 3 and (seed.stat().st_mode & 0o077) == 0
    alone, parsed_alone = _lint(host, monkeypatch, tmp_path / "cold-1", None)
    seeded, parsed_seeded = _lint(host, monkeypatch, tmp_path / "cold-2", seed)
    assert (parsed_alone, parsed_seeded) == (3, 0)
    assert seeded == alone and {f["rule"] for f in seeded} >= {"ephemeral-save"}
    (host / "train.py").write_text((host / "train.py").read_text() + "print('changed on the host')\n")
    changed, parsed = _lint(host, monkeypatch, tmp_path / "cold-3", seed)
    assert parsed == 1 and changed == alone  # only the file that differs is parsed again


@pytest.mark.parametrize("spoil", ["writable by others", "another reader", "not json", "missing"])
def test_a_seed_that_cannot_be_trusted_is_parsed_around(tmp_path: Path, monkeypatch, spoil: str):
    from preflight.lint.seed import write_seed

    root = _project(tmp_path / "project")
    seed = tmp_path / "seed" / "lint-seed.json"
    write_seed(root, seed)
    if spoil == "writable by others":  # an entry planted there could hide a finding
        seed.chmod(0o666)
    elif spoil == "another reader":
        data = json.loads(seed.read_text())
        seed.write_text(json.dumps({**data, "reader": "0" * 16}))
    elif spoil == "not json":
        seed.write_text("{")
    else:
        seed.unlink()
    findings, parsed = _lint(root, monkeypatch, tmp_path / "cold", seed)
    assert parsed == 3 and {f["rule"] for f in findings} >= {"ephemeral-save"}


def test_the_seed_cli_never_fails_the_run(tmp_path: Path):
    """A project it cannot read is not its business: it writes what it could and exits 0."""
    root = _project(tmp_path / "project")
    (root / "fifo.py").unlink(missing_ok=True)
    os.mkfifo(root / "fifo.py")  # read_regular refuses it instead of blocking
    out = tmp_path / "seed.json"
    done = subprocess.run([sys.executable, "-m", "preflight.lint.seed", str(root), str(out)], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert done.returncode == 0 and "3 files parsed" in done.stdout, done.stderr
    assert len(json.loads(out.read_text())["files"]) == 3
