"""Issue 27: what a training command starts, read exactly — every field of every entry — so a change to
how the command is read makes a test fail (preflight/entry/command.py; docs/mutation.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from preflight.entry import command
from preflight.entry.command import Entry, find_entries


def entries(text: str, project: Path = Path("/nonexistent")) -> list[tuple]:
    return [(e.kind, e.target, e.cwd, e.source, e.args, e.pythonpath, e.certain)
            for e in find_entries(text, "TRAIN_CMD", project)]


def one(kind: str, target: str, args: tuple[str, ...] = (), cwd: str = "", pythonpath: tuple[str, ...] = (),
        certain: bool = True, source: str = "TRAIN_CMD") -> tuple:
    return kind, target, cwd, source, args, pythonpath, certain


@pytest.mark.parametrize("text, expected", [
    # the interpreter and its own options
    ("python train.py --lr 0.1", [one("file", "train.py", ("--lr", "0.1"))]),
    ("python3.11 -u -X dev -W ignore t.py a", [one("file", "t.py", ("a",))]),
    ("python --check-hash-based-pycs always t.py", [one("file", "t.py")]),
    ("python -um pkg.x a", [one("module", "pkg.x", ("a",))]),
    ("python -mpkg.x b", [one("module", "pkg.x", ("b",))]),
    ("python -c 'import m; m.main()' z", [one("code", "import m; m.main()", ("z",))]),
    ("python -Bc 'pass'", [one("code", "pass")]),
    ("python -Xdev t.py", [one("file", "t.py")]),
    ("/opt/venv/bin/python3 -m pkg", [one("module", "pkg")]),
    ("python", []), ("python -c", []), ("python -m", []), ("python -", []), ("python -X dev", []),
    ("python -u --version", []),
    ("python - a", []),
    ("python -u -mpkg.x b", [one("module", "pkg.x", ("b",))]),
    ("python -Xfrozen_modules=off t.py", [one("file", "t.py")]),
    # redirections: their targets are never arguments
    ("python train.py --lr 0.1 > log.txt 2>&1", [one("file", "train.py", ("--lr", "0.1"))]),
    ("python t.py &> run.txt", [one("file", "t.py")]),
    ("python t.py >& log", [one("file", "t.py")]),
    ("python t.py 2>>err a", [one("file", "t.py", ("a",))]),
    ("python t.py < in.txt b", [one("file", "t.py", ("b",))]),
    ("python t.py >| out c", [one("file", "t.py", ("c",))]),
    ("python t.py 1>out 2>&1 d", [one("file", "t.py", ("d",))]),
    ("python t.py 2>&- e", [one("file", "t.py", ("e",))]),
    ("2>err python t.py", [one("file", "t.py")]),
    # sequences, pipes, subshells, background
    ("python t.py; python u.py", [one("file", "t.py"), one("file", "u.py")]),
    ("python t.py && python u.py || python v.py", [one("file", "t.py"), one("file", "u.py"), one("file", "v.py")]),
    ("python t.py | tee log", [one("file", "t.py")]),
    ("python t.py |& tee log", [one("file", "t.py")]),
    ("nohup python t.py &", [one("file", "t.py")]),
    ("(cd sub; python t.py)", [one("file", "t.py", cwd="sub")]),
    ("cd a && cd b && python t.py", [one("file", "t.py", cwd="a/b")]),
    ("cd a/.. && python t.py", [one("file", "t.py")]),
    ("cd /abs && python t.py", [one("file", "t.py", cwd="/abs")]),
    ("cd $ROOT && python t.py", [one("file", "t.py", certain=False)]),
    ("cd", []),
    # assignments and wrappers
    ("PYTHONPATH=src:$HOME/x:lib python -m a.b", [one("module", "a.b", pythonpath=("src", "lib"))]),
    ("env -i PYTHONPATH=src FOO=1 python t.py", [one("file", "t.py", pythonpath=("src",))]),
    ("env A=1 python t.py", [one("file", "t.py")]),
    ("env -i PYTHONPATH=src python t.py", [one("file", "t.py", pythonpath=("src",))]),
    ("env PYTHONPATH=lib:x=y python t.py", [one("file", "t.py", pythonpath=("lib", "x=y"))]),
    ("PYTHONPATH=lib:x=y python t.py", [one("file", "t.py", pythonpath=("lib", "x=y"))]),
    ("env A=1", []),
    ("A=1 python -m pkg", [one("module", "pkg")]),
    ("nohup python -m pkg", [one("module", "pkg")]),
    ("python $ROOT/t.py; python u.py", [one("file", "u.py")]),
    ("python t.py; bash -c 'python u.py'", [one("file", "t.py"), one("file", "u.py")]),
    ("A=1 B=2 python t.py", [one("file", "t.py")]),
    ("exec time nohup command builtin python t.py", [one("file", "t.py")]),
    ("timeout 600 python t.py", [one("file", "t.py")]),
    ("mpirun -np 4 python t.py x", [one("file", "t.py", ("x",))]),
    ("poetry run python -m m", [one("module", "m")]),
    ("conda run -n env python t.py", [one("file", "t.py")]),
    ("srun -N1 torchrun --nproc_per_node=2 t.py", [one("file", "t.py")]),
    ("srun --cpu-bind none t.py", [one("file", "t.py")]),
    ("srun deepspeed --module pkg.train", [one("module", "pkg.train")]),
    ("srun accelerate launch -m pkg.m", [one("module", "pkg.m")]),
    ("srun uv run -m pkg", [one("module", "pkg")]),
    ("hydra launch t.py", [one("file", "t.py")]),
    ("srun -o log.py", []),
    ("echo python t.py", []), ("printf x python t.py", []), ("export X=python", []), ("make train", []),
    # launchers
    ("torchrun --standalone --nnodes 1 --nproc_per_node 8 train.py --x 1", [one("file", "train.py", ("--x", "1"))]),
    ("torchrun --nnodes 2 --rdzv-endpoint=x:1 t.py a", [one("file", "t.py", ("a",))]),
    ("torchrun --standalone --module pkg.train a", [one("module", "pkg.train", ("a",))]),
    ("torchrun -m pkg.train", [one("module", "pkg.train")]),
    ("torchrun --nproc_per_node 2 --max-restarts t.py", [one("file", "t.py")]),
    ("torchrun --no-python ./x.py", [one("file", "./x.py")]),
    ("torchrun --no_python python t.py", [one("file", "t.py")]),
    ("torchrun --standalone --no-python python t.py", [one("file", "t.py")]),
    ("torchrun --nproc_per_node 2", []),
    ("torchrun --nproc_per_node", []),
    ("torchrun --standalone -m pkg.train", [one("module", "pkg.train")]),
    ("torchrun --nnodes=1 train", [one("file", "train")]),
    ("torchrun --max-restarts -m pkg.train", [one("module", "pkg.train")]),
    ("deepspeed --module pkg.train", [one("module", "pkg.train")]),
    ("deepspeed --num_gpus 8 train.py --deepspeed ds.json", [one("file", "train.py", ("--deepspeed", "ds.json"))]),
    ("deepspeed --hostfile h t.py", [one("file", "t.py")]),
    ("accelerate launch --config_file cfg.yaml --multi_gpu --num_processes 2 t.py --a b",
     [one("file", "t.py", ("--a", "b"))]),
    ("accelerate launch -m pkg.m", [one("module", "pkg.m")]),
    ("accelerate env", []),
    ("python -m accelerate launch --multi_gpu t.py", [one("file", "t.py")]),
    ("python -m accelerate launch t.py --x", [one("file", "t.py", ("--x",))]),
    ("python -m accelerate.commands.launch t.py", [one("file", "t.py")]),
    ("python -m accelerate config", [one("module", "accelerate", ("config",))]),
    ("python -m torch.distributed.launch --use_env t.py --a", [one("file", "t.py", ("--a",))]),
    ("python -m torch.distributed.run --nproc-per-node 2 -m pkg.train", [one("module", "pkg.train")]),
    ("python -m deepspeed.launcher.runner t.py", [one("file", "t.py")]),
    # uv run
    ("uv run --with x python train.py", [one("file", "train.py")]),
    ("uv run --frozen train.py", [one("file", "train.py")]),
    ("uv run --python=3.11 -m pkg", [one("module", "pkg")]),
    ("uv run --module pkg", [one("module", "pkg")]),
    ("uv run --python 3.11 python t.py", [one("file", "t.py")]),
    ("uv run pytest", []),
    ("uv run --frozen", []),
    ("uv run --with x -m pkg", [one("module", "pkg")]),
    ("uv run --frozen --with x -m pkg", [one("module", "pkg")]),
    ("uv sync", []),
    # executables and shells
    ("./train.py --x", [one("file", "./train.py", ("--x",))]),
    ("sh -c 'cd sub && python t.py'", [one("file", "t.py", cwd="sub")]),
    ("bash -c", []),
    ("python $ROOT/t.py", []),
    ("echo 'unbalanced", []),
])
def test_each_command_reads_to_exact_entries(text: str, expected: list[tuple]):
    assert entries(text) == expected


def test_describe_names_the_entry_and_where_it_was_found():
    assert Entry("file", "t.py", "", "TRAIN_CMD").describe() == "t.py (from TRAIN_CMD)"
    assert Entry("module", "pkg.m", "", "run.sh:3").describe() == "-m pkg.m (from run.sh:3)"
    assert Entry("code", "import x", "", "TRAIN_CMD").describe() == "-c <code> (from TRAIN_CMD)"


TRAIN_SH = """#!/usr/bin/env bash
# a comment that names python nothing.py
set -e
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$SCRIPT_DIR/.."
export PYTHONPATH=src:$PYTHONPATH
python -m pkg.prep \\
  --data data/train.csv \\
  --out out/
cd sub
torchrun --nproc_per_node 2 train.py --cfg cfg.yaml
cd $(git rev-parse --show-toplevel)
bash scripts/eval.sh
HERE="$(dirname "$0")"
cd $HERE/deeper
python here.py
cd "$SOMEWHERE"
python last.py
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "train.sh").write_text(TRAIN_SH)
    (tmp_path / "scripts" / "eval.sh").write_text("python eval.py\nbash scripts/eval.sh\n")  # itself: read once
    return tmp_path


def test_a_script_is_read_line_by_line_with_what_earlier_lines_set(project: Path):
    assert entries("bash scripts/train.sh", project) == [
        one("module", "pkg.prep", ("--data", "data/train.csv", "--out", "out/"), pythonpath=("src",),
            source="scripts/train.sh:7"),
        one("file", "train.py", ("--cfg", "cfg.yaml"), cwd="sub", pythonpath=("src",), source="scripts/train.sh:11"),
        one("file", "eval.py", pythonpath=("src",), source="scripts/eval.sh:1"),
        one("file", "here.py", cwd="scripts/deeper", pythonpath=("src",), source="scripts/train.sh:16"),
        one("file", "last.py", cwd="scripts", pythonpath=("src",), certain=False, source="scripts/train.sh:18"),
    ]


def test_scope_lines_of_every_form(tmp_path: Path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "s.sh").write_text(
        "here=$(dirname \"$0\")\nexport ROOT_DIR=$(cd \"$(dirname \"$0\")\" && pwd)\nB=$ROOT_DIR/Xtra\n"
        "export FOO=1\nPYTHONPATH=lib\ncd $here\npython one.py\ncd $B\npython two.py\ncd 'a'\ncd b\n"
        "python three.py\ncd sub && python four.py\nX=$(dirname \"$0\") python five.py\n")
    assert entries("bash scripts/s.sh", tmp_path) == [
        one("file", "one.py", cwd="scripts", source="scripts/s.sh:7"),
        one("file", "two.py", cwd="scripts/Xtra", source="scripts/s.sh:9"),
        one("file", "three.py", cwd="scripts/Xtra/a/b", source="scripts/s.sh:12"),
        one("file", "four.py", cwd="scripts/Xtra/a/b/sub", source="scripts/s.sh:13"),
        one("file", "five.py", cwd="scripts/Xtra/a/b", source="scripts/s.sh:14"),
    ]


def test_nested_dash_c_shares_what_was_read_and_the_line_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "s.sh").write_text("python s.py\n")
    (tmp_path / "t.sh").write_text("python t.py\n")
    assert [e[1] for e in entries("bash s.sh; bash -c 'bash s.sh'", tmp_path)] == ["s.py"]  # read once
    monkeypatch.setattr(command, "MAX_SCRIPT_LINES", 1)
    assert [e[1] for e in entries("bash s.sh; bash -c 'bash t.sh'", tmp_path)] == ["s.py"]


def test_dash_c_past_the_depth_limit_is_not_read(tmp_path: Path):
    (tmp_path / "a.sh").write_text("bash b.sh\n")
    (tmp_path / "b.sh").write_text("bash c.sh\n")
    (tmp_path / "c.sh").write_text("python c.py\nbash -c 'python deep.py'\n")
    assert [e[1] for e in entries("bash a.sh", tmp_path)] == ["c.py"]


def test_a_script_reached_after_a_cd_into_a_variable_is_uncertain(tmp_path: Path):
    (tmp_path / "s.sh").write_text("python t.py\n")
    (tmp_path / "run.sh").write_text("python r.py\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "go.sh").write_text("python g.py\n")
    (tmp_path / "scripts" / "run").write_text("python x.py\n")
    # where $X is only the shell knows: the script at the project root is the (uncertain) guess
    assert entries("cd $X && bash s.sh", tmp_path) == [one("file", "t.py", certain=False, source="s.sh:1")]
    assert entries("bash s.sh", tmp_path) == [one("file", "t.py", source="s.sh:1")]
    assert entries("scripts/go.sh", tmp_path) == [one("file", "g.py", source="scripts/go.sh:1")]
    assert entries("cd scripts && ./run", tmp_path) == [one("file", "x.py", cwd="scripts", source="scripts/run:1")]
    assert entries("cd scripts && ./run.sh", tmp_path) == []
    assert entries("run.sh", tmp_path) == [one("file", "r.py", source="run.sh:1")]


def test_a_script_run_from_a_subdirectory_and_its_forms(project: Path):
    (project / "sub").mkdir()
    (project / "sub" / "go.sh").write_text("PYTHONPATH=lib python a.py\n")
    assert entries("cd sub && ./go.sh", project) == [one("file", "a.py", cwd="sub", pythonpath=("lib",),
                                                         source="sub/go.sh:1")]
    assert entries("sh -e sub/go.sh", project) == [one("file", "a.py", pythonpath=("lib",), source="sub/go.sh:1")]
    assert entries(f"bash {project}/sub/go.sh", project) == [
        one("file", "a.py", pythonpath=("lib",), source=f"{project}/sub/go.sh:1")]
    assert entries("bash missing.sh", project) == []
    assert entries("bash $DIR/go.sh", project) == []


def test_scripts_nest_only_so_deep_and_read_only_so_many_lines(project: Path, monkeypatch: pytest.MonkeyPatch):
    for n in range(5):
        (project / f"s{n}.sh").write_text(f"python at{n}.py\nbash s{n + 1}.sh\n")
    found = [e[1] for e in entries("bash s0.sh", project)]
    assert found == ["at0.py", "at1.py", "at2.py"]  # MAX_SCRIPT_DEPTH: three scripts deep
    assert [e[1] for e in entries("bash -c 'bash -c \"bash s0.sh\"'", project)] == ["at0.py"]
    monkeypatch.setattr(command, "MAX_SCRIPT_LINES", 3)
    assert [e[1] for e in entries("bash s0.sh", project)] == ["at0.py", "at1.py"]


def test_a_script_too_big_or_unreadable_is_not_read(project: Path, monkeypatch: pytest.MonkeyPatch):
    (project / "big.sh").write_text("python big.py\n")
    monkeypatch.setattr(command, "MAX_SCRIPT_BYTES", 13)
    assert entries("bash big.sh", project) == []
    monkeypatch.setattr(command, "MAX_SCRIPT_BYTES", 14)
    assert [e[1] for e in entries("bash big.sh", project)] == ["big.py"]
    (project / "dir.sh").mkdir()
    assert entries("bash dir.sh", project) == []


def test_continuation_lines_keep_the_first_line_number(tmp_path: Path):
    (tmp_path / "c.sh").write_text("echo start\npython \\\n  a.py \\\n  --x 1\npython b.py\\\n.py\n"
                                   "python c.py \\ \n--y\n")
    assert entries("bash c.sh", tmp_path) == [one("file", "a.py", ("--x", "1"), source="c.sh:2"),
                                              one("file", "b.py.py", source="c.sh:5"),
                                              one("file", "c.py", (" ",), source="c.sh:7")]


def test_a_script_that_is_not_utf8_is_still_read(tmp_path: Path):
    (tmp_path / "l.sh").write_bytes(b"# caf\xe9\npython t.py\n")
    assert entries("bash l.sh", tmp_path) == [one("file", "t.py", source="l.sh:2")]


@pytest.mark.parametrize("line, cwd, certain", [
    ('cd "$(dirname "$0")"', "scripts", True),
    ("cd $(dirname $0)/..", "", True),
    ("cd $(dirname $0)/Xdir", "scripts/Xdir", True),
    ('cd "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"', "scripts", True),
    ("cd ${BASH_SOURCE%/*}", "scripts", False),
    ('cd "$(git rev-parse --show-toplevel)/sub"', "sub", True),
    ("cd ../other", "../other", True),
    ("cd $UNKNOWN/x", "scripts", False),
])
def test_cd_forms_in_a_script(tmp_path: Path, line: str, cwd: str, certain: bool):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "r.sh").write_text(f"{line}\npython t.py\n")
    assert entries("bash scripts/r.sh", tmp_path) == [one("file", "t.py", cwd=cwd, certain=certain,
                                                          source="scripts/r.sh:2")]


def test_pythonpath_exports_stack_and_assignments_name_places(tmp_path: Path):
    (tmp_path / "p.sh").write_text("export PYTHONPATH=a\nexport PYTHONPATH=b:$PYTHONPATH\nROOT=$(git rev-parse "
                                   "--show-toplevel)\ncd $ROOT/x\nPYTHONPATH=c python t.py\n")
    assert entries("PYTHONPATH=z bash p.sh", tmp_path) == [
        one("file", "t.py", cwd="x", pythonpath=("c", "b", "a", "z"), source="p.sh:5")]
