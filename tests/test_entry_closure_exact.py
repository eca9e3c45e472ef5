"""Issue 27: the static import closure read exactly — every module, problem, outside import, edge and
unknown — so a change to how the closure is walked makes a test fail (preflight/entry/closure.py;
docs/mutation.md). Two fixture projects shaped like training repositories: a flat one with a top-level
train.py (no main guard, a src/ folder on PYTHONPATH, guarded and conditional imports, a namespace
package) and a package run with -m (star imports, __getattr__, a parse error, an extension module)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from preflight.entry import closure as closure_module
from preflight.entry.closure import Closure, FileFacts, Finder, Outside, Problem, closure_of, definitions_index
from preflight.entry.command import find_entries
from tests.conftest import write_files

FLAT = {
    "train.py": """import os
import numpy as np
import transformers
from pkg import helpers
from pkg.models import Net, gone_name
import pkg.util as u
from . import rel
try:
    import optional_mod
    import pkg.optional
except ImportError:
    optional_mod = None
u.fn()
u.missing_attr()
transformers.AdamW
np.zeros
from nsp.inner import deep
import libmod


def main():
    from pkg import lazy_mod


if os.environ.get("X"):
    import pkg.cond
    from pkg.absent import thing
    from pkg.models import also_gone
import pkg.models
pkg.nothing_here
helpers.nope
Net.whatever
import pkg as p2
p2.lazy_two
u.missing_two
from nsp import not_in_namespace
""",
    "pkg/__init__.py": "from .models import *\n",
    "pkg/helpers.py": "import torch\nfrom torch import nn\nimport os.path\nnn.Linear\nos.getcwd\n",
    "pkg/lazy_two.py": "",
    "pkg/models.py": "class Net:\n    pass\n\n\ndef build():\n    return Net()\n",
    "pkg/util.py": "def fn():\n    from pkg import vanished\n    return vanished\n",
    "pkg/lazy_mod.py": "X = 1\n",
    "pkg/cond.py": "import pkg.nothere\n",
    "pkg/optional.py": "from pkg import not_defined_either\n",
    "nsp/inner/deep.py": "def deep():\n    pass\n",
    "data/x.csv": "a,b\n",
    "src/lib/libmod.py": "Y = 2\n",
}

PACKAGED = {
    "app/__init__.py": "from app import core\n",
    "app/__main__.py": "from app.core import run\nrun()\n",
    "app/core.py": """from os.path import *
from app.dyn import anything
from app.star_a import a_name, b_name, not_there
from app.broken import x
import torch.nn as nn
import transformers as tf
from fast import compiled_name
import app.core as me
nn.Linear
tf.AdamW
me.run
me.nope
def run():
    pass
""",
    "app/dyn.py": "def __getattr__(name):\n    return name\n",
    "app/star_a.py": "from app.star_b import *\na_name = 1\n",
    "app/star_b.py": "from app.star_a import *\nb_name = 2\n",
    "app/broken.py": "def f(:\n    pass\n",
    "nomain/__init__.py": "",
    "fast/__init__.py": "",
    "fast/compiled_name.cpython-311-x86_64-linux-gnu.so": "",
    "other/app.py": "SHADOW = 1\n",
    "onlydata/sub/readme.txt": "x",
}


def walk(project: Path, command: str, *pythonpath: str, exclude: frozenset[str] = frozenset()) -> Closure:
    return closure_of(find_entries(command, "TRAIN_CMD", project), project, [project / p for p in pythonpath],
                      FileFacts(project), exclude)


def shown(project: Path, closure: Closure) -> dict[str, str]:
    return {name: str(path.relative_to(project)) for name, path in closure.modules.items()}


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # lint's facts cache, written per test
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("PREFLIGHT_LINT_SEED", raising=False)


def test_a_flat_training_script(tmp_path: Path):
    project = write_files(tmp_path / "p", FLAT)
    closure = walk(project, "python train.py", "src/lib")
    entry = "TRAIN_CMD:train.py"
    assert shown(project, closure) == {
        entry: "train.py", "pkg": "pkg/__init__.py", "pkg.helpers": "pkg/helpers.py", "pkg.models": "pkg/models.py",
        "pkg.util": "pkg/util.py", "pkg.optional": "pkg/optional.py", "nsp.inner.deep": "nsp/inner/deep.py",
        "libmod": "src/lib/libmod.py", "pkg.lazy_mod": "pkg/lazy_mod.py", "pkg.cond": "pkg/cond.py",
        "pkg.lazy_two": "pkg/lazy_two.py"}
    assert closure.problems == [
        Problem(entry, "train.py:5", "`from pkg.models import gone_name`: gone_name is not defined in pkg.models",
                "pkg.models", "gone_name"),
        Problem(entry, "train.py:7", "`from . import rel` is a relative import with no parent package here (a script "
                "run by path is not in a package)", ".", "rel"),
        Problem(entry, "train.py:27", "module pkg.absent is not in the project (`from pkg.absent import thing`)",
                "pkg.absent", "thing"),
        Problem(entry, "train.py:28", "`from pkg.models import also_gone`: also_gone is not defined in pkg.models",
                "pkg.models", "also_gone"),
        Problem(entry, "train.py:36", "`from nsp import not_in_namespace`: not_in_namespace is not defined in nsp",
                "nsp", "not_in_namespace"),
        Problem(entry, "train.py:30", "`pkg.nothing_here`: nothing_here is not defined in pkg", "pkg", "nothing_here"),
        Problem(entry, "train.py:31", "`helpers.nope`: nope is not defined in pkg.helpers", "pkg.helpers", "nope"),
        Problem(entry, "train.py:35", "`u.missing_two`: missing_two is not defined in pkg.util", "pkg.util",
                "missing_two"),
        Problem(entry, "train.py:14", "`u.missing_attr`: missing_attr is not defined in pkg.util", "pkg.util",
                "missing_attr"),
        Problem("pkg.util", "pkg/util.py:2", "`from pkg import vanished`: vanished is not defined in pkg", "pkg",
                "vanished"),
        Problem("pkg.optional", "pkg/optional.py:1", "`from pkg import not_defined_either`: not_defined_either is "
                "not defined in pkg", "pkg", "not_defined_either"),
        Problem("pkg.cond", "pkg/cond.py:1", "module pkg.nothere is not in the project (`import pkg.nothere`)",
                "pkg.nothere", ""),
    ]
    assert closure.outside == [
        Outside(entry, "os", "os", "", "train.py:1", False, False),
        Outside(entry, "numpy", "numpy", "", "train.py:2", False, False),
        Outside(entry, "transformers", "transformers", "", "train.py:3", False, False),
        Outside(entry, "optional_mod", "optional_mod", "", "train.py:9", False, True),
        Outside(entry, "transformers", "transformers", "AdamW", "train.py:15", True, False),
        Outside(entry, "numpy", "numpy", "zeros", "train.py:16", True, False),
        Outside(entry, "os", "os", "environ", "train.py:25", True, False),
        Outside("pkg.helpers", "torch", "torch", "", "pkg/helpers.py:1", False, False),
        Outside("pkg.helpers", "torch", "torch", "nn", "pkg/helpers.py:2", False, False),
        Outside("pkg.helpers", "os", "os.path", "", "pkg/helpers.py:3", False, False),
        Outside("pkg.helpers", "os", "os", "getcwd", "pkg/helpers.py:5", True, False),  # nn.Linear: not asked
    ]
    assert closure.elsewhere == {"pkg.absent": "train.py:27", "pkg.nothere": "pkg/cond.py:1"}
    assert closure.namespace_tops == {"nsp"}
    assert (closure.unknown, closure.entry_lookups, closure.unlocated) == ([], {}, [])
    assert closure.roots == [entry]
    assert (closure.parsed, closure.truncated) == (11, False)
    # guarded: pkg.optional is needed by no chain training must take; lazy: pkg.cond only under an if
    assert closure.required() == {entry, "pkg", "pkg.helpers", "pkg.models", "pkg.util", "nsp", "nsp.inner",
                                  "nsp.inner.deep", "libmod", "pkg.lazy_mod", "pkg.cond", "pkg.lazy_two"}
    assert closure.required(eager=True) == closure.required() - {"pkg.cond"}
    assert closure.edges["pkg.util"] == [("pkg", False, True), ("pkg", False, True)]
    assert closure.edges["pkg"] == [("pkg", False, False), ("pkg.models", False, False)]
    assert ("pkg.optional", True, False) in closure.edges[entry]
    assert ("pkg.cond", False, True) in closure.edges[entry]
    assert ("pkg.lazy_two", False, False) in closure.edges[entry]  # reached as an attribute: p2.lazy_two


def test_a_second_probe_reads_the_closure_from_the_facts_cache(tmp_path: Path):
    project = write_files(tmp_path / "p", FLAT)
    files = FileFacts(project)
    first = closure_of(find_entries("python train.py", "TRAIN_CMD", project), project, [project / "src/lib"], files)
    files.save()
    again = walk(project, "python train.py", "src/lib")
    assert (again.problems, again.outside, again.parsed) == (first.problems, first.outside, 0)


def test_a_package_run_with_dash_m_and_the_other_entry_kinds(tmp_path: Path):
    project = write_files(tmp_path / "p", PACKAGED)
    entries = [*find_entries("cd $X && python gone.py", "TRAIN_CMD", project),
               *find_entries("python -m app; python -m nomain; python -m onlydata; python -m requests.x; "
                             "python -c 'import app.core'; python missing.py; python -m app.nothere", "TRAIN_CMD",
                             project)]
    closure = closure_of(entries, project, [project / "other"], FileFacts(project))
    assert shown(project, closure) == {
        "app": "app/__init__.py", "app.__main__": "app/__main__.py", "app.core": "app/core.py", "app.dyn": "app/dyn.py",
        "app.star_a": "app/star_a.py", "app.broken": "app/broken.py", "fast": "fast/__init__.py",
        "app.star_b": "app/star_b.py", "nomain": "nomain/__init__.py"}
    assert closure.problems == [
        Problem("app.broken", "app/broken.py:1", "cannot be parsed: SyntaxError: invalid syntax (line 1)"),
        Problem("TRAIN_CMD", "TRAIN_CMD", "runs -m nomain, a package without __main__.py", "nomain"),
        Problem("TRAIN_CMD", "TRAIN_CMD", "runs missing.py, which does not exist (looked in .)", "missing.py"),
        Problem("TRAIN_CMD", "TRAIN_CMD", "runs -m app.nothere, which is not in the project", "app.nothere"),
    ]
    why = "(__getattr__, a star import from outside, or a parse error)"
    assert closure.unknown == [f"app/core.py:2: app.dyn.anything {why}", f"app/core.py:3: app.star_a.not_there {why}",
                               f"app/core.py:4: app.broken.x {why}", f"app/core.py:12: app.core.nope {why}"]
    assert closure.outside == [
        Outside("app.core", "os", "os.path", "*", "app/core.py:1", False, False),
        Outside("app.core", "torch", "torch.nn", "", "app/core.py:5", False, False),
        Outside("app.core", "transformers", "transformers", "", "app/core.py:6", False, False),
        Outside("app.core", "torch", "torch.nn", "Linear", "app/core.py:9", True, False),
        Outside("app.core", "transformers", "transformers", "AdamW", "app/core.py:10", True, False),
    ]
    assert closure.entry_lookups == {"onlydata": "TRAIN_CMD", "requests.x": "TRAIN_CMD"}
    assert closure.unlocated == ["TRAIN_CMD: gone.py (after a cd into a shell variable)"]
    assert closure.roots == ["TRAIN_CMD:-m", "TRAIN_CMD:-m", "TRAIN_CMD", "TRAIN_CMD:-m", "TRAIN_CMD:-m",
                             "TRAIN_CMD:-c", "TRAIN_CMD", "TRAIN_CMD:-m", "TRAIN_CMD"]
    assert closure.edges["TRAIN_CMD:-c"] == [("app", False, False), ("app.core", False, False)]
    assert closure.edges["app.star_b"] == [("app", False, False), ("app.star_a", False, False)]
    assert closure.namespace_tops == set() and closure.elsewhere == {}
    assert "fast.compiled_name" in closure.required(eager=True)  # an extension module: found, not read
    assert {"app", "app.__main__"} <= closure.required(eager=True)  # what -m runs, runs as training starts


def test_an_extension_module_s_names_cannot_be_told(tmp_path: Path):
    project = write_files(tmp_path / "p", {"t.py": "from ext import thing\nimport ext\next.other\n", "ext.abi3.so": ""})
    closure = walk(project, "python t.py")
    assert closure.unknown == ["t.py:1: ext.thing (an extension module)", "t.py:3: ext.other (an extension module)"]
    assert closure.problems == [] and shown(project, closure) == {"TRAIN_CMD:t.py": "t.py"}


def test_a_script_missing_after_a_cd_into_a_variable_is_looked_for_at_the_root(tmp_path: Path):
    project = write_files(tmp_path / "p", {"run.py": "import helper\n", "helper.py": "", "scripts/go.sh":
                                           'cd "$WORK"\npython run.py\n'})
    closure = walk(project, "bash scripts/go.sh")
    assert shown(project, closure) == {"scripts/go.sh:2:run.py": "run.py", "helper": "helper.py"}
    assert closure.problems == [] and closure.unlocated == []


def test_the_real_file_s_folder_goes_on_the_path_not_a_link_s(tmp_path: Path):
    project = write_files(tmp_path / "p", {"code/train.py": "import near\n", "code/near.py": "", "bin/.keep": ""})
    os.symlink(project / "code" / "train.py", project / "bin" / "train.py")
    closure = walk(project, "python bin/train.py")
    assert shown(project, closure) == {"TRAIN_CMD:bin/train.py": "code/train.py", "near": "code/near.py"}


def test_a_closure_stops_at_max_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = write_files(tmp_path / "p", {"t.py": "import a\n", "a.py": "import b\n", "b.py": "import c\n",
                                           "c.py": ""})
    monkeypatch.setattr(closure_module, "MAX_MODULES", 3)
    closure = walk(project, "python t.py")
    assert list(closure.modules) == ["TRAIN_CMD:t.py", "a", "b"] and closure.truncated
    monkeypatch.setattr(closure_module, "MAX_MODULES", 4)
    assert not walk(project, "python t.py").truncated


def test_relative_imports_resolve_against_the_package(tmp_path: Path):
    relative = "from .. import top\nfrom ..top import T, U\nfrom . import sib\nfrom ... import x\n"
    project = write_files(tmp_path / "p", {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/m.py": relative,
                                           "pkg/top.py": "T = 1\n", "pkg/sub/sib.py": "", "pkg/sub/__main__.py":
                                           "from . import m\n"})
    closure = walk(project, "python -m pkg.sub")
    assert list(closure.modules) == ["pkg", "pkg.sub", "pkg.sub.__main__", "pkg.sub.m", "pkg.top", "pkg.sub.sib"]
    assert closure.problems == [
        Problem("pkg.sub.m", "pkg/sub/m.py:2", "`from ..top import U`: U is not defined in pkg.top", "pkg.top", "U"),
        Problem("pkg.sub.m", "pkg/sub/m.py:4", "`from ... import x` is a relative import with no parent package "
                "here (a script run by path is not in a package)", "...", "x"),
    ]


def test_the_finder_takes_what_python_s_path_finder_would(tmp_path: Path):
    first = write_files(tmp_path / "first", {"dup.py": "", "ns/a.py": "", "data/readme.txt": "",
                                             "both/__init__.py": ""})
    second = write_files(tmp_path / "second", {"dup/__init__.py": "", "ns/b.py": "", "both.py": "", "only.py": ""})
    finder = Finder([first, second, tmp_path / "absent", first], exclude=frozenset({"only"}))
    assert finder.roots == [first, second]
    assert (finder.find("dup").path, finder.find("dup").is_package) == (first / "dup.py", False)  # earlier root
    assert finder.find("both").path == first / "both" / "__init__.py" and finder.find("both").is_package
    ns = finder.find("ns")
    assert (ns.path, ns.is_package, ns.portions) == (None, True, (first / "ns", second / "ns"))
    assert finder.find("ns.b").path == second / "ns" / "b.py"
    assert finder.find("data") is None  # a folder without Python is not a namespace package
    assert finder.find("only") is None and finder.find("dup.x") is None and finder.find("missing.x") is None


def test_a_big_folder_without_python_is_not_scanned_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write_files(tmp_path, {f"big/f{n}.txt": "" for n in range(5)})
    write_files(tmp_path, {"big/zz/late.py": ""})
    monkeypatch.setattr(closure_module, "MAX_NAMESPACE_SCAN", 3)
    assert Finder([tmp_path]).find("big") is None
    monkeypatch.setattr(closure_module, "MAX_NAMESPACE_SCAN", 100)
    assert Finder([tmp_path]).find("big") is not None
    write_files(tmp_path, {"hidden/.git/x.py": "", "hidden/node_modules/y.py": ""})
    assert Finder([tmp_path]).find("hidden") is None


def test_definitions_are_indexed_shortest_path_first_an_example_after_its_peers(tmp_path: Path):
    project = write_files(tmp_path / "p", {"lib/models/core.py": "def gone():\n    pass\n",
                                           "models/m.py": "def gone():\n    pass\n",
                                           "examples/demo.py": "def gone():\n    pass\n",
                                           "top.py": "from lib.models.core import gone\n\n\nclass Other:\n    pass\n",
                                           "z.py": "def gone():\n    pass\n"})
    found = definitions_index({"gone", "Other", "absent"}, [project, project], FileFacts(project))
    assert found == {"gone": ["z.py:1", "models/m.py:1", "examples/demo.py:1", "lib/models/core.py:1"],
                     "Other": ["top.py:4"],
                     "absent": []}
    assert definitions_index({"gone"}, [project], FileFacts(project), limit=0) == {"gone": []}


def test_excluded_names_are_outside_for_every_kind_of_entry(tmp_path: Path):
    """A top-level name an installed regular package wins (closure.namespace_tops) is looked up outside."""
    project = write_files(tmp_path / "p", PACKAGED)
    closure = walk(project, "python -m app; python -c 'import fast'", exclude=frozenset({"fast"}))
    assert [(o.owner, o.target, o.name) for o in closure.outside if o.top == "fast"] == [
        ("app.core", "fast", "compiled_name"), ("TRAIN_CMD:-c", "fast", "")]
    (project / "t.py").write_text("import fast\n")
    assert [o.target for o in walk(project, "python t.py", exclude=frozenset({"fast"})).outside] == ["fast"]


def test_a_relative_import_in_dash_c_has_no_package(tmp_path: Path):
    closure = walk(write_files(tmp_path / "p", {"x.py": ""}), "python -c 'from . import x'")
    assert closure.problems == [Problem("TRAIN_CMD:-c", "<-c>:1", "`from . import x` is a relative import with no "
                                        "parent package here (a script run by path is not in a package)", ".", "x")]
    assert closure.outside == []


def test_where_the_script_is_looked_for_after_a_cd(tmp_path: Path):
    project = write_files(tmp_path / "p", {"t.py": "import a\n", "a.py": "", "sub/t.py": "import b\n", "sub/b.py": ""})
    assert shown(project, walk(project, "cd sub && python t.py")) == {"TRAIN_CMD:t.py": "sub/t.py", "b": "sub/b.py"}
    (project / "sub" / "t.py").unlink()
    closure = walk(project, "cd sub && python t.py")
    assert closure.problems == [Problem("TRAIN_CMD", "TRAIN_CMD", "runs t.py, which does not exist (looked in sub)",
                                        "t.py")]
    assert closure.modules == {}


def test_relative_star_imports_resolve_in_the_module_s_package(tmp_path: Path):
    project = write_files(tmp_path / "p", {"app2/__init__.py": "", "app2/sub/__init__.py": "",
                                           "app2/sub/star_c.py": "import os\nfrom .star_d import *\n"
                                           "from .star_e import E\nfrom .missing_mod import *\n",
                                           "app2/sub/star_d.py": "D = 1\n", "app2/sub/star_e.py": "F = 1\n",
                                           "t.py": "from app2.sub.star_c import D, nothing\n"})
    closure = walk(project, "python t.py")
    assert closure.problems == [
        Problem("TRAIN_CMD:t.py", "t.py:1", "`from app2.sub.star_c import nothing`: nothing is not defined in "
                "app2.sub.star_c", "app2.sub.star_c", "nothing"),
        Problem("app2.sub.star_c", "app2/sub/star_c.py:3", "`from .star_e import E`: E is not defined in "
                "app2.sub.star_e", "app2.sub.star_e", "E"),
        Problem("app2.sub.star_c", "app2/sub/star_c.py:4", "module app2.sub.missing_mod is not in the project "
                "(`from .missing_mod import *`)", "app2.sub.missing_mod", "*"),
    ]
    assert closure.unknown == []


@pytest.mark.parametrize("depth, unknown", [(1, True), (2, False)])
def test_star_imports_are_followed_only_so_deep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, depth: int,
                                                unknown: bool):
    project = write_files(tmp_path / "p", {"s0.py": "from s1 import *\n", "s1.py": "from s2 import *\n",
                                           "s2.py": "DEEP = 1\n", "t.py": "from s0 import DEEP, NOPE\n"})
    monkeypatch.setattr(closure_module, "MAX_STAR_DEPTH", depth)
    closure = walk(project, "python t.py")
    why = "(__getattr__, a star import from outside, or a parse error)"
    if unknown:
        assert (closure.unknown, closure.problems) == ([f"t.py:1: s0.DEEP {why}", f"t.py:1: s0.NOPE {why}"], [])
    else:
        assert (closure.unknown, closure.problems) == ([], [
            Problem("TRAIN_CMD:t.py", "t.py:1", "`from s0 import NOPE`: NOPE is not defined in s0", "s0", "NOPE")])


def test_a_module_too_big_too_deeply_nested_or_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = write_files(tmp_path / "p", {"t.py": "from big import X\nfrom latin import L\n",
                                           "big.py": "X = 1  # a comment that makes this module over fifty bytes "
                                                     "long\n",
                                           "nested.py": "from deep import Y\n",
                                           "deep.py": "Y = " + "+1" * 100000 + "\n"})
    (project / "latin.py").write_bytes(b"# caf\xe9\nL = 1\n")
    monkeypatch.setattr(closure_module, "MAX_FILE_BYTES", 50)
    closure = walk(project, "python t.py")
    why = "(__getattr__, a star import from outside, or a parse error)"
    size = (project / "big.py").stat().st_size
    assert closure.problems == [Problem("big", "big.py:1", f"cannot be parsed: unreadable: {size} bytes, over the "
                                       "50-byte limit for a module")]
    assert closure.unknown == [f"t.py:1: big.X {why}"]
    monkeypatch.setattr(closure_module, "MAX_FILE_BYTES", 1 << 20)
    closure = walk(project, "python nested.py")
    assert closure.unknown == [f"nested.py:1: deep.Y {why}", "deep.py: nested too deeply to parse (RecursionError)"]
    assert closure.problems == []


def test_a_module_outside_the_project_is_shown_by_its_own_path(tmp_path: Path):
    project = write_files(tmp_path / "p", {"t.py": "import extlib\n"})
    write_files(tmp_path / "vendor", {"extlib.py": "import nowhere_mod\n"})
    closure = closure_of(find_entries("python t.py", "TRAIN_CMD", project), project, [tmp_path / "vendor"],
                         FileFacts(project))
    assert [(o.owner, o.target, o.where) for o in closure.outside] == [
        ("extlib", "nowhere_mod", f"{tmp_path / 'vendor' / 'extlib.py'}:1")]


def test_a_plain_so_extension_is_read_as_compiled_not_as_a_namespace(tmp_path: Path):
    project = write_files(tmp_path / "p", {"t.py": "import fastext\nfastext.y\n", "fastext.so": ""})
    closure = walk(project, "python t.py")
    assert closure.unknown == ["t.py:2: fastext.y (an extension module)"]
    assert closure.namespace_tops == set() and closure.problems == []


@pytest.mark.parametrize("limit, files, found", [
    (3, {"big/a.txt": "", "big/b.txt": "", "big/zz/late.py": ""}, True),    # 2 names + 1 folder: 3, not over 3
    (2, {"big/a.txt": "", "big/b.txt": "", "big/zz/late.py": ""}, False),   # 3 over 2
    (4, {"big/a.txt": "", "big/b.txt": "", "big/zz/c.txt": "", "big/zz/d.txt": "", "big/zz/yy/late.py": ""}, False),
    (100, {"big/site-packages/x.py": "", "big/node_modules/y.py": "", "big/.hidden/z.py": ""}, False),
])
def test_the_namespace_scan_counts_every_entry_it_looks_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           limit: int, files: dict[str, str], found: bool):
    write_files(tmp_path, files)
    monkeypatch.setattr(closure_module, "MAX_NAMESPACE_SCAN", limit)
    assert (Finder([tmp_path]).find("big") is not None) is found


def test_only_a_name_s_first_binding_counts_and_only_when_it_is_not_that_import(tmp_path: Path):
    project = write_files(tmp_path / "p", {"f.py": "def gone():\n    pass\n\n\nfrom m import gone\n",
                                           "g.py": "from m import later\n\n\ndef later():\n    pass\n",
                                           "h.py": "import os; X = 1\n"})
    names = {"gone", "later", "X"}
    assert definitions_index(names, [project], FileFacts(project)) == {"gone": ["f.py:1"], "later": [],
                                                                       "X": ["h.py:1"]}
    assert definitions_index(names, [project], FileFacts(project), limit=2) == {"gone": ["f.py:1"], "later": [],
                                                                                "X": []}


def test_the_definitions_index_reads_each_file_once_across_roots(tmp_path: Path):
    project = write_files(tmp_path / "p", {"lib/a.py": "def A():\n    pass\n", "zz/b.py": "def B():\n    pass\n"})
    assert definitions_index({"A", "B"}, [project / "lib", project], FileFacts(project)) == {
        "A": ["lib/a.py:1"], "B": ["zz/b.py:1"]}


def test_only_an_equality_with_main_is_the_main_guard(tmp_path: Path):
    # The entry runs its main-guard body as training starts; `!=` runs it only when imported, never then.
    source = ('if __name__ == "__main__":\n    import eq_left\nif "__main__" == __name__:\n    import eq_right\n'
              'if __name__ != "__main__":\n    import not_equal\nif __name__ in ("__main__",):\n    import member\n')
    project = write_files(tmp_path / "p", {"train.py": source, **{f"{m}.py": "" for m in
                                                                 ("eq_left", "eq_right", "not_equal", "member")}})
    eager = walk(project, "python train.py").required(eager=True)
    assert {"eq_left", "eq_right"} <= eager and not {"not_equal", "member"} & eager, eager
