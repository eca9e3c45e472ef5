"""Rows 8: the deps step with pip and with uv (DEPS_INSTALLER), the real step through the local
transport, each run on an image directory of its own (empty caches) or with its caches kept and the
venv removed (warm cache, new venv); and whether both installers put the same versions in the venv.
Row 10: what bootstrap's tool venv (the probe's own packages, beside the project venv) costs to build."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from cases_orchestration import copy_repo, deps_seconds, run
from measure import ROOT, Row, Sample, sec, spreads

from preflight import installer

TRAINING = ROOT / "bench" / "requirements-training.txt"


def _image(work: Path, name: str, tools: Path) -> Path:
    """An empty image directory that shares one uv tool venv (obtaining uv is bootstrap's, not deps')."""
    image = work / name
    shutil.rmtree(image, ignore_errors=True)
    image.mkdir(parents=True)
    (image / "tools").symlink_to(tools)
    return image


def _freeze(image: Path) -> list[str]:
    out = subprocess.run([str(image / "venvs" / "predictor" / "bin" / "python"), "-m", "pip", "list",
                          "--format=freeze", "--disable-pip-version-check"], capture_output=True, text=True, check=True)
    # pip's own version differs by design: the pip path upgrades it, the uv path keeps the bundled one.
    return [line for line in out.stdout.splitlines() if not line.startswith("pip==")]


def _same(a: list[str], b: list[str]) -> str:
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if not only_a and not only_b:
        return f"same {len(a)} packages and versions"
    return f"differ: pip-only {only_a[:5]}, uv-only {only_b[:5]}"


def _installs(repo: Path, work: Path, tools: Path, kind: str, repeat: int, warm: bool) -> dict[str, object]:
    cold, rewarm, freeze = [], [], []
    for n in range(repeat):
        image = _image(work, f"image-{kind}-{n}", tools)
        cold.append(deps_seconds(run(repo, image, f"deps-{kind}-{n}", DEPS_INSTALLER=kind)[1]))
        freeze = _freeze(image)
        if warm:  # the caches stay, the venv goes: a new project, or an AMI that bakes caches only
            shutil.rmtree(image / "venvs")
            rewarm.append(deps_seconds(run(repo, image, f"deps-{kind}-{n}-warm", DEPS_INSTALLER=kind)[1]))
        shutil.rmtree(image)
    return {"cold": Sample.of(cold), "warm": Sample.of(rewarm) if rewarm else None, "freeze": freeze}


def _training_repo(work: Path) -> Path:
    repo = copy_repo(work / "training-repo")
    shutil.copy(TRAINING, repo / "examples" / "predictor" / "requirements.txt")
    return repo


def deps_rows(work: Path, repeat: int, judge: bool) -> list[Row]:
    # The uv that `make` put in the local image (or one built there now): not part of any timing.
    installer.install_uv(ROOT / ".preflight" / "image", "python3")
    tools = ROOT / ".preflight" / "image" / "tools"
    example = copy_repo(work / "example-repo")
    if not judge:  # smoke: the uv path once, on an empty cache; pip and the training file take minutes
        uv = _installs(example, work, tools, "uv", 1, warm=False)
        return [Row("8. deps step, example project, empty cache", f"{uv['cold'].median:.1f} s with uv",
                    "skipped in smoke", "—", "uv ≥3x faster than pip", None, spread=spreads(uv=sec(uv["cold"], 1)))]
    rows = []
    # Five runs here: the example's ~80 MB of wheels download in 2-6 s from run to run.
    pip, uv = (_installs(example, work, tools, kind, max(repeat, 5), warm=True) for kind in ("pip", "uv"))
    ratio = pip["cold"].median / uv["cold"].median
    rows.append(Row("8. deps step, example project (4 pins), empty cache", f"{uv['cold'].median:.1f} s with uv",
                    f"{pip['cold'].median:.1f} s with pip", f"{ratio:.1f}x faster", "uv ≥3x faster", ratio >= 3,
                    f"the real deps step (run.json); with the cache warm uv takes {uv['warm'].median:.1f} s and pip "
                    f"{pip['warm'].median:.1f} s, so about {uv['cold'].median - uv['warm'].median:.1f} s of uv's "
                    f"empty-cache time is downloading; versions: {_same(pip['freeze'], uv['freeze'])}",
                    spreads(uv=sec(uv["cold"], 1), pip=sec(pip["cold"], 1))))
    training = _training_repo(work)
    pip, uv = (_installs(training, work, tools, kind, repeat, warm=True) for kind in ("pip", "uv"))
    ratio = pip["cold"].median / uv["cold"].median
    rows.append(Row("8. deps step, training file (20 top-level, 84 pinned), empty cache",
                    f"{uv['cold'].median:.1f} s with uv", f"{pip['cold'].median:.1f} s with pip",
                    f"{ratio:.1f}x faster", "uv ≥3x faster", ratio >= 3,
                    f"bench/requirements-training.txt; versions: {_same(pip['freeze'], uv['freeze'])}",
                    spreads(uv=sec(uv["cold"], 1), pip=sec(pip["cold"], 1))))
    warm_ratio = pip["warm"].median / uv["warm"].median
    rows.append(Row("8. deps step, training file, warm cache, new venv", f"{uv['warm'].median:.1f} s with uv",
                    f"{pip['warm'].median:.1f} s with pip", f"{warm_ratio:.1f}x faster", "uv ≥10x faster and ≤5 s",
                    warm_ratio >= 10 and uv["warm"].median <= 5, "caches kept from the empty-cache run, venv removed",
                    spreads(uv=sec(uv["warm"], 1), pip=sec(pip["warm"], 1))))
    return rows


def _bootstrap_seconds(record: dict) -> float:
    return next(s["duration_s"] for s in record["steps"] if s["step"] == "bootstrap")


def _tool_image(work: Path, name: str, uv_home: Path, cache: Path | None) -> Path:
    """An image with the uv tool venv and no probe tool venv; its caches empty, or `cache` shared."""
    image = work / name
    shutil.rmtree(image, ignore_errors=True)
    (image / "tools").mkdir(parents=True)
    (image / "tools" / "uv").symlink_to(uv_home)
    if cache is not None:
        (image / "cache").symlink_to(cache)
    return image


def _drop_tool_venvs(image: Path) -> None:
    for venv in (image / "tools").glob("probe-*"):
        shutil.rmtree(venv)


def tool_venv_rows(work: Path, repeat: int, judge: bool, empty_caches: bool = False) -> list[Row]:
    """Row 10: bootstrap building the probe's tool venv with uv (what the two venvs add to a first run):
    warm caches (a new interpreter or probe requirements on a warm image) against a bootstrap that reuses
    it; with `empty_caches` (`make bench-full`: ~150 MB of wheels downloaded per run) only the first boot."""
    uv_home = installer.install_uv(ROOT / ".preflight" / "image", "python3").parent.parent
    repo = copy_repo(work / "tool-venv-repo")
    warm_cache = ROOT / ".preflight" / ("test-image" if not judge else "image") / "cache"
    warm_cache.mkdir(parents=True, exist_ok=True)
    cold, warm, reused = [], [], []
    for n in range(repeat):
        if empty_caches:  # empty caches: the probe's ~150 MB of wheels are downloaded
            image = _tool_image(work, f"tool-empty-{n}", uv_home, None)
            cold.append(_bootstrap_seconds(run(repo, image, f"tool-empty-{n}", DEPS_INSTALLER="uv")[1]))
            shutil.rmtree(image)
            continue
        image = _tool_image(work, f"tool-warm-{n}", uv_home, warm_cache)
        _drop_tool_venvs(image)
        warm.append(_bootstrap_seconds(run(repo, image, f"tool-warm-{n}", DEPS_INSTALLER="uv")[1]))
        reused.append(_bootstrap_seconds(run(repo, image, f"tool-reused-{n}", DEPS_INSTALLER="uv")[1]))
        shutil.rmtree(image)
    if empty_caches:
        empty = Sample.of(cold)
        return [Row("10. bootstrap, tool venv cold build with uv, empty caches (a first boot)",
                    f"{empty.median:.1f} s (builds it, downloads)", "—", "—", "(context: network-bound)", None,
                    "the whole bootstrap step (run.json), the image's caches empty",
                    spreads(bootstrap=sec(empty, 1)))]
    warm_t, reused_t = Sample.of(warm), Sample.of(reused)
    warm_s, reused_s = warm_t.median, reused_t.median
    return [Row("10. bootstrap, tool venv cold build with uv, warm cache", f"{warm_s:.1f} s (builds it)",
                f"{reused_s:.1f} s (reuses it)", f"+{warm_s - reused_s:.1f} s", "≤10 s with a warm cache",
                warm_s <= 10 if judge else None,
                "the whole bootstrap step (run.json): the tool venv is built once per interpreter and probe "
                "requirements, then reused by every project and run; empty caches: `make bench-full`",
                spreads(builds=sec(warm_t, 1), reuses=sec(reused_t, 1)))]
