"""Issue 14: advisory training-code findings — each rule fires on its pattern and stays silent on
look-alikes; suppression both ways; a file that does not parse; the console and artifact bounds."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from preflight.lint import facts, rules

SETTINGS = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=3600,
                          longest_train_s=None)
UPLOAD_HELPER = '''
import boto3

def keep(path):
    boto3.client("s3").upload_file(path, "models", path)
'''


def lint(*sources: str, settings: rules.Settings = SETTINGS, ignore: tuple[str, ...] = ()) -> list[rules.Finding]:
    files = [facts.read(f"f{n}.py", textwrap.dedent(src)) for n, src in enumerate(sources)]
    return rules.unsuppressed(rules.judge(files, settings), files, set(ignore))


def fired(found: list[rules.Finding]) -> set[str]:
    return {f.rule for f in found}


CASES = {
    "ephemeral-save": (
        "import torch\ntorch.save(model.state_dict(), 'model.pt')\n",
        ["import torch\ntorch.save(model.state_dict(), 'model.pt')\n", UPLOAD_HELPER],  # helper in the project
        ["import torch\nmodel = torch.load('model.pt')\nprint(model(x))\n"],  # inference only
    ),
    "push-without-hub-id": (
        "args = TrainingArguments(output_dir='out', push_to_hub=True, report_to='wandb')\n",
        ["args = TrainingArguments(output_dir='out', push_to_hub=True, hub_model_id='org/m')\n"],
        ["args = TrainingArguments(output_dir='out', push_to_hub=False)\nmodel.push_to_hub('o/m')\n"],
    ),
    "flash-attn-missing": (
        "m = AutoModel.from_pretrained('x', attn_implementation='flash_attention_2')\n",
        ["m = AutoModel.from_pretrained('x', attn_implementation='sdpa')\n"],
        ["m = AutoModel.from_pretrained('x', use_flash_attention_2=False)\n"],
    ),
    "no-tracking": (
        "trainer = Trainer(model=model, args=args)\ntrainer.train()\n",
        ["trainer = Trainer(model=model, args=TrainingArguments('o', report_to=['wandb']))\ntrainer.train()\n"],
        ["model.eval()\npreds = model.predict(x)\n"],  # inference only
    ),
    "no-resume": (
        "for epoch in range(3):\n    step()\n    torch.save(model.state_dict(), f'ckpt-{epoch}.pt')\n",
        ["for epoch in range(3):\n    torch.save(model.state_dict(), f'ckpt-{epoch}.pt')\n"
         "model.load_state_dict(torch.load(last))\n"],
        ["train_all()\ntorch.save(model.state_dict(), 'final.pt')\n"],  # one final save, no checkpoints
    ),
    "gpu-code-gpu-check-off": (
        "model = model.to('cuda')\n",
        ["model = model.to('cpu')\n"],
        ["x = torch.zeros(3, device='cpu')\n"],
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_pattern_and_stays_silent_on_look_alikes(rule: str):
    firing, *silent = CASES[rule]
    assert rule in fired(lint(firing)), lint(firing)
    for sources in silent:
        assert rule not in fired(lint(*sources)), (sources, lint(*sources))


def test_gpu_rule_is_silent_when_the_gpu_is_checked():
    on = rules.Settings(has_flash_attn_requirement=False, gpu_check="required", train_timeout_s=3600,
                        longest_train_s=None)
    assert "gpu-code-gpu-check-off" not in fired(lint(CASES["gpu-code-gpu-check-off"][0], settings=on))


def test_flash_rule_is_silent_when_flash_attn_is_a_requirement():
    pinned = rules.Settings(has_flash_attn_requirement=True, gpu_check="off", train_timeout_s=3600,
                            longest_train_s=None)
    assert "flash-attn-missing" not in fired(lint(CASES["flash-attn-missing"][0], settings=pinned))


@pytest.mark.parametrize("timeout, history, entry, fires", [
    (1000, 900.0, "", True),          # below 1.2 x 900 s
    (1300, 1000.0, "", False),        # 1.3 x the longest: enough
    (1200, None, "model.fit(x, y)\n", True),   # no history, an entry point, below 1800 s
    (600, None, "print('no training here')\n", False),  # no history, no entry point
])
def test_train_timeout_short(timeout: int, history: float | None, entry: str, fires: bool):
    settings = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=timeout,
                              longest_train_s=history)
    assert ("train-timeout-short" in fired(lint(entry or "x = 1\n", settings=settings))) == fires


def test_config_findings_name_the_real_config_file_and_line():
    """Issue 22 item 8: not `workflow.env:0` for a config named alpaca.env."""
    settings = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=600,
                              longest_train_s=None, config_file="/cfg/alpaca.env", timeout_line=12)
    found = [f for f in lint("model.fit(x, y)\n", settings=settings) if f.rule == "train-timeout-short"]
    assert (found[0].file, found[0].line) == ("/cfg/alpaca.env", 12)
    default = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=600,
                             longest_train_s=None, config_file="/cfg/alpaca.env", timeout_line=0)
    found = [f for f in lint("model.fit(x, y)\n", settings=default) if f.rule == "train-timeout-short"]
    assert "(the default: the config does not set it)" in found[0].message


@pytest.mark.parametrize("trackers, v4, fires", [
    ((), True, True),                  # nothing tracks
    (("wandb",), True, False),         # wandb in the requirements is tracking
    (("tensorboard",), True, False),   # transformers 4: Trainer reports to every installed integration
    (("tensorboard",), False, True),   # transformers 5: report_to defaults to "none"
])
def test_hf_trainer_reports_to_installed_integrations_by_default(trackers: tuple, v4: bool, fires: bool):
    settings = rules.Settings(has_flash_attn_requirement=False, gpu_check="off", train_timeout_s=3600,
                              longest_train_s=None, trackers=trackers, transformers_v4=v4)
    source = "from transformers import Trainer\ntrainer = Trainer(model=m, args=a)\ntrainer.train()\n"
    assert ("no-tracking" in fired(lint(source, settings=settings))) == fires


def test_history_comes_from_earlier_runs(tmp_path: Path):
    for name, seconds, code in (("a", 700.0, 0), ("b", 1500.0, 0), ("c", 9000.0, 5)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps({"steps": [
            {"step": "train", "exit_code": code, "duration_s": seconds}]}))
    assert rules.longest_train_step(tmp_path) == 1500.0  # failed runs do not count
    assert rules.longest_train_step(tmp_path / "none") is None


def test_suppression_per_line_and_per_project():
    source = "import torch\ntorch.save(model, 'm.pt')  # preflight: ignore[ephemeral-save]\n"
    assert "ephemeral-save" not in fired(lint(source))
    assert "ephemeral-save" not in fired(lint(CASES["ephemeral-save"][0], ignore=("ephemeral-save",)))
    other = "import torch\ntorch.save(model, 'm.pt')  # preflight: ignore[no-resume]\n"
    assert "ephemeral-save" in fired(lint(other))  # suppressing another rule suppresses nothing else


def test_a_file_that_does_not_parse_is_one_info_finding():
    found = lint("def broken(:\n", CASES["ephemeral-save"][0])
    syntax = [f for f in found if f.rule == "syntax-error"]
    assert len(syntax) == 1 and syntax[0].severity == "info" and "ephemeral-save" in fired(found)


def _probe(tmp_path: Path, run_cli, source: str, *args: str):
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "train.py").write_text(source)
    (project / "tests" / "test_train.py").write_text("import torch\ntorch.save(m, 'x.pt')\n")  # tests are not linted
    (project / ".venv").mkdir(exist_ok=True)
    (project / ".venv" / "junk.py").write_text("def broken(:\n")  # venvs and hidden dirs neither
    config = tmp_path / "w.env"
    config.write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI=\n"
                      "PREFLIGHT_REQUIRED_ENV=\nTRAIN_TIMEOUT_SECONDS=1800\n")
    return run_cli("probe", "--config", str(config), *args, cwd=project)


def test_500_findings_bound_the_console_and_the_artifact(tmp_path: Path, run_cli):
    source = "import torch\n" + "".join(f"torch.save(model_{i}, 'm{i}.pt')\n" for i in range(500))
    console = _probe(tmp_path, run_cli, source)
    assert console.returncode == 0, console.stdout + console.stderr  # findings never fail the probe
    lines = [line for line in console.stdout.splitlines() if "[ephemeral-save]" in line]
    assert len(lines) == 20 and "… and 480 more" in console.stdout
    assert "WARN lint" in console.stdout and "500 findings in 1 files" in console.stdout
    artifact = json.loads(_probe(tmp_path, run_cli, source, "--json").stdout)
    assert len(json.dumps(artifact, separators=(",", ":")).encode()) <= 16 * 1024
    lint_check = next(c for c in artifact["checks"] if c["id"] == "lint")
    assert lint_check["status"] == "warn" and artifact["status"] == "READY"
    assert artifact["checks_summary"]["warnings"] >= 1
    # Twenty whole findings, and every one of the 500 by rule, file and line.
    details = lint_check["details"]
    assert len(details["findings"]) == 20 and details["total"] == 500
    assert details["locations"] == {"ephemeral-save": {"train.py": list(range(2, 502))}}


def test_info_only_findings_keep_the_check_a_pass(tmp_path: Path, run_cli):
    artifact = json.loads(_probe(tmp_path, run_cli, "model.fit(x, y)  # a training entry point, untracked\n",
                                 "--json").stdout)
    lint_check = next(c for c in artifact["checks"] if c["id"] == "lint")
    assert lint_check["status"] == "pass" and lint_check["details"]["by_rule"] == {"no-tracking": 1}


def test_cached_facts_equal_parsed_ones_and_only_changed_files_are_parsed(tmp_path: Path, monkeypatch):
    """The facts cache (preflight/lint/cache.py) skips parsing, never a finding."""
    from preflight.lint import __main__ as lint_main

    project = tmp_path / "project"
    project.mkdir()
    everything = [textwrap.dedent(fire) for fire, *_ in CASES.values()] + [UPLOAD_HELPER, "x = (\n",
                                                                             "y = 1  # preflight: ignore[no-resume]\n"]
    for n, source in enumerate(everything):
        (project / f"m{n}.py").write_text(source)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    parsed: list[str] = []
    real_read = facts.read
    monkeypatch.setattr(lint_main.fact_reader, "read", lambda shown, src: parsed.append(shown) or real_read(shown, src))

    first, lines, _ = lint_main._read_all(project, [])
    assert len(parsed) == len(everything)
    again, lines_again, _ = lint_main._read_all(project, [])
    assert len(parsed) == len(everything), "an unchanged file was parsed again"
    assert again == first and lines_again == lines  # Facts from JSON equal Facts from the AST, sets and tuples too

    (project / "m0.py").write_text("# moved down a line\n" + everything[0])
    moved, _, _ = lint_main._read_all(project, [])
    assert parsed[len(everything):] == ["m0.py"]
    saves = {f.path: f.saves for f in moved}["m0.py"]
    assert saves and saves[0][0] == 3  # the finding's line follows the edit

    cache_file = next((tmp_path / "cache" / "spot-preflight" / "lint").glob("*.json"))
    cache_file.write_text("{not json")
    assert lint_main._read_all(project, [])[0] == moved  # a broken cache is parsed around
    assert len(parsed) == 2 * len(everything) + 1


def test_an_unwritable_cache_costs_only_the_parse(tmp_path: Path, monkeypatch):
    from preflight.lint import __main__ as lint_main

    (tmp_path / "train.py").write_text(CASES["ephemeral-save"][0])
    (tmp_path / "not-a-dir").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-dir"))
    found, _, _ = lint_main._read_all(tmp_path, ["train.py"])
    assert [f.saves for f in found] == [[(2, "torch.save", False)]]


@pytest.mark.parametrize("line, v4", [("transformers==5.1.0", False), ("transformers>=4.40,<5", True),
                                      ("transformers", True), ("", True)])
def test_requirement_facts_read_the_transformers_major(tmp_path: Path, line: str, v4: bool):
    from preflight.checks.lint import _requirement_facts
    from tests.conftest import make_context

    (tmp_path / "req.txt").write_text(f"wandb==0.19.1\n{line}\n")
    facts = _requirement_facts(make_context(tmp_path, PREFLIGHT_PINS_FILE=str(tmp_path / "req.txt")))
    assert facts["transformers_v4"] is v4 and facts["trackers"] == ("wandb",)


# --- issue 23 class 6: one bad file, a short deadline or a broken cache never costs the other findings ---

DEEP = "x = " + "+".join(["a"] * 3000) + "\n"  # ast.parse raises RecursionError, not SyntaxError


def _lint_check(out) -> dict:
    artifact = json.loads(out.stdout)
    return next(c for c in artifact["checks"] if c["id"] == "lint")


def test_a_3000_deep_expression_is_one_info_finding_and_the_others_stay(tmp_path: Path, run_cli):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "deep.py").write_text(DEEP)
    out = _probe(tmp_path, run_cli, CASES["ephemeral-save"][0], "--json")
    check = _lint_check(out)
    assert check["status"] == "warn", check
    rules_seen = check["details"]["by_rule"]
    assert rules_seen.get("ephemeral-save") == 1 and rules_seen.get("unreadable") == 1, rules_seen
    deep = next(f for f in check["details"]["findings"] if f["rule"] == "unreadable")
    assert deep["file"] == "deep.py" and deep["severity"] == "info" and "nested too deeply" in deep["message"]


def test_a_py_that_is_dev_zero_is_one_info_finding_and_memory_stays_bounded(tmp_path: Path):
    from tests.hostile import run_capped

    project = tmp_path / "project"
    project.mkdir()
    (project / "zero.py").symlink_to("/dev/zero")
    (project / "fifo.py").parent.mkdir(exist_ok=True)
    os.mkfifo(project / "fifo.py")
    (project / "big.py").write_text("x = 1\n" * 400_000)  # 2.4 MB: over the per-file cap
    _probe_files(tmp_path, CASES["ephemeral-save"][0])
    out = run_capped("probe", "--config", str(tmp_path / "w.env"), "--json", cwd=project)
    check = _lint_check(out)
    assert check["status"] == "warn", check
    unreadable = {f["file"]: f["message"] for f in check["details"]["findings"] if f["rule"] == "unreadable"}
    assert set(unreadable) == {"zero.py", "fifo.py", "big.py"}, unreadable
    assert "character device" in unreadable["zero.py"] and "FIFO" in unreadable["fifo.py"]
    assert check["details"]["by_rule"].get("ephemeral-save") == 1


def test_a_deadline_too_short_for_lint_is_a_warning_never_a_failure(tmp_path: Path, run_cli):
    (tmp_path / "project").mkdir()
    _probe_files(tmp_path, CASES["ephemeral-save"][0], "CHECK_TIMEOUTS=lint:0.01\n")
    out = run_cli("probe", "--config", str(tmp_path / "w.env"), "--json", cwd=tmp_path / "project")
    check = _lint_check(out)
    # Killed at its deadline or done within the child's half-second floor: advisory either way.
    assert check["status"] == "warn" and ("advisory" in check["message"] or check["details"].get("findings")), check
    assert out.returncode == 0, out.stdout[-800:]


def test_a_lint_child_killed_at_its_own_deadline_says_the_check_is_advisory(tmp_path: Path, monkeypatch):
    # The runner's deadline and the child's are two routes to one outcome: each must read the same.
    # The child is a real process that outlives its limit (an interpreter that only sleeps), killed by
    # run_guarded as a slow lint would be.
    from preflight import child
    from preflight.checks import lint as lint_check
    from tests.conftest import make_context

    sleepy = tmp_path / "python"
    sleepy.write_text("#!/bin/sh\nexec sleep 60\n")
    sleepy.chmod(0o755)
    real = child.run_guarded
    monkeypatch.setattr(lint_check, "run_guarded",
                        lambda module, request, deadline_s, environ, **kw: real(module, request, 0.5, environ,
                                                                               python=str(sleepy)))
    monkeypatch.chdir(tmp_path)
    outcome = lint_check.check_lint(make_context(tmp_path, PREFLIGHT_LINT_PATHS="x.py"), 0.5)
    assert outcome.status == "warn", outcome
    assert outcome.message.startswith("advisory check, not a failure: did not finish within its deadline"), outcome
    assert "CHECK_TIMEOUTS=lint:" in outcome.remediation


def _probe_files(tmp_path: Path, source: str, extra: str = "") -> None:
    (tmp_path / "project" / "train.py").write_text(source)
    (tmp_path / "w.env").write_text("PREFLIGHT_IMPORTS=\nPREFLIGHT_IMPORT_NAMES=\nPREFLIGHT_PINS_FILE=\nARCTICDB_URI=\n"
                                    "PREFLIGHT_REQUIRED_ENV=\nTRAIN_TIMEOUT_SECONDS=1800\n" + extra)


@pytest.mark.parametrize("corrupt", ["short-tuple", "path-not-text", "files-a-list", "entry-a-string"])
def test_a_corrupted_cache_entry_is_parsed_again_and_rewritten(tmp_path: Path, monkeypatch, corrupt: str):
    from preflight.lint import __main__ as lint_main

    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(textwrap.dedent(CASES["no-resume"][0]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = lint_main._read_all(project, [])[0]
    cache_file = next((tmp_path / "cache" / "spot-preflight" / "lint").glob("*.json"))
    data = json.loads(cache_file.read_text())
    digest = next(iter(data["files"]))
    if corrupt == "short-tuple":
        data["files"][digest]["saves"] = [[3, "torch.save"]]
    elif corrupt == "path-not-text":
        data["files"][digest]["path"] = 7
    elif corrupt == "files-a-list":
        data["files"] = [data["files"][digest]]
    else:
        data["files"][digest] = "garbage"
    cache_file.write_text(json.dumps(data))
    again = lint_main._read_all(project, [])[0]
    assert again == first
    rules.judge(again, SETTINGS)  # the rules can read what the cache gave
    parsed: list[str] = []
    real = facts.read
    monkeypatch.setattr(lint_main.fact_reader, "read", lambda shown, src: parsed.append(shown) or real(shown, src))
    assert lint_main._read_all(project, [])[0] == first and parsed == [], "the bad entry was not rewritten"


def test_lint_without_home_or_passwd_entry_runs_without_a_cache(tmp_path: Path, monkeypatch):
    import pwd

    from preflight.lint import __main__ as lint_main

    (tmp_path / "train.py").write_text(CASES["ephemeral-save"][0])
    for name in ("HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    found, _, _ = lint_main._read_all(tmp_path, ["train.py"])
    assert [f.saves for f in found] == [[(2, "torch.save", False)]]


def test_a_cache_dir_others_can_write_is_not_trusted(tmp_path: Path, monkeypatch):
    """A planted entry in a world-writable cache would hide a finding: such a cache is not read."""
    from preflight.lint import __main__ as lint_main
    from preflight.lint.cache import key

    (tmp_path / "train.py").write_text(CASES["ephemeral-save"][0])
    shared = tmp_path / "shared"
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    lint_main._read_all(tmp_path, ["train.py"])
    cache_file = next((shared / "spot-preflight" / "lint").glob("*.json"))
    data = json.loads(cache_file.read_text())
    digest = key("train.py", (tmp_path / "train.py").read_text())
    data["files"][digest]["saves"] = []  # planted: "this file saves nothing"
    cache_file.write_text(json.dumps(data))
    (shared / "spot-preflight" / "lint").chmod(0o777)
    found, _, _ = lint_main._read_all(tmp_path, ["train.py"])
    assert [f.saves for f in found] == [[(2, "torch.save", False)]]
