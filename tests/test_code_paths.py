"""paths from the entry script's own code: what a top-level train.py reads by name must exist, listed or not.

Shaped like koenrohrer/parkinsons-voice-detector's model.py (a top-level script without a main guard that
reads a CSV beside it) and like scripts that read in main() or under a main guard.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from preflight.checks.code_paths import reads
from preflight.checks.paths import check_paths
from tests.conftest import make_context, write_files

TOP_LEVEL = """import joblib
import pandas as pd
from xgboost import XGBClassifier

df = pd.read_csv("voice_data.csv")
model = XGBClassifier()
model.fit(df.values[:, 1:], df["status"].values)
joblib.dump(model, "model.pkl")
"""

GUARDED = """import json, pickle
import numpy as np
from pathlib import Path


def load_labels():
    with open("labels/classes.json") as handle:  # only when called
        return json.load(handle)


def main():
    return np.load("features.npy")


if __name__ == "__main__":
    config = Path("configs/train.yaml").read_text()
    with open("vocab.pkl", "rb") as handle:
        vocab = pickle.load(handle)
    np.save("features.npy", np.zeros(3))  # written here first: the script's own output
    main()
    with open("run.log", "w") as log:  # a write, never an input
        log.write("done")
    df = __import__("pandas").read_csv("s3://bucket/remote.csv")  # S3 is the s3 check's
"""


def _shown(found) -> dict[str, bool]:
    return {p.shown: p.certain for p in found}


def test_a_top_level_read_is_certain_and_the_scripts_own_outputs_are_not_inputs(tmp_path: Path):
    found = reads(TOP_LEVEL, "model.py", tmp_path)
    assert _shown(found) == {"model.py:5 pd.read_csv('voice_data.csv')": True}
    assert found[0].path == tmp_path / "voice_data.csv"


def test_under_a_main_guard_certain_in_a_function_not(tmp_path: Path):
    assert _shown(reads(GUARDED, "train.py", tmp_path)) == {
        "train.py:16 Path('configs/train.yaml').read_text()": True,
        "train.py:17 open('vocab.pkl', 'rb')": True,
        "train.py:7 open('labels/classes.json')": False,
    }


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_files(tmp_path, {"model.py": TOP_LEVEL, "sub/train.py": GUARDED, "voice_data.csv": "a,status\n1,0\n"})
    monkeypatch.chdir(tmp_path)  # the probe runs in the project copy
    return tmp_path


def _paths(**values: str):
    values = {"PROJECT_PYTHONPATH": "", "SMOKE_CMD": "", "PREFLIGHT_PATHS": "", **values}
    return check_paths(make_context(Path.cwd(), dict(os.environ), **values), 10)


def test_nothing_listed_the_script_read_proven(project: Path):
    ready = _paths(TRAIN_CMD="python model.py")
    assert ready.status == "pass" and "1 script paths exist" in ready.message, ready.message
    (project / "voice_data.csv").unlink()
    gone = _paths(TRAIN_CMD="python model.py")
    assert gone.status == "fail", gone.message
    assert "the entry script reads 1 missing path whenever it starts" in gone.message
    assert "model.py:5 pd.read_csv('voice_data.csv')" in gone.message


def test_relative_to_where_the_command_runs_and_a_read_in_a_function_only_warns(project: Path):
    write_files(project, {"sub/configs/train.yaml": "lr: 1\n", "sub/vocab.pkl": ""})
    result = _paths(TRAIN_CMD="cd sub && python train.py")
    assert result.status == "warn", result.message
    assert "train.py:7 open('labels/classes.json')" in result.message
    (project / "sub" / "vocab.pkl").unlink()
    assert _paths(TRAIN_CMD="cd sub && python train.py").status == "fail"


def test_a_module_run_with_dash_m_is_read_relative_to_where_the_command_runs(project: Path):
    # `python -m pkg.train` (src layout on PYTHONPATH) and `python -m pkg` (its __main__.py): the module
    # the closure locates is what runs; its relative paths resolve against the working directory.
    write_files(project, {"src/pkg/__init__.py": "",
                          "src/lib/__init__.py": 'if __name__ == "__main__":\n    open("x.txt")\n',
                          "src/pkg/train.py": 'import pandas as pd\ndf = pd.read_csv("data/train.csv")\n',
                          "src/pkg/__main__.py": 'import numpy as np\nif __name__ == "__main__":\n'
                                                 '    np.load("data/emb.npy")\n',
                          "data/train.csv": "a\n1\n", "data/emb.npy": ""})
    for command in ("python -m pkg.train", "python -m pkg"):
        assert _paths(TRAIN_CMD=command, PROJECT_PYTHONPATH="src").status == "pass", command
    (project / "data" / "train.csv").unlink()
    gone = _paths(TRAIN_CMD="python -m pkg.train", PROJECT_PYTHONPATH="src")
    assert gone.status == "fail" and "src/pkg/train.py:2 pd.read_csv('data/train.csv')" in gone.message, gone.message
    (project / "data" / "emb.npy").unlink()
    gone = _paths(TRAIN_CMD="python -m pkg", PROJECT_PYTHONPATH="src")
    assert gone.status == "fail" and "src/pkg/__main__.py:3 np.load('data/emb.npy')" in gone.message, gone.message
    # a package without __main__.py cannot be run with -m (the entrypoint check says so): no reads of its own
    assert _paths(TRAIN_CMD="python -m lib", PROJECT_PYTHONPATH="src").status != "fail"
    # a module the closure cannot locate is not guessed at
    assert _paths(TRAIN_CMD="python -m nowhere.train", PROJECT_PYTHONPATH="src").status != "fail"


def test_each_dash_m_entry_is_its_own_module_found_from_its_own_directory_and_path(project: Path):
    # One module name, three entries that run three different files: each is read where it runs.
    write_files(project, {"train.py": 'open("a.txt")\n', "a.txt": "",
                          "smoke/train.py": 'open("b.txt")\n', "smoke/b.txt": "",
                          "scripts/launch.py": "import train\n", "scripts/train.py": 'open("only_in_scripts.txt")\n',
                          "a/pkg/__init__.py": "", "a/pkg/run.py": 'open("from_a.txt")\n', "from_a.txt": "",
                          "b/pkg/__init__.py": "", "b/pkg/run.py": 'open("from_b.txt")\n'})
    assert _paths(TRAIN_CMD="python -m train", SMOKE_CMD="cd smoke && python -m train").status == "pass"
    assert _paths(TRAIN_CMD="python scripts/launch.py", SMOKE_CMD="python -m train").status == "pass"
    both = _paths(TRAIN_CMD="PYTHONPATH=a python -m pkg.run", SMOKE_CMD="PYTHONPATH=b python -m pkg.run")
    assert both.status == "fail" and "b/pkg/run.py:1 open('from_b.txt')" in both.message, both.message
    assert "from_a" not in both.message
    (project / "smoke" / "b.txt").unlink()
    gone = _paths(TRAIN_CMD="python -m train", SMOKE_CMD="cd smoke && python -m train")
    assert gone.status == "fail" and "smoke/train.py:1 open('b.txt')" in gone.message, gone.message


def test_a_namespace_folder_or_a_guessed_directory_never_fails_the_run(project: Path):
    # A top-level folder without __init__.py loses to an installed package of that name: read, never certain.
    write_files(project, {"ns/train.py": 'open("ns_input.txt")\n',
                          "scripts/go.sh": 'cd "$WORKDIR" && python -m job\n', "job.py": 'open("job_input.txt")\n'})
    namespace = _paths(TRAIN_CMD="python -m ns.train")
    assert namespace.status == "warn" and "ns/train.py:1 open('ns_input.txt')" in namespace.message, namespace.message
    # after a cd into a variable the folder is the best guess: absent reads there are a warning
    guessed = _paths(TRAIN_CMD="bash scripts/go.sh")
    assert guessed.status == "warn" and "job_input.txt" in guessed.message, guessed.message


def test_dash_m_resolves_as_cpythons_path_finder_does(project: Path):
    write_files(project, {
        # a bare folder named like the module in the run directory is only a namespace portion: src's
        # regular module wins, as Python picks it
        "train/notes.md": "", "src/train.py": 'open("for_src_train.txt")\n',
        # a folder without __init__.py inside a regular package cannot lose to an installed one
        "src/proj/__init__.py": "", "src/proj/cli/run.py": 'open("for_cli.txt")\n',
        # the package's __init__.py runs first and changes directory: its __main__'s reads are uncertain
        "src/moving/__init__.py": "import os\nos.chdir(os.path.dirname(__file__))\n",
        "src/moving/__main__.py": 'open("cfg.yaml")\n'})
    train = _paths(TRAIN_CMD="python -m train", PROJECT_PYTHONPATH="src")
    assert train.status == "fail" and "src/train.py:1 open('for_src_train.txt')" in train.message, train.message
    cli = _paths(TRAIN_CMD="python -m proj.cli.run", PROJECT_PYTHONPATH="src")
    assert cli.status == "fail" and "src/proj/cli/run.py:1" in cli.message, cli.message
    moving = _paths(TRAIN_CMD="python -m moving", PROJECT_PYTHONPATH="src")
    assert moving.status == "warn" and "cfg.yaml" in moving.message, moving.message
    # two commands that run one file name its missing read once
    twice = _paths(TRAIN_CMD="PYTHONPATH=src python -m train", SMOKE_CMD="python -m train", PROJECT_PYTHONPATH="src")
    assert twice.message.count("for_src_train.txt") == 1 and "reads 1 missing path" in twice.message, twice.message


# What a second reader found reported as certain although training would start: each must not fail.
NOT_CERTAIN = {
    "branch inside a with": 'import os, torch, wandb\nif __name__ == "__main__":\n    with wandb.init():\n'
                            '        if os.path.exists("ckpt.pt"):\n            torch.load("ckpt.pt")\n',
    "suppress": 'from contextlib import suppress\nwith suppress(FileNotFoundError):\n    open("vocab.txt")\n',
    "conditional expression": 'import pandas as pd\ndf = pd.read_csv("cache.csv") if use_cache else None\n',
    "or fallback": 'import os\ntoken = os.environ.get("KEY") or open("key.txt").read()\n',
    "lambda": 'import numpy as np\nload = lambda: np.load("emb.npy")\n',
    "comprehension": 'import numpy as np\nxs = [np.load("x.npy") for f in []]\n',
    "downloaded first": 'import urllib.request, pandas as pd\nurllib.request.urlretrieve(URL, "iris.csv")\n'
                        'df = pd.read_csv("iris.csv")\n',
    "wget in a subprocess": 'import subprocess, pandas as pd\nsubprocess.run(["wget", URL, "-O", "data.csv"])\n'
                            'pd.read_csv("data.csv")\n',
    "wget in a shell string": 'import os, pandas as pd\nos.system("wget x -O data.csv")\npd.read_csv("data.csv")\n',
    "hub download": 'import torch\nfrom huggingface_hub import hf_hub_download\n'
                    'hf_hub_download("r", "model.pt", local_dir=".")\ntorch.load("model.pt")\n',
    "written through a variable": 'import pandas as pd\nOUT = "clean.csv"\ndf.to_csv(OUT)\npd.read_csv("clean.csv")\n',
    "extracted": 'import zipfile, pandas as pd\nzipfile.ZipFile("d.zip").extractall()\npd.read_csv("train.csv")\n',
    "written as ./x": 'import pandas as pd\ndf.to_csv("./clean.csv")\npd.read_csv("clean.csv")\n',
    "numpy adds .npy": 'import numpy as np\nnp.save("feats", a)\nnp.load("feats.npy")\n',
    "memmap w+ makes it": 'import numpy as np\nm = np.memmap("train.bin", dtype=np.uint16, mode="w+")\n',
    "inside a saved folder": 'tok.save_pretrained("tok")\nopen("tok/vocab.json")\n',
    "Path.open for writing": 'from pathlib import Path\nPath("vocab.txt").open("w")\nopen("vocab.txt")\n',
    "mode decided by code": 'log = open("train.log", "a" if resume else "w")\n',
    "chdir": 'import os, pandas as pd\nos.chdir(os.path.dirname(__file__))\npd.read_csv("data.csv")\n',
    "not the main guard": 'if __name__ != "__main__":\n    open("x.txt")\n',
    "after sys.exit": 'import sys\nif __name__ == "__main__":\n    sys.exit(main())\n    open("never.txt")\n',
    "a home without HOME": 'open("~backup.txt") if False else None\n',
}


@pytest.mark.parametrize("case", sorted(NOT_CERTAIN))
def test_a_read_something_else_may_provide_is_never_a_failure(case: str, tmp_path: Path):
    assert not [p.shown for p in reads(NOT_CERTAIN[case], "t.py", tmp_path) if p.certain]


def test_class_bodies_and_coding_cookies_are_read_as_python_runs_them(tmp_path: Path):
    class_body = 'import json\nclass Config:\n    values = json.load(open("config.json"))\n'
    assert [p.certain for p in reads(class_body, "t.py", tmp_path)] == [True]
    latin = '# -*- coding: latin-1 -*-\nopen("donn\xe9es.csv")\n'.encode("latin-1")
    assert [p.path for p in reads(latin, "t.py", tmp_path)] == [tmp_path / "donn\xe9es.csv"]
