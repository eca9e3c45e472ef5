"""`preflight init`: from a repository shaped like a real training repo to READY with at most two edits."""

from __future__ import annotations

import json
from pathlib import Path

README = """# Fine-tuning

```bash
pip install -r requirements.txt
torchrun --nproc_per_node=4 --master_port=<your_random_port> train.py \\
    --model_name_or_path <your_path_to_hf_converted_llama_ckpt> \\
    --data_path ./data.json \\
    --output_dir <your_output_dir>
```
"""


def _repo(root: Path, requirements: str = "packaging\n") -> Path:
    repo = root / "finetune"
    repo.mkdir()
    (repo / "README.md").write_text(README)
    (repo / "requirements.txt").write_text(requirements)
    (repo / "train.py").write_text("import json\nfrom packaging.version import Version\nfrom utils import jload\n"
                                   "print(jload('data.json'), Version('1'))\n")
    (repo / "utils.py").write_text("import json\n\n\ndef jload(path):\n    return json.load(open(path))\n")
    (repo / "data.json").write_text("[]\n")
    return repo


def test_init_writes_a_commented_config_and_the_next_command(tmp_path: Path, run_cli):
    repo = _repo(tmp_path, "packaging\nwandb==0.19.1\n")
    out = run_cli("init", "--repo", str(repo))
    assert out.returncode == 0, out.stderr
    config = (repo / "preflight.env").read_text()
    assert "TRAIN_CMD=\"torchrun --nproc_per_node=4 --master_port=EDIT_ME train.py" in config
    assert "PREFLIGHT_PATHS=./data.json" in config and "REQUIREMENTS_FILE=requirements.txt" in config
    assert "WANDB_CHECK=required" in config and "PASS_ENV=WANDB_API_KEY" in config
    assert "PROJECT_NAME=finetune" in config and "REPO_DIR=." in config
    assert all(line.startswith("#") for line in config.splitlines()[:2])
    assert f"--preflight-only --config {repo / 'preflight.env'}" in out.stdout
    again = run_cli("init", "--repo", str(repo))
    assert again.returncode == 2 and "not overwriting" in again.stderr


def test_init_to_ready_with_at_most_two_edits(tmp_path: Path, run_cli):
    repo = _repo(tmp_path)
    assert run_cli("init", "--repo", str(repo)).returncode == 0
    path = repo / "preflight.env"
    # Edit 1: the placeholders of the README's command.
    path.write_text(path.read_text().replace("--master_port=EDIT_ME", "--master_port=29500")
                    .replace("EDIT_ME", "x"))
    out = run_cli("probe", "--config", str(path), "--json", cwd=repo)
    artifact = json.loads(out.stdout)
    assert out.returncode == 0, [c for c in artifact["checks"] if c["status"] == "fail"]
    entry = next(c for c in artifact["checks"] if c["id"] == "entrypoint")
    assert entry["status"] == "pass" and "train.py (from TRAIN_CMD)" in entry["message"]
    (repo / "data.json").unlink()  # the data training reads is gone: the same config now fails
    out = run_cli("probe", "--config", str(path), "--json", cwd=repo)
    paths = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "paths")
    assert out.returncode == 1 and paths["status"] == "fail" and "./data.json" in paths["message"]


def test_init_takes_the_training_command_not_the_data_preparation_before_it(tmp_path: Path):
    """nanoGPT's README prepares the data first (`python data/shakespeare_char/prepare.py`), then trains."""
    from preflight.init import train_command

    repo = tmp_path / "nanogpt"
    (repo / "data" / "shakespeare_char").mkdir(parents=True)
    (repo / "data" / "shakespeare_char" / "prepare.py").write_text("print('tokenize')\n")
    (repo / "train.py").write_text("print('train')\n")
    (repo / "README.md").write_text("```sh\npython data/shakespeare_char/prepare.py\n```\n"
                                    "```sh\npython train.py config/train_shakespeare_char.py\n```\n")
    assert train_command(repo) == ("python train.py config/train_shakespeare_char.py", "README.md")
    (repo / "train.py").unlink()  # nothing named for training: the first command that exists, as before
    assert train_command(repo) == ("python data/shakespeare_char/prepare.py", "README.md")


def test_init_without_a_command_marks_the_line_to_edit(tmp_path: Path, run_cli):
    repo = tmp_path / "bare"
    repo.mkdir()
    out = run_cli("init", "--repo", str(repo), "--out", str(tmp_path / "bare.env"))
    text = (tmp_path / "bare.env").read_text()
    assert out.returncode == 0 and "TRAIN_CMD=  # EDIT" in text and "REPO_DIR=bare" in text
    assert run_cli("init", "--repo", str(tmp_path / "nope")).returncode == 2


# Shaped like koenrohrer/parkinsons-voice-detector: a README that describes the scripts but names no command,
# a top-level training script without a main guard, a prediction script beside it.
MODEL_PY = """import joblib
import pandas as pd
from sklearn.preprocessing import MinMaxScaler
from xgboost import XGBClassifier

df = pd.read_csv("voice_data.csv")
x = MinMaxScaler((-1, 1)).fit_transform(df.values[:, 1:])
model = XGBClassifier()
model.fit(x, df["status"].values)
joblib.dump(model, "model.pkl")
"""
PREDICT_PY = "import joblib\nmodel = joblib.load('model.pkl')\nprint(model.predict([[float(input())]]))\n"


def _scripts_repo(root: Path, scripts: dict[str, str]) -> Path:
    repo = root / "voice"
    repo.mkdir()
    (repo / "README.md").write_text("# Voice\n\n- **model.py** trains and saves the model.\n"
                                    "- **predict.py** loads it and predicts.\n")
    (repo / "requirements.txt").write_text("pandas\nscikit-learn\nxgboost\njoblib\n")
    for name, text in scripts.items():
        (repo / name).write_text(text)
    return repo


def test_init_finds_the_script_that_trains_when_the_readme_names_no_command(tmp_path: Path, run_cli):
    repo = _scripts_repo(tmp_path, {"model.py": MODEL_PY, "predict.py": PREDICT_PY})
    out = run_cli("init", "--repo", str(repo))
    assert out.returncode == 0 and "wrote" in out.stdout and "EDIT" not in out.stdout, out.stdout
    config = (repo / "preflight.env").read_text()
    assert 'TRAIN_CMD="python model.py"' in config, config
    assert "model.py calls model.fit at line 9" in config


def test_init_prefers_the_script_named_for_training_and_names_the_others_when_it_cannot_choose(tmp_path, run_cli):
    repo = _scripts_repo(tmp_path, {"model.py": MODEL_PY, "train_xgb.py": MODEL_PY, "predict.py": PREDICT_PY})
    assert run_cli("init", "--repo", str(repo)).returncode == 0
    assert 'TRAIN_CMD="python train_xgb.py"' in (repo / "preflight.env").read_text()
    (tmp_path / "two").mkdir()
    other = _scripts_repo(tmp_path / "two", {"model.py": MODEL_PY, "boost.py": MODEL_PY})
    assert run_cli("init", "--repo", str(other)).returncode == 0
    config = (other / "preflight.env").read_text()
    assert "TRAIN_CMD=  # EDIT" in config and "scripts that train: boost.py, model.py" in config
