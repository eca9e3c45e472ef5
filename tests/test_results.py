"""RESULTS_KEEP: old run folders go, the targets of latest and latest-ready never do."""

from __future__ import annotations

import os
from pathlib import Path

from preflight.results import prune


def _run(root: Path, name: str, age: int) -> Path:
    path = root / name
    (path / "logs").mkdir(parents=True)
    (path / "run.json").write_text("{}")
    os.utime(path, (1_700_000_000 + age, 1_700_000_000 + age))
    return path


def test_prune_keeps_the_newest_and_the_linked(tmp_path: Path):
    runs = [_run(tmp_path, f"r{n}", n) for n in range(6)]
    (tmp_path / "latest-ready").symlink_to("r0")  # the oldest run is the last READY one: it stays
    (tmp_path / "latest").symlink_to("r5")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "half-claimed").mkdir()  # a run that has only claimed its folder
    removed = prune(tmp_path, 2)
    assert removed == ["r1", "r2", "r3"]
    assert [p.name for p in runs if p.exists()] == ["r0", "r4", "r5"]
    assert (tmp_path / "notes.txt").exists() and (tmp_path / "half-claimed").exists()
    assert prune(tmp_path / "absent", 2) == []
