"""Issue 13: `preflight campaign`, a drop-in for metaopt-preflight — its artifact is a contract."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preflight.campaign.readiness import recount
from tests.hostile import KINDS, hostile_file, run_capped

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "campaign" / "ml_metaopt_campaign.yaml"
ARTIFACT = Path(".ml-metaopt") / "preflight-readiness.json"
SUBDIRS = ("handoffs", "worker-results", "tasks", "executor-events", "artifacts/code", "artifacts/data",
           "artifacts/manifests", "artifacts/patches")


def consumer_hash(payload: dict) -> str:
    """The formula LOAD_CAMPAIGN uses, written out here independently of preflight/campaign/spec.py."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def bare_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("work")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(work)]
    subprocess.run(["git", "init", "--quiet", str(work)], check=True)
    (work / "README").write_text("x\n")
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "x"], check=True)
    bare = tmp_path_factory.mktemp("remote") / "predictor.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(bare)], check=True)
    return f"file://{bare}"


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a ready campaign host has: `sky` on PATH, skypilot and vastai_sdk importable, the Vast key
    file, and a W&B key (fakes: the checks only look, never run them)."""
    root = tmp_path_factory.mktemp("backends")
    (root / "bin").mkdir()
    (root / "bin" / "sky").write_text("#!/bin/sh\nexit 0\n")
    (root / "bin" / "sky").chmod(0o755)
    site = root / "site"
    for package in ("sky", "vastai_sdk"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
    info = site / "skypilot-0.9.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: skypilot\nVersion: 0.9.0\n")
    home = root / "home"
    (home / ".config" / "vastai").mkdir(parents=True)
    (home / ".config" / "vastai" / "vast_api_key").write_text("vast-key\n")
    return {"PATH": f"{root / 'bin'}:/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": f"{ROOT}:{site}",
            "WANDB_API_KEY": "x" * 86}


def campaign(tmp_path: Path, bare_repo: str, **edits: object) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["project"]["repo"] = bare_repo
    for dotted, value in edits.items():
        node = data
        *parents, last = dotted.split("__")
        for part in parents:
            node = node[part]
        if value is DELETE:
            node.pop(last)
        else:
            node[last] = value
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


DELETE = object()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    return path


def run(run_cli, path: Path, project: Path, env: dict[str, str], *extra: str):
    return run_cli("campaign", "--campaign", str(path), "--cwd", str(project), *extra, env=env)


def test_ready_bootstraps_once_then_passes(tmp_path, run_cli, bare_repo, backends, project):
    path = campaign(tmp_path, bare_repo)
    first = run(run_cli, path, project, backends, "--json")
    artifact = json.loads(first.stdout)  # --json prints only the artifact
    assert first.returncode == 0 and artifact["status"] == "READY", first.stdout + first.stderr
    assert artifact == json.loads((project / ARTIFACT).read_text())
    summary = artifact["checks_summary"]
    assert summary == {"total": 14, "passed": 8, "failed": 0, "bootstrapped": 6, "warnings": 0}
    assert all((project / ".ml-metaopt" / d).is_dir() for d in SUBDIRS)
    assert (project / ".gitignore").read_text() == ".ml-metaopt/\n"
    assert artifact["failures"] == [] and artifact["next_action"] == "proceed"
    assert "B1" in artifact["diagnostics"] and "B2" in artifact["diagnostics"] and "B3" in artifact["diagnostics"]
    second = json.loads(run(run_cli, path, project, backends, "--json").stdout)
    assert second["checks_summary"]["bootstrapped"] == 0 and second["checks_summary"]["passed"] == 14
    assert (project / ".gitignore").read_text() == ".ml-metaopt/\n" and second["diagnostics"] is None
    ids = [c["id"] for c in second["checks"]]
    assert ids == ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "skypilot_installed", "vast_configured",
                   "wandb_credentials", "repo_access", "smoke_test_command_nonempty"]


def test_artifact_fields_and_hashes_match_the_consumer(tmp_path, run_cli, bare_repo, backends, project):
    path = campaign(tmp_path, bare_repo)
    artifact = json.loads(run(run_cli, path, project, backends, "--json").stdout)
    data = yaml.safe_load(path.read_text())
    wandb = {"entity": data["wandb"]["entity"], "project": data["wandb"]["project"]}
    assert artifact["campaign_identity_hash"] == consumer_hash(
        {"campaign_name": data["campaign"]["name"], "objective": {"metric": data["objective"]["metric"],
                                                                  "direction": data["objective"]["direction"]},
         "wandb": wandb})
    assert artifact["runtime_config_hash"] == consumer_hash(
        {"compute": data["compute"], "wandb": wandb,
         "project": {"repo": data["project"]["repo"], "smoke_test_command": data["project"]["smoke_test_command"]}})
    required = {"schema_version", "status", "campaign_id", "campaign_identity_hash", "runtime_config_hash",
                "emitted_at", "preflight_duration_seconds", "checks_summary", "failures", "next_action",
                "diagnostics"}
    assert required <= set(artifact) and artifact["schema_version"] == 1
    assert artifact["campaign_id"] == data["campaign"]["name"] and artifact["emitted_at"].endswith("Z")


def test_missing_compute_hashes_as_null(tmp_path, run_cli, bare_repo, backends, project):
    path = campaign(tmp_path, bare_repo, compute=DELETE)
    artifact = json.loads(run(run_cli, path, project, backends, "--json").stdout)
    data = yaml.safe_load(path.read_text())
    assert artifact["runtime_config_hash"] == consumer_hash(
        {"compute": None, "wandb": {"entity": data["wandb"]["entity"], "project": data["wandb"]["project"]},
         "project": {"repo": data["project"]["repo"], "smoke_test_command": data["project"]["smoke_test_command"]}})
    assert artifact["status"] == "FAILED" and "missing top-level section compute" in json.dumps(artifact)


@pytest.mark.parametrize("edits, check_id, needle", [
    ({"project__smoke_test_command": ""}, "R7", "smoke_test_command"),
    ({"project__repo": ""}, "R9", "project.repo"),
    ({"objective__direction": "up"}, "R8", "maximize or minimize"),
    ({"compute__num_sweep_agents": 17}, "R8", "[1, 16]"),
    ({"compute__num_sweep_agents": True}, "R8", "[1, 16]"),  # booleans never count as numbers
    ({"compute__max_budget_usd": 0}, "R8", "(0, 100]"),
    ({"compute__max_budget_usd": 100.5}, "R8", "(0, 100]"),
    ({"compute__max_budget_usd": False}, "R8", "(0, 100]"),
    ({"compute__idle_timeout_minutes": 4}, "R8", "[5, 60]"),
    ({"objective__improvement_threshold": 0}, "R8", "> 0"),
    ({"stop_conditions__max_iterations": -1}, "R8", "positive integer"),
    ({"stop_conditions__max_no_improve_iterations": 2.5}, "R8", "positive integer"),
    ({"proposal_policy": DELETE}, "R8", "missing top-level section proposal_policy"),
    ({"wandb__entity": DELETE}, "R8", "missing wandb.entity"),
    ({"project__repo": "https://github.com/YOUR_ORG/predictor.git"}, "R8", "placeholder"),
    ({"project__smoke_test_command": "replace-me"}, "R8", "placeholder"),
    ({"wandb__entity": "<your entity>"}, "R8", "placeholder"),
    ({"project__repo": "file:///nonexistent/repo.git"}, "repo_access", "git ls-remote"),
])
def test_each_failure_is_named_and_exits_1(tmp_path, run_cli, bare_repo, backends, project, edits, check_id, needle):
    out = run(run_cli, campaign(tmp_path, bare_repo, **edits), project, backends, "--json")
    artifact = json.loads(out.stdout)
    assert out.returncode == 1 and artifact["status"] == "FAILED"
    failed = {f["check_id"]: f for f in artifact["failures"]}
    assert check_id in failed and needle in failed[check_id]["message"], artifact["failures"]
    assert all(f["category"] in ("repo", "backend") for f in artifact["failures"])
    summary = artifact["checks_summary"]
    assert summary["passed"] + summary["failed"] + summary["bootstrapped"] + summary["warnings"] == summary["total"]
    assert artifact["next_action"] == (artifact["failures"][0]["remediation"] or artifact["failures"][0]["message"])


def test_empty_smoke_command_is_also_a_backend_warning_never_a_failure(tmp_path, run_cli, bare_repo, backends, project):
    artifact = json.loads(run(run_cli, campaign(tmp_path, bare_repo, project__smoke_test_command=""), project,
                              backends, "--json").stdout)
    checks = {c["id"]: c for c in artifact["checks"]}
    assert checks["smoke_test_command_nonempty"]["status"] == "warn"
    assert "smoke_test_command_nonempty" not in {f["check_id"] for f in artifact["failures"]}
    assert artifact["checks_summary"]["warnings"] == 1


@pytest.mark.parametrize("content, needle", [
    (None, "campaign file not found"),
    ("campaign: [unclosed\n", "malformed YAML"),
    ("", "root must be a mapping"),
    ("- a\n- b\n", "root must be a mapping"),
])
def test_usage_errors_exit_2_and_write_nothing(tmp_path, run_cli, backends, project, content, needle):
    path = tmp_path / "campaign.yaml"
    if content is not None:
        path.write_text(content)
    out = run(run_cli, path, project, backends)
    assert out.returncode == 2 and needle in out.stderr
    assert list(project.iterdir()) == []


def test_verify_campaign_artifact(tmp_path, run_cli, bare_repo, backends, project):
    path = campaign(tmp_path, bare_repo)
    assert run(run_cli, path, project, backends).returncode == 0
    artifact = project / ARTIFACT
    ok = run_cli("verify", str(artifact), "--campaign", str(path))
    assert ok.returncode == 0 and "READY" in ok.stdout
    other = campaign(tmp_path, bare_repo, wandb__project="elsewhere")
    mismatch = run_cli("verify", str(artifact), "--campaign", str(other))
    assert mismatch.returncode == 6 and "campaign_identity_hash mismatch" in mismatch.stderr
    budget = campaign(tmp_path, bare_repo, compute__max_budget_usd=30)
    runtime = run_cli("verify", str(artifact), "--campaign", str(budget))
    assert runtime.returncode == 6 and "runtime_config_hash mismatch" in runtime.stderr
    path = campaign(tmp_path, bare_repo)
    data = json.loads(artifact.read_text())
    failed = copy.deepcopy(data)  # a consistent FAILED: its failing check counted and listed
    failed["checks"][0]["status"] = "fail"
    failed["checks_summary"] = recount(failed["checks"])
    failed["failures"] = [{"check_id": data["checks"][0]["id"], "category": "repo", "message": "m", "remediation": "r"}]
    failed.update(status="FAILED", next_action="fix it")
    artifact.write_text(json.dumps(failed))
    assert run_cli("verify", str(artifact), "--campaign", str(path)).returncode == 1
    artifact.write_text(json.dumps({**data, "schema_version": 2}))
    unknown = run_cli("verify", str(artifact), "--campaign", str(path))
    assert unknown.returncode == 6 and "unknown schema_version 2" in unknown.stderr
    assert run_cli("verify", str(tmp_path / "none.json"), "--campaign", str(path)).returncode == 6


def test_probe_family_reports_without_writing(tmp_path, run_cli, bare_repo, project):
    path = campaign(tmp_path, bare_repo)
    config = tmp_path / "w.env"
    config.write_text(f"PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI=\n"
                      f"PREFLIGHT_CAMPAIGN={path}\n")
    out = run_cli("probe", "--config", str(config), "--json", cwd=project)
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["campaign.R1"]["status"] == "fail"
    assert "preflight campaign --campaign" in checks["campaign.R1"]["remediation"]
    assert checks["campaign.R8"]["status"] == "pass" and checks["campaign.repo_access"]["status"] == "pass"
    assert list(project.iterdir()) == []


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory, bare_repo: str, backends: dict[str, str]) -> tuple[Path, str]:
    """One READY campaign artifact for the verify tests below, which only edit copies of it."""
    root = tmp_path_factory.mktemp("ready")
    path = campaign(root, bare_repo)
    (root / "project").mkdir()
    made = subprocess.run([sys.executable, "-m", "preflight", "campaign", "--campaign", str(path), "--cwd",
                           str(root / "project")], env={**os.environ, **backends}, capture_output=True, text=True,
                          timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    return path, (root / "project" / ARTIFACT).read_text()


def _ready_with_failures(data: dict) -> None:
    data["failures"] = [{"check_id": "R7", "category": "repo", "message": "m", "remediation": "r"}]


def _ready_with_a_failing_check(data: dict) -> None:
    data["checks"][0]["status"] = "fail"
    data["checks_summary"] = recount(data["checks"])


def _lying_summary(data: dict) -> None:
    data["checks_summary"]["passed"] += 1
    data["checks_summary"]["total"] += 1


def _no_checks(data: dict) -> None:
    data["checks"] = []
    data["checks_summary"] = {k: 0 for k in data["checks_summary"]}


def _failed_without_a_failing_check(data: dict) -> None:
    data.update(status="FAILED", next_action="fix it")


def _checks_not_a_list(data: dict) -> None:
    data["checks"] = {"R1": "pass"}


@pytest.mark.parametrize("forge, needle", [
    (_ready_with_failures, "failures[] lists R7"),
    (_ready_with_a_failing_check, "status READY contradicts failed check(s): R1"),
    (_lying_summary, "checks_summary"),
    (_no_checks, "no checks"),
    (_failed_without_a_failing_check, "status FAILED but no check failed"),
    (_checks_not_a_list, "checks"),
])
def test_verify_campaign_recounts_like_the_probe(tmp_path, ready, forge, needle):
    """Issue 23 class 4: verify --campaign returned 0 for a READY its own checks[] contradicts."""
    path, text = ready
    data = json.loads(text)
    forge(data)
    artifact = tmp_path / "preflight-readiness.json"
    artifact.write_text(json.dumps(data))
    out = run_capped("verify", str(artifact), "--campaign", str(path), cwd=tmp_path)
    assert out.returncode == 6, out.stdout + out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("stamp", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_verify_campaign_out_of_range_time_is_unusable(tmp_path, ready, stamp):
    path, text = ready
    artifact = tmp_path / "preflight-readiness.json"
    artifact.write_text(json.dumps({**json.loads(text), "emitted_at": stamp}))
    out = run_capped("verify", str(artifact), "--campaign", str(path), cwd=tmp_path)
    assert out.returncode == 6 and "emitted_at" in out.stderr and "Traceback" not in out.stderr, out.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_verify_campaign_reads_only_a_bounded_regular_file(tmp_path, ready, kind):
    artifact = hostile_file(kind, tmp_path / "preflight-readiness.json")
    out = run_capped("verify", str(artifact), "--campaign", str(ready[0]), cwd=tmp_path)
    assert out.returncode == 6, (kind, out.returncode, out.stderr[-800:])
    assert str(artifact) in out.stderr and "Traceback" not in out.stderr


_LAUGHS = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
HOSTILE_YAML = {
    "alias-bomb": ("compute:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + _LAUGHS, "alias"),
    "deep-nesting": ("compute:\n  deep: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper"),
    "huge-integer": ("compute:\n  gpus: " + "7" * 5000 + "\n", "integer"),
    "date": ("compute:\n  start: 2024-06-01\n", "date"),
    "binary": ("compute:\n  blob: !!binary aGVsbG8=\n", "binary"),
    "set": ("compute:\n  zones: !!set {a, b}\n", "set"),
    "mixed-keys": ("compute:\n  1: one\n  two: 2\n", "key"),
    "infinity": ("compute:\n  budget: .inf\n", "finite"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_YAML))
def test_hostile_campaign_yaml_is_usage_and_writes_nothing(tmp_path, bare_repo, backends, project, case):
    """Issue 23 class 6: an alias bomb hung hashing; deep nesting and a 5000-digit integer crashed; dates,
    !!binary, !!set and mixed-type keys crashed after bootstrap had written. Exit 2, the file and line named,
    nothing written."""
    body, needle = HOSTILE_YAML[case]
    text = EXAMPLE.read_text().replace("https://github.com/example-org/predictor.git", bare_repo)
    text = text.replace("compute:\n", body.replace("compute:\n", "compute:\n", 1), 1)
    path = tmp_path / "campaign.yaml"
    path.write_text(text)
    out = run_capped("campaign", "--campaign", str(path), "--cwd", str(project), env=backends, cwd=tmp_path)
    assert out.returncode == 2, (case, out.returncode, out.stdout[-500:], out.stderr[-800:])
    assert str(path) in out.stderr and needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert list(project.iterdir()) == []
    if case not in ("alias-bomb",):
        assert f"{path}:" in out.stderr  # the line, where one node is to blame


def test_concurrent_bootstraps_add_the_gitignore_entry_once(tmp_path, monkeypatch):
    """Issue 23 class 6: two bootstraps on one --cwd both saw no entry and both appended it. The second
    must wait for the first (a lock on --cwd) and then see the entry. Deterministic: the first is held
    inside its append until the second has either finished or is seen waiting on the lock."""
    import threading

    from preflight.campaign import repo

    (tmp_path / ".gitignore").write_text("*.pyc\n")
    inside, go = threading.Event(), threading.Event()
    real = repo._append_gitignore

    def held(cwd):
        if not inside.is_set():
            inside.set()
            go.wait(60)
        real(cwd)

    monkeypatch.setattr(repo, "_append_gitignore", held)
    first = threading.Thread(target=repo.layout, args=(tmp_path, True, "r"))
    first.start()
    assert inside.wait(60)
    second = threading.Thread(target=repo.layout, args=(tmp_path, True, "r"))
    second.start()
    for _ in range(6000):  # until the second is done, or blocked on a lock (a "->" waiter in /proc/locks)
        if not second.is_alive() or any("->" in line and f" {os.getpid()} " in line
                                        for line in Path("/proc/locks").read_text().splitlines()):
            break
        second.join(0.01)
    go.set()
    first.join(60)
    second.join(60)
    assert (tmp_path / ".gitignore").read_text().count(".ml-metaopt/") == 1


def _outside_links(project: Path, outside: Path, case: str) -> Path:
    """A link inside --cwd that leads out of it; returns what must stay untouched outside."""
    outside.mkdir()
    if case == "gitignore-elsewhere":
        (outside / "victim").write_text("keep me\n")
        (project / ".gitignore").symlink_to(outside / "victim")
        return outside / "victim"
    if case == "gitignore-dangling":
        (project / ".gitignore").symlink_to(outside / "created")
        return outside / "created"
    if case == "artifacts-elsewhere":
        (project / ".ml-metaopt").mkdir()
        (project / ".ml-metaopt" / "artifacts").symlink_to(outside)
        return outside
    (project / ".ml-metaopt").symlink_to(outside)  # meta-elsewhere
    return outside


@pytest.mark.parametrize("case", ["gitignore-elsewhere", "gitignore-dangling", "artifacts-elsewhere", "meta-elsewhere"])
def test_bootstrap_never_writes_through_a_link_out_of_cwd(tmp_path, bare_repo, backends, project, case):
    """Issue 23 class 1: a .gitignore linked elsewhere got a line appended, a dangling one created a file
    outside, .ml-metaopt/artifacts linked out got directories made outside, and a .ml-metaopt linked out was
    "refused" by R1 while the artifact was still written through it. Exit 2, nothing written anywhere."""
    outside = tmp_path / "outside"
    untouched = _outside_links(project, outside, case)
    before = {p: (p.read_bytes() if p.is_file() else None) for p in outside.rglob("*")}
    inside = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
    out = run(lambda *a, **k: run_capped(*a, env=k["env"], cwd=tmp_path), campaign(tmp_path, bare_repo), project,
              backends)
    assert out.returncode == 2, (out.returncode, out.stdout[-400:], out.stderr[-400:])
    assert "outside" in out.stderr and "nothing was written" in out.stderr, out.stderr
    assert {p: (p.read_bytes() if p.is_file() else None) for p in outside.rglob("*")} == before
    assert untouched.exists() == (case != "gitignore-dangling")
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*")) == inside
