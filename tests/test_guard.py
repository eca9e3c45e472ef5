"""The read-only guard in-process: its import hook on a stand-in for botocore.session, its patch of the real
one, its log. (test_aws_checks.py and test_guard_children.py prove the same against moto and in child
processes; mutation testing found the hook itself reached by no test that runs in-process.)"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import stat
import sys
import types
from pathlib import Path

import pytest

from preflight import guard as g

STANDIN = "standin_botocore.session"  # a submodule, as botocore.session is: found through its package's path
SESSION = '''
class Session:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.handlers = args, kwargs, []

    def register(self, event, handler):
        self.handlers.append((event, handler))

    def unregister(self, event, handler):
        self.handlers.remove((event, handler))
'''


class Model:
    """botocore's OperationModel, as much of it as the guard reads."""

    def __init__(self, service: str, name: str) -> None:
        self.name = name
        self.service_model = types.SimpleNamespace(service_name=service)


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "standin_botocore").mkdir()
    (tmp_path / "standin_botocore" / "__init__.py").write_text("")
    (tmp_path / "standin_botocore" / "session.py").write_text(SESSION)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(g, "_TARGET", STANDIN)
    for name in (STANDIN, "standin_botocore", "boto3"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield STANDIN
    for name in (STANDIN, "standin_botocore"):
        sys.modules.pop(name, None)


class NoFindSpec:
    """A legacy finder (find_module, no find_spec): the hook must step over it."""

    def find_module(self, fullname, path=None):
        return None


class LoaderlessFinder:
    """Answers the target with a spec that has no loader (a namespace portion): not the module to patch."""

    def find_spec(self, fullname, path, target=None):
        return importlib.machinery.ModuleSpec(fullname, None) if fullname == STANDIN else None


def test_imported_while_active_it_is_patched_right_after_it_runs(standin: str, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [NoFindSpec(), LoaderlessFinder(), *sys.meta_path])
    before = list(sys.meta_path)
    log = tmp_path / "guard.log"
    with g.ReadOnlyGuard(str(log)) as guard:
        assert sys.meta_path == [guard._finder, *before]
        module = importlib.import_module(standin)
        assert module.__spec__.loader is guard._finder and guard._finder.real is not None
        session = module.Session("a", k=1)
        assert (session.args, session.kwargs) == (("a",), {"k": 1})  # the real __init__ ran, with its arguments
        assert session.handlers == [("before-call", guard._before_call)]
        for read in ("GetObject", "HeadBucket", "ListBuckets", "DescribeInstances"):
            assert guard._before_call(model=Model("s3", read)) is None
        with pytest.raises(g.WriteRefused) as refused:
            guard._before_call(model=Model("s3", "PutObject"))
        assert str(refused.value) == "preflight is read-only: refused s3:PutObject before sending it"
        with pytest.raises(g.WriteRefused):
            guard._before_call(model=Model("ec2", "CreateTags"), params={})
        assert guard.refused == ["s3:PutObject", "ec2:CreateTags"]
        assert guard.intact() == ""
        patched = module.Session.__init__
        module.Session.__init__ = lambda self, *a, **k: None  # what a library that re-patches botocore does
        assert guard.intact() == "removed: botocore's Session.__init__ was replaced"
        module.Session.__init__ = patched
    assert sys.meta_path == before and guard._finder is None
    assert session.handlers == []  # unregistered from the sessions it watched
    assert module.Session("b").handlers == []  # Session.__init__ is the original again
    assert log.read_text() == f"refused {os.getpid()} s3:PutObject\nrefused {os.getpid()} ec2:CreateTags\n"
    assert g.read_log(str(log)) == (["s3:PutObject", "ec2:CreateTags"], 0)


def test_other_modules_are_not_the_hook_s_business(standin: str):
    with g.ReadOnlyGuard() as guard:
        assert guard._finder.find_spec("json", None) is None
        assert guard._finder.real is None


def test_already_imported_it_is_patched_at_once_with_boto3_s_default_session(standin: str, monkeypatch):
    module = importlib.import_module(standin)
    default = module.Session()
    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(DEFAULT_SESSION=types.SimpleNamespace(
        _session=default)))
    before = list(sys.meta_path)
    with g.ReadOnlyGuard() as guard:
        assert guard._finder is None and sys.meta_path == before
        assert default.handlers == [("before-call", guard._before_call)]
        assert module.Session().handlers == [("before-call", guard._before_call)]
    assert default.handlers == [] and module.Session().handlers == []


@pytest.mark.parametrize("boto3", [types.SimpleNamespace(DEFAULT_SESSION=None), types.SimpleNamespace()])
def test_boto3_without_a_default_session_is_left_alone(standin: str, monkeypatch, boto3):
    importlib.import_module(standin)
    monkeypatch.setitem(sys.modules, "boto3", boto3)
    with g.ReadOnlyGuard() as guard:
        assert guard._sessions == []


def test_a_session_dropped_during_the_probe_is_skipped_at_exit(standin: str):
    module = importlib.import_module(standin)
    with g.ReadOnlyGuard() as guard:
        module.Session()  # no reference kept: gone before the guard exits
        kept = module.Session()
        assert len(guard._sessions) == 2
    assert kept.handlers == []


def test_the_real_botocore_refuses_a_write_before_sending_and_only_while_active():
    import boto3
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    def s3():  # nothing listens on port 9: a request that is sent fails to connect
        return boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b").client(
            "s3", endpoint_url="http://127.0.0.1:9", config=Config(retries={"max_attempts": 1}, connect_timeout=2))

    with g.ReadOnlyGuard() as guard:
        client = s3()
        with pytest.raises(g.WriteRefused):
            client.put_object(Bucket="b", Key="k", Body=b"1")
        with pytest.raises(EndpointConnectionError):
            client.list_objects_v2(Bucket="b")  # a read is sent
    assert guard.refused == ["s3:PutObject"]
    with pytest.raises(EndpointConnectionError):
        s3().put_object(Bucket="b", Key="k", Body=b"1")  # the guard is gone


def test_note_appends_whole_lines_to_a_private_file(tmp_path: Path):
    log = tmp_path / "guard.log"
    g.note(str(log), "guarded 12")
    g.note(str(log), "refused 12 s3:PutObject")
    assert log.read_text() == "guarded 12\nrefused 12 s3:PutObject\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    g.note(None, "nowhere")
    g.note("", "nowhere")
    g.note(str(tmp_path / "missing-dir" / "log"), "lost")  # the refusal stands even when it cannot be logged
    assert not (tmp_path / "missing-dir").exists()


def test_read_log_counts_children_and_keeps_each_refusal_whole(tmp_path: Path):
    log = tmp_path / "guard.log"
    assert g.read_log(str(log)) == ([], 0)
    log.write_text("guarded 12\nrefused 12 s3:PutObject\nguarded 13\nrefused 13 ec2:Run Instances x\nnoise\n")
    assert g.read_log(str(log)) == (["s3:PutObject", "ec2:Run Instances x"], 2)


def test_exit_twice_or_after_the_hook_was_dropped_is_harmless(standin: str):
    module = importlib.import_module(standin)
    with g.ReadOnlyGuard() as guard:
        pass
    guard.__exit__(None, None, None)  # a second cleanup finds nothing left to undo
    assert module.Session().handlers == []
    unpatched = g.ReadOnlyGuard()
    unpatched.__enter__()  # botocore's stand-in is imported: no hook, a patch
    unpatched.__exit__(None, None, None)
    hooked = g.ReadOnlyGuard()
    sys.modules.pop(standin)
    hooked.__enter__()
    sys.meta_path.remove(hooked._finder)  # someone else rebuilt sys.meta_path meanwhile
    hooked.__exit__(None, None, None)
    assert hooked._finder is None


# --- the spawn audit, read exactly (issue 27: make mutation found coverage, _program and watch reached by
# no fast test; they run in guarded children, so here they run in-process on a log of our own) ----------

def test_coverage_matches_each_start_with_the_process_it_became(tmp_path: Path):
    log = tmp_path / "guard.log"
    log.write_text("\n".join([
        "spawn 10 subprocess.Popen python3.11",      # answered by 11 (parent 10)
        "guarded 11 10 /venv/bin/python",
        "spawn 11 os.exec python3",                   # an exec: answered by the same pid, 11
        "guarded 11 10 /venv/bin/python",
        "spawn 10 os.system sh",                      # never answered: it ran without the guard
        "spawn 10 subprocess.Popen git",              # never answered
        "spawn 12 os.posix_spawn",                    # malformed: two words, not a start
        "guarded 13",                                 # malformed: not a report
        "ended 11 intact",
        "ended 14 removed: botocore's Session.__init__ was replaced",
        "guarded 14 10 /venv/bin/python",             # answers the latest open start of 10: git
        "guarded 15 99 /venv/bin/python",             # answers nothing, and never says how it ended
        "guarded 16 77",                              # no interpreter named: still a report
        "refused 11 s3:PutObject",                    # the guard's refusals are not ends
        "spawn 20 subprocess.Popen my prog \udcff",   # a program name with a space (and a bad byte)
        "ended",
    ]) + "\n", encoding="utf-8", errors="surrogateescape")
    got = g.coverage(str(log))
    assert got == g.Coverage(guarded=5, launched=5, unguarded=["sh", "my prog \ufffd"],
                             removed=["14: removed: botocore's Session.__init__ was replaced"], unverified=2)
    assert g.read_log(str(log)) == (["s3:PutObject"], 6)  # read_log counts every guarded line


def test_coverage_answers_the_latest_open_start_first(tmp_path: Path):
    log = tmp_path / "guard.log"
    log.write_text("spawn 1 subprocess.Popen first\nspawn 1 subprocess.Popen second\nguarded 2 1 py\n")
    assert g.coverage(str(log)).unguarded == ["first"]
    assert g.coverage(str(tmp_path / "missing.log")) == g.Coverage()


@pytest.mark.parametrize("event, args, program", [
    ("os.system", (b"rm -rf /",), "sh"),
    ("subprocess.Popen", ("/usr/bin/git", ["git", "status"], None, None), "git"),
    ("subprocess.Popen", (None, ["/venv/bin/python3.11", "-c", "x"], None, None), "python3.11"),
    ("subprocess.Popen", (None, "ls -l /tmp", None, None), "ls"),
    ("subprocess.Popen", (None, [], None, None), "?"),
    ("subprocess.Popen", (None, b"/bin/echo hi", None, None), "echo"),
    ("os.spawn", (0, "/usr/bin/env", ["env"], None), "env"),
    ("os.exec", (b"/usr/bin/python3\xff", ["python3"], None), "python3\ufffd"),
    ("os.posix_spawn", ("   ", [], None), "?"),
    ("os.posix_spawn", ("/" + "x" * 100, [], None), "x" * 60),
    ("os.posix_spawn", ("/usr/bin/", [], None), "?"),
])
def test_program_names_what_a_start_runs(event: str, args: tuple, program: str):
    assert g._program(event, args) == program


def test_watch_records_each_start_and_the_guard_s_state_at_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import _posixsubprocess
    import atexit

    hooks, at_exit, execs = [], [], []
    monkeypatch.setattr(sys, "addaudithook", hooks.append)
    monkeypatch.setattr(atexit, "register", at_exit.append)
    monkeypatch.setattr(_posixsubprocess, "fork_exec", lambda *a, **k: execs.append((a, k)) or 42)
    log = tmp_path / "guard.log"
    guard = g.ReadOnlyGuard(str(log))
    g.watch(guard, str(log))
    [hook], [ended] = hooks, at_exit
    assert _posixsubprocess.fork_exec(["/bin/true"], flag=1) == 42  # before any audit event on this thread
    hook("open", ("/etc/passwd",))                             # not a start: not recorded
    hook("os.system", (b"ls",))
    hook("subprocess.Popen", ("/usr/bin/git", ["git"], None, None))
    assert _posixsubprocess.fork_exec(["/usr/bin/git"], "x") == 42  # the Popen's own fork: recorded once above
    assert _posixsubprocess.fork_exec(["/venv/bin/python3", "-c"], "y") == 42  # multiprocessing's spawn
    assert _posixsubprocess.fork_exec() == 42
    ended()
    pid = os.getpid()
    assert log.read_text().splitlines() == [f"spawn {pid} fork_exec true", f"spawn {pid} os.system sh",
                                            f"spawn {pid} subprocess.Popen git", f"spawn {pid} fork_exec python3",
                                            f"spawn {pid} fork_exec ?", f"ended {pid} intact"]
    assert execs == [((["/bin/true"],), {"flag": 1}), ((["/usr/bin/git"], "x"), {}),
                     ((["/venv/bin/python3", "-c"], "y"), {}), ((), {})]


def test_intact_says_what_was_undone(standin: str):
    guard = g.ReadOnlyGuard()
    assert guard.intact() == ""
    with guard:
        assert guard.intact() == ""
        sys.meta_path.remove(guard._finder)
        assert guard.intact() == "removed: the guard's import hook was taken out of sys.meta_path"
        sys.meta_path.insert(0, guard._finder)
