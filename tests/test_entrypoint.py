"""entrypoint and paths against fixture repos shaped like real training repos: a top-level train.py
with no main guard that trains on import, flat helper modules, dataclass arguments, lazy imports
inside function bodies, torchrun / accelerate / shell-script launchers. Nothing is hand-listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.checks.entrypoint import check_entrypoint
from preflight.checks.paths import check_paths
from preflight.entry.command import find_entries
from tests.conftest import make_context, write_files

TORCHRUN = ("torchrun --nproc_per_node=4 --master_port=1234 train.py --data_path ./data.json "
            "--output_dir out")

TRAIN = '''import copy
import logging
from dataclasses import dataclass, field
from typing import Optional

import utils
from utils import jload
from slowlib import Trainer

# No main guard: importing this file trains (and leaves a sentinel behind).
open({sentinel!r}, "w").write("trained")


@dataclass
class DataArguments:
    data_path: Optional[str] = field(default=None)


def make_supervised_data_module(path):
    from data_helpers import format_prompt
    rows = jload(path)
    logging.info("loaded %d", len(rows))
    return [format_prompt(copy.deepcopy(r)) for r in rows], utils.jdump


Trainer(make_supervised_data_module(DataArguments().data_path))
'''


@pytest.fixture
def alpaca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The Stanford-Alpaca shape: train.py, utils.py, an outside library the project imports from."""
    repo, site = tmp_path / "repo", tmp_path / "site"
    sentinel = tmp_path / "TRAINED"
    write_files(repo, {
        "train.py": TRAIN.format(sentinel=str(sentinel)),
        "utils.py": "import json\n\n\ndef jload(path):\n    return json.load(open(path))\n\n\n"
                    "def jdump(obj, path):\n    json.dump(obj, open(path, 'w'))\n",
        "data_helpers.py": "def format_prompt(row):\n    return row\n",
        "data.json": "[]\n",
        "scripts/train.sh": "#!/bin/bash\nset -e\n# fine-tune\nexport WANDB_PROJECT=x\n"
                            + TORCHRUN.replace(" train.py", " \\\n  train.py") + "\n",
    })
    write_files(site, {"slowlib/__init__.py": "class Trainer:\n    def __init__(self, *a):\n        pass\n"})
    monkeypatch.chdir(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the facts cache, per test
    env = {"PYTHONPATH": str(site)}
    return {"repo": repo, "site": site, "sentinel": sentinel, "env": env}


def _entry(env: dict, **values: str):
    values = {"PROJECT_PYTHONPATH": "", "SMOKE_CMD": "", **values}
    return check_entrypoint(make_context(Path.cwd(), env, **values), 30)


@pytest.mark.parametrize("command, kind, target, cwd", [
    (TORCHRUN, "file", "train.py", ""),
    ("python -m predictor.cli train", "module", "predictor.cli", ""),
    ("python3 -u -X dev -W ignore train.py --x 1", "file", "train.py", ""),
    ("env A=1 B=2 python -c 'from pkg.handler import main; main()'", "code", "from pkg.handler import main; main()",
     ""),
    ("cd sub && CUDA_VISIBLE_DEVICES=0 nohup python run.py", "file", "run.py", "sub"),
    ("accelerate launch --config_file cfg.yaml --num_processes 2 --multi_gpu train.py --a b", "file", "train.py", ""),
    ("deepspeed --num_gpus 8 train.py --deepspeed ds.json", "file", "train.py", ""),
    ("uv run --with x python train.py", "file", "train.py", ""),
    ("uv run --frozen train.py", "file", "train.py", ""),
    ("python -m torch.distributed.run --nproc-per-node 2 -m pkg.train", "module", "pkg.train", ""),
    ("torchrun --standalone --nnodes 1 --module pkg.train", "module", "pkg.train", ""),
    ("/opt/venv/bin/python3.11 -m pkg", "module", "pkg", ""),
])
def test_commands_name_their_entry(command: str, kind: str, target: str, cwd: str, tmp_path: Path):
    entries = find_entries(command, "TRAIN_CMD", tmp_path)
    assert [(e.kind, e.target, e.cwd) for e in entries] == [(kind, target, cwd)]


def test_a_shell_script_is_followed_into(alpaca: dict):
    entries = find_entries("bash scripts/train.sh", "TRAIN_CMD", alpaca["repo"])
    assert [(e.kind, e.target, e.source) for e in entries] == [("file", "train.py", "scripts/train.sh:5")]
    assert entries[0].args == ("--data_path", "./data.json", "--output_dir", "out")


@pytest.mark.parametrize("command", ["make train", "", "python", "echo 'unbalanced"])
def test_no_entry_is_never_a_pass(command: str, alpaca: dict):
    outcome = _entry(alpaca["env"], TRAIN_CMD=command or "make train")
    assert outcome.status == "warn" and "no Python entry found" in outcome.message


def test_nothing_configured_is_a_skip_that_says_what_to_set(alpaca: dict):
    outcome = _entry(alpaca["env"], TRAIN_CMD="")
    assert outcome.status == "skip" and "TRAIN_CMD" in outcome.message


def test_clean_repo_passes_and_the_entry_never_runs(alpaca: dict):
    outcome = _entry(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert outcome.status == "pass", outcome.message
    assert "train.py (from TRAIN_CMD)" in outcome.message
    assert outcome.details["project_modules"] == 3  # train.py, utils.py, data_helpers.py (lazy)
    assert not alpaca["sentinel"].exists(), "the entry script was executed"


def test_the_shell_script_entry_passes_too(alpaca: dict):
    assert _entry(alpaca["env"], TRAIN_CMD="bash scripts/train.sh").status == "pass"


def test_a_moved_helper_fails_naming_the_line_the_module_and_where_it_went(alpaca: dict):
    utils = alpaca["repo"] / "utils.py"
    utils.write_text("import json\n\n\ndef jdump(obj, path):\n    json.dump(obj, open(path, 'w'))\n")
    (alpaca["repo"] / "utils_io.py").write_text("import json\n\n\ndef jload(path):\n    return json.load(open(path))\n")
    outcome = _entry(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert outcome.status == "fail"
    assert "train.py:7: `from utils import jload`: jload is not defined in utils" in outcome.message
    assert "jload is now defined in utils_io.py:4" in outcome.message
    assert not alpaca["sentinel"].exists()


def test_a_helper_deleted_under_a_lazy_import_in_a_function_body_fails(alpaca: dict):
    (alpaca["repo"] / "data_helpers.py").write_text("def other():\n    pass\n")
    outcome = _entry(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert outcome.status == "fail"
    assert "train.py:20: `from data_helpers import format_prompt`: format_prompt is not defined" in outcome.message


def test_an_attribute_of_a_project_module_that_is_gone_fails(alpaca: dict):
    (alpaca["repo"] / "utils.py").write_text("import json\n\n\ndef jload(path):\n    return json.load(open(path))\n")
    outcome = _entry(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert outcome.status == "fail" and "`utils.jdump`: jdump is not defined in utils" in outcome.message


def test_python_c_entry_and_a_package_helper_deleted_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write_files(tmp_path, {"pkg/__init__.py": "",
                      "pkg/handler.py": "def main():\n    from pkg.steps import fit\n    fit()\n",
                      "pkg/steps.py": "def fit():\n    pass\n"})
    monkeypatch.chdir(tmp_path)
    command = "python -c 'from pkg.handler import main; main()'"
    assert _entry({}, TRAIN_CMD=command).status == "pass"
    (tmp_path / "pkg/steps.py").write_text("def fit_v2():\n    pass\n")
    outcome = _entry({}, TRAIN_CMD=command)
    assert outcome.status == "fail"
    assert "pkg/handler.py:2: `from pkg.steps import fit`: fit is not defined in pkg.steps" in outcome.message
    (tmp_path / "pkg/handler.py").unlink()
    outcome = _entry({}, TRAIN_CMD=command)
    assert outcome.status == "fail" and "<-c>:1: module pkg.handler is not in the project" in outcome.message


def test_src_layout_relative_imports_and_module_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write_files(tmp_path, {"src/app/__init__.py": "from .config import SETTINGS\n",
                      "src/app/config.py": "SETTINGS = {}\n",
                      "src/app/__main__.py": "from . import config\nfrom .models import build\n"
                                             "build(config.SETTINGS)\n",
                      "src/app/models/__init__.py": "from .net import build\n",
                      "src/app/models/net.py": "def build(settings):\n    return settings\n"})
    monkeypatch.chdir(tmp_path)
    outcome = _entry({}, TRAIN_CMD="python -m app", PROJECT_PYTHONPATH="src")
    assert outcome.status == "pass", outcome.message
    (tmp_path / "src/app/models/net.py").write_text("def build_v2(settings):\n    return settings\n")
    outcome = _entry({}, TRAIN_CMD="python -m app", PROJECT_PYTHONPATH="src")
    assert outcome.status == "fail" and "src/app/models/__init__.py:1" in outcome.message
    assert "build is not defined in app.models.net" in outcome.message


def test_outside_modules_are_looked_up_in_the_venv(alpaca: dict):
    (alpaca["repo"] / "extra.py").write_text(
        "import not_installed_anywhere_xyz\nfrom json import no_such_name\n"
        "try:\n    import optional_accelerator_xyz\nexcept ImportError:\n    optional_accelerator_xyz = None\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import only_for_types_xyz\n")
    (alpaca["repo"] / "data_helpers.py").write_text("import extra\n\n\ndef format_prompt(row):\n    return row\n")
    outcome = _entry(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert outcome.status == "fail"
    assert "extra.py:1: `not_installed_anywhere_xyz` is not installed in the project venv" in outcome.message
    assert "extra.py:2: cannot import name 'no_such_name' from json" in outcome.message
    assert "optional_accelerator_xyz" not in outcome.message and "only_for_types_xyz" not in outcome.message
    assert any("optional_accelerator_xyz" in line for line in outcome.details["optional"])


def test_a_slow_import_is_named_not_called_a_hang(alpaca: dict):
    (alpaca["site"] / "slowlib" / "__init__.py").write_text(
        "from slowlib import heavy\nclass Trainer:\n    pass\n")
    (alpaca["site"] / "slowlib" / "heavy.py").write_text("import time\nwhile True:\n    time.sleep(0.05)\n")
    outcome = check_entrypoint(make_context(Path.cwd(), alpaca["env"], PROJECT_PYTHONPATH="", SMOKE_CMD="",
                                            TRAIN_CMD=TORCHRUN), 4)
    assert outcome.status == "fail"
    assert "still importing slowlib" in outcome.message and "slowlib.heavy" in outcome.message


def test_a_module_with_getattr_cannot_be_told_and_is_not_a_failure(alpaca: dict):
    (alpaca["repo"] / "utils.py").write_text("def __getattr__(name):\n    return lambda *a: None\n")
    outcome = _entry(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert outcome.status == "pass", outcome.message
    assert any("utils.jload" in line for line in outcome.details["cannot_tell"])


def test_the_parse_is_shared_through_the_facts_cache(alpaca: dict, tmp_path: Path):
    env = {**alpaca["env"]}
    first = check_entrypoint(make_context(Path.cwd(), env, PROJECT_PYTHONPATH="", SMOKE_CMD="", TRAIN_CMD=TORCHRUN), 30)
    again = check_entrypoint(make_context(Path.cwd(), env, PROJECT_PYTHONPATH="", SMOKE_CMD="", TRAIN_CMD=TORCHRUN), 30)
    assert first.details["files_parsed"] == 3 and again.details["files_parsed"] == 0


# --- paths -----------------------------------------------------------------------------------------


def _paths(env: dict, **values: str):
    values = {"PROJECT_PYTHONPATH": "", "SMOKE_CMD": "", **values}
    return check_paths(make_context(Path.cwd(), env, **values), 10)


def test_paths_configured_and_derived(alpaca: dict):
    assert _paths(alpaca["env"], TRAIN_CMD=TORCHRUN, PREFLIGHT_PATHS="data.json,scripts").status == "pass"
    (alpaca["repo"] / "data.json").unlink()
    derived = _paths(alpaca["env"], TRAIN_CMD=TORCHRUN)
    assert derived.status == "warn" and "./data.json (TRAIN_CMD)" in derived.message
    assert "out" not in derived.details["absent_from_commands"]  # an output directory is not an input
    configured = _paths(alpaca["env"], TRAIN_CMD=TORCHRUN, PREFLIGHT_PATHS="data.json,/nonexistent/dir")
    assert configured.status == "fail"
    assert "2 of 2 PREFLIGHT_PATHS missing: data.json; /nonexistent/dir" in configured.message
    assert "./data.json (TRAIN_CMD)" in configured.message


def test_paths_on_s3_are_read_only_heads_and_lists(alpaca: dict, s3, aws_env: dict):
    s3.create_bucket(Bucket="train-data")
    s3.put_object(Bucket="train-data", Key="alpaca/data.json", Body=json.dumps([]).encode())
    env = {**alpaca["env"], **aws_env}
    ok = _paths(env, PREFLIGHT_PATHS="s3://train-data/alpaca/data.json,s3://train-data/alpaca/", AWS_REGION="us-east-1")
    assert ok.status == "pass", ok.message
    bad = _paths(env, PREFLIGHT_PATHS="s3://train-data/alpaca/gone.json,s3://train-data/nothing/",
                 AWS_REGION="us-east-1")
    assert bad.status == "fail"
    assert "s3://train-data/alpaca/gone.json: 404 does not exist" in bad.message
    assert "s3://train-data/nothing/: no object under this prefix" in bad.message


def test_lint_judges_the_closure_and_parses_nothing_the_closure_read(alpaca: dict, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    """Issue 22 item 8 and issue 20's one parse per file: a post-processing script training never
    imports is not linted, and lint's child finds every closure file in the facts cache."""
    from preflight.checks.lint import check_lint

    (alpaca["repo"] / "postprocess.py").write_text("import torch\ntorch.save(model.state_dict(), 'final.pt')\n")
    env = {**alpaca["env"], "XDG_CACHE_HOME": str(tmp_path / "cache")}
    ctx = make_context(Path.cwd(), env, PROJECT_PYTHONPATH="", SMOKE_CMD="", TRAIN_CMD=TORCHRUN)
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])  # the probe process's own cache, as on the host
    outcome = check_lint(ctx, 30)
    assert outcome.details["scope"] == "the entry's import closure"
    assert outcome.details["files"] == 3 and outcome.details["parsed"] == 0
    assert "postprocess.py" not in json.dumps(outcome.details["locations"])
    whole = check_lint(make_context(Path.cwd(), env, PROJECT_PYTHONPATH="", SMOKE_CMD="", TRAIN_CMD=""), 30)
    assert whole.details["scope"] == "the project" and "postprocess.py" in json.dumps(whole.details["locations"])


# --- shapes of real repos (a review against nanoGPT, minGPT, alpaca, llama-recipes, axolotl, litgpt,
# FastChat, alpaca-lora and trl found each of these; every case is the smallest repo that shows it) ---

REAL_SHAPES = {
    "nested namespace dirs: the entry module is found, never imported": (
        {"experiments/gpt/train.py": "open('ENTRY_RAN', 'w').write('x')\n"}, "python -m experiments.gpt.train",
        {}, "pass", "1 project modules"),
    "a script in a subfolder importing a package at the root fails as the real run would": (
        {"mylib/__init__.py": "def helper():\n    return 1\n",
         "scripts/train.py": "import os\nfrom mylib import helper\n"},
        "python scripts/train.py", {}, "fail", "scripts/train.py:2: `mylib` is not installed in the project venv"),
    "a syntax error in an imported module fails at its line": (
        {"helpers.py": "x = 1\ndef f(:\n    pass\n", "train.py": "from helpers import f\n"}, "python train.py", {},
        "fail", "helpers.py:2: cannot be parsed: SyntaxError"),
    "a relative import with an except ImportError fallback": (
        {"helpers.py": "def f():\n    return 1\n",
         "train.py": "try:\n    from .helpers import f\nexcept ImportError:\n    from helpers import f\n"},
        "python train.py", {}, "pass", ""),
    "a version branch importing a backport is a warning, not a failure": (
        {"train.py": "import sys\nif sys.version_info >= (3, 99):\n    import tomllib\nelse:\n"
                     "    import tomli_backport_xyz as tomllib\n"}, "python train.py", {}, "warn",
        "train.py:5: `tomli_backport_xyz` is not installed in the project venv"),
    "a guarded project module whose own import is missing is optional": (
        {"fused.py": "import triton_missing_xyz\n\n\ndef adam():\n    pass\n",
         "train.py": "try:\n    from fused import adam\nexcept ImportError:\n    adam = None\n"},
        "python train.py", {}, "pass", ""),
    "a folder of scripts does not shadow the installed package of that name": (
        {"datasets_xyz/prepare_alpaca.py": "print(1)\n", "train.py": "from datasets_xyz import load_dataset\n"},
        "python train.py", {"datasets_xyz/__init__.py": "def load_dataset(n):\n    return n\n"}, "pass", ""),
    "except ImportError that re-raises is no guard": (
        {"train.py": "try:\n    import wandb_missing_xyz\nexcept ImportError:\n"
                     "    raise ImportError('pip install it')\n"},
        "python train.py", {}, "fail", "train.py:2: `wandb_missing_xyz` is not installed"),
    "a name imported only under TYPE_CHECKING does not exist at run time": (
        {"models.py": "class GPT:\n    pass\n",
         "helpers.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from models import GPT\n",
         "train.py": "from helpers import GPT\n"}, "python train.py", {}, "fail",
        "train.py:1: `from helpers import GPT`: GPT is not defined in helpers; GPT is now defined in models.py:1"),
    "one alias bound by two lazy imports is not checked against either": (
        {"lt.py": "def load_train():\n    pass\n", "le.py": "def load_eval():\n    pass\n",
         "train.py": "def a():\n    import lt as loader\n    loader.load_train()\n\n\n"
                     "def b():\n    import le as loader\n    loader.load_eval()\n"}, "python train.py", {}, "pass", ""),
    "an extension module built in place cannot be read and is not missing": (
        {"mypkg/__init__.py": "", "mypkg/_C.cpython-311-x86_64-linux-gnu.so": "", "train.py": "from mypkg import _C\n"},
        "python train.py", {}, "pass", ""),
    "a package extended from the venv (pkgutil.extend_path)": (
        {"mypkg/__init__.py": "import pkgutil\n__path__ = pkgutil.extend_path(__path__, __name__)\n",
         "mypkg/train.py": "from mypkg.contrib.extra import helper\n"}, "python -m mypkg.train",
        {"mypkg/contrib/__init__.py": "", "mypkg/contrib/extra.py": "def helper():\n    pass\n"}, "pass", ""),
    "a script that cd's into its own folder through a variable": (
        {"scripts/train.py": "import json\n",
         "scripts/run.sh": "#!/bin/bash\nSCRIPT_DIR=$(cd \"$(dirname \"$0\")\" && pwd)\ncd \"$SCRIPT_DIR\"\n"
                           "python train.py\n"}, "bash scripts/run.sh", {}, "pass", "train.py (from scripts/run.sh:4)"),
    "an executable ./train.py is Python, not a shell script": (
        {"train.py": "#!/usr/bin/env python3\n\"\"\"Usage:\n    python -m old_pkg.train\n\"\"\"\n"
                     "from gone_helpers import build\n"}, "./train.py --lr 3", {}, "fail",
        "train.py:5: `gone_helpers` is not installed"),
    "PYTHONPATH=src in the command": (
        {"src/app/__init__.py": "", "src/app/train.py": "from app.model import Net\n", "src/app/model.py": "Net = 1\n"},
        "PYTHONPATH=src python -m app.train", {}, "pass", "3 project modules"),
    "python -um and a launcher switch before -m": (
        {"pkg/__init__.py": "", "pkg/train.py": "import json\n"},
        "python -m torch.distributed.launch --use_env --nproc_per_node 2 -m pkg.train; python -um pkg.train", {},
        "pass", "-m pkg.train"),
    "a subshell with cd": (
        {"pkg/train.py": "import json\n"}, "(cd pkg && python train.py) > log.txt 2>&1", {}, "pass", "train.py"),
    "a namespace package installed from src: followed there, never imported": (
        {"src/nspkg/train.py": "open('PROJECT_CODE_RAN', 'w').write('x')\n\n\ndef main():\n"
                               "    from nspkg.helpers import build_model\n",
         "src/nspkg/helpers.py": "def build_model_v2():\n    pass\n",
         "scripts/run.py": "from nspkg.train import main\n"},
        "python scripts/run.py", {"@pth": "src"}, "fail",
        "src/nspkg/train.py:5: `from nspkg.helpers import build_model`: build_model is not defined in nspkg.helpers"),
}


# A second review (LLaVA, lightning-hydra-template, peft, DeepSpeed-Chat, open-instruct, vocos, and
# the first nine again) found these.
REAL_SHAPES.update({
    "src layout installed editable, run with -m: followed by its files, its __init__ never imported": (
        {"src/pkg/__init__.py": "open('INIT_RAN', 'w').write('x')\n", "src/pkg/train.py": "from pkg.model import Net\n",
         "src/pkg/model.py": "Net2 = 1\n"}, "python -m pkg.train", {"@pth": "src"}, "fail",
        "src/pkg/train.py:1: `from pkg.model import Net`: Net is not defined in pkg.model"),
    "a project file named like a standard-library module never runs in the import child": (
        {"tokenize.py": "open('TOKENIZE_RAN', 'w').write('x')\n", "train.py": "import os\nimport json\n"},
        "python train.py", {}, "pass", ""),
    "imports inside the entry's main() and its main guard are eager": (
        {"train.py": "def main():\n    from trl_missing_xyz import SFTTrainer\n\n\nif __name__ == '__main__':\n"
                     "    import wandb_missing_xyz\n    main()\n"}, "python train.py", {}, "fail",
        "train.py:2: `trl_missing_xyz` is not installed"),
    "a module reached only through a lazy import makes its missing packages a warning": (
        {"train.py": "def load(kind):\n    if kind == 'rwkv':\n        from rwkv_model import RwkvModel\n"
                     "        return RwkvModel\n\n\nload('gpt')\n",
         "rwkv_model.py": "import rwkv_missing_xyz\n\n\nclass RwkvModel:\n    pass\n"}, "python train.py", {},
        "warn", "rwkv_model.py:1: `rwkv_missing_xyz` is not installed"),
    "a lazy module whose __getattr__ raises is one name's problem, not the child's": (
        {"train.py": "from lazylib import Good, Bad\n"},
        "python train.py", {"lazylib/__init__.py": "Good = 1\n\n\ndef __getattr__(name):\n"
                                                   "    raise RuntimeError('backend missing for ' + name)\n"},
        "fail", "lazylib.Bad raised RuntimeError on access: backend missing for Bad"),
    "transformers-style lazy package: names under TYPE_CHECKING, the module swapped in sys.modules": (
        {"lazypkg/__init__.py": "import sys\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from .trainer import Trainer\nelse:\n    sys.modules[__name__] = object()\n",
         "lazypkg/trainer.py": "class Trainer:\n    pass\n", "train.py": "from lazypkg import Trainer\n"},
        "python train.py", {}, "pass", "cannot be told statically"),
    "a script that cd's to its parent folder through dirname $0": (
        {"train.py": "from helpers_gone_xyz import x\n",
         "scripts/train.sh": "#!/bin/bash\ncd \"$(dirname \"$0\")/..\"\npython train.py --lr 3\n"},
        "bash scripts/train.sh", {}, "fail", "train.py:1: `helpers_gone_xyz` is not installed"),
    "an attribute removed from an installed package": (
        {"train.py": "import optimlib\n\nopt = optimlib.AdamW\n"}, "python train.py",
        {"optimlib/__init__.py": "class AdamW8bit:\n    pass\n"}, "warn", "cannot import name 'AdamW' from optimlib"),
})


@pytest.mark.parametrize("case", sorted(REAL_SHAPES))
def test_real_repo_shapes(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    files, command, site_files, status, needle = REAL_SHAPES[case]
    repo, site = tmp_path / "repo", tmp_path / "site"
    write_files(repo, files)
    site.mkdir()
    pythonpath = [str(site)]
    for name, text in site_files.items():
        if name == "@pth":  # what an editable install puts on the venv's path
            pythonpath.append(str(repo / text))
        else:
            write_files(site, {name: text})
    monkeypatch.chdir(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    outcome = check_entrypoint(make_context(repo, {"PYTHONPATH": ":".join(pythonpath)}, PROJECT_PYTHONPATH="",
                                            SMOKE_CMD="", TRAIN_CMD=command), 30)
    assert outcome.status == status, outcome.message
    assert needle in outcome.message
    assert not list(repo.rglob("*_RAN")), "project code ran"
