"""ArcticDB checks on LMDB for every path, and once on S3 through the moto server."""

import threading
from pathlib import Path

import pytest

from preflight.checks import arctic
from preflight.checks.arctic import check_freshness, check_library
from preflight.demo import DEMO_SYMBOLS, seed
from tests.conftest import make_context


def ctx_for(tmp_path: Path, uri: str, **values: str):
    return make_context(tmp_path, **{"ARCTICDB_URI": uri, "ARCTICDB_LIBRARY": "demo",
                                     "ARCTICDB_REQUIRED_SYMBOLS": "", **values})


def test_fresh_store_passes(tmp_path: Path, seeded_store: Path):
    ctx = ctx_for(tmp_path, f"lmdb://{seeded_store}", ARCTICDB_REQUIRED_SYMBOLS="ES,CL", ARCTICDB_MIN_SYMBOLS="8")
    assert check_library(ctx, 10).status == "pass"
    fresh = check_freshness(ctx, 10)
    assert fresh.status == "pass" and "8 symbols fresh" in fresh.message


def test_stale_symbol_named_with_age(tmp_path: Path):
    seed(f"lmdb://{tmp_path}/s", "demo", rows=5, stale={"CL": 5 * 86400})
    outcome = check_freshness(ctx_for(tmp_path, f"lmdb://{tmp_path}/s"), 10)
    assert outcome.status == "fail"
    assert "CL: last row" in outcome.message and "5d 0h old" in outcome.message
    assert "ES" not in outcome.details["stale"]


def test_sample_and_list_universe(tmp_path: Path, monkeypatch):
    seed(f"lmdb://{tmp_path}/s", "demo", rows=5, stale={"CL": 5 * 86400})
    ok = check_freshness(ctx_for(tmp_path, f"lmdb://{tmp_path}/s", ARCTICDB_FRESHNESS_SYMBOLS="ES,NQ"), 10)
    assert ok.status == "pass"
    missing = check_freshness(ctx_for(tmp_path, f"lmdb://{tmp_path}/s", ARCTICDB_FRESHNESS_SYMBOLS="ES,NOPE"), 10)
    assert missing.status == "fail" and "NOPE: missing" in missing.message
    # sample:3 draws 3 of the sorted universe (6E, BTC, CL, ES, ...) at random; each verdict is pinned here
    # by the draw, so both are checked on every run: the first three hold the stale CL, the last three not.
    assert sorted(DEMO_SYMBOLS)[:3] == ["6E", "BTC", "CL"]
    for pick, status, needle in ((lambda every, k: every[:k], "fail", "of 3: CL: last row"),
                                 (lambda every, k: every[-k:], "pass", "3 symbols fresh")):
        monkeypatch.setattr(arctic.random, "sample", pick)
        sample = check_freshness(ctx_for(tmp_path, f"lmdb://{tmp_path}/s", ARCTICDB_FRESHNESS_SYMBOLS="sample:3"), 10)
        assert sample.status == status and needle in sample.message, sample


def test_missing_store_is_not_created(tmp_path: Path):
    outcome = check_library(ctx_for(tmp_path, "lmdb://relative/absent"), 10)
    assert outcome.status == "fail" and "does not exist" in outcome.message
    assert not (tmp_path / "relative").exists()


@pytest.mark.parametrize("content", [[], ["notes.txt"], ["_arctic_cfg/"]])
def test_directory_that_is_not_a_store_is_left_untouched(tmp_path: Path, content: list[str]):
    """Issue 10 item 7: an empty (or foreign) directory fails without ArcticDB writing into it."""
    store = tmp_path / "not-a-store"
    store.mkdir()
    for name in content:
        (store / name).mkdir() if name.endswith("/") else (store / name).write_text("x")
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    for check in (check_library, check_freshness):
        outcome = check(ctx_for(tmp_path, f"lmdb://{store}"), 10)
        assert outcome.status == "fail" and "is not an ArcticDB LMDB store" in outcome.message
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before


def test_missing_library_and_empty_library(tmp_path: Path):
    from arcticdb import Arctic

    store = Arctic(f"lmdb://{tmp_path}/s")
    store.create_library("other")
    outcome = check_library(ctx_for(tmp_path, f"lmdb://{tmp_path}/s"), 10)
    assert outcome.status == "fail" and "library 'demo' not found; the store has other" in outcome.message
    store.create_library("demo")
    empty = check_library(ctx_for(tmp_path, f"lmdb://{tmp_path}/s"), 10)
    assert empty.status == "fail" and "is empty" in empty.message


def test_required_symbols_missing(tmp_path: Path, seeded_store: Path):
    outcome = check_library(ctx_for(tmp_path, f"lmdb://{seeded_store}", ARCTICDB_REQUIRED_SYMBOLS="ES,ZZZ"), 10)
    assert outcome.status == "fail" and "required symbols missing: ZZZ" in outcome.message


def test_s3_store_on_moto(tmp_path: Path, s3, aws_env):
    s3.create_bucket(Bucket="arctic-data")
    port = aws_env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
    uri = f"s3://127.0.0.1:arctic-data?port={port}&access=testing&secret=testing-secret-value"
    seed(uri, "demo", rows=5, stale={})
    ctx = ctx_for(tmp_path, uri)
    assert check_library(ctx, 10).status == "pass"
    assert check_freshness(ctx, 10).status == "pass"
    s3.create_bucket(Bucket="arctic-empty")
    empty = check_library(ctx_for(tmp_path, uri.replace("arctic-data", "arctic-empty")), 10)
    assert empty.status == "fail" and "no libraries" in empty.message and "secret=***" in empty.message


def test_unreachable_s3_endpoint_fails_inside_deadline(tmp_path: Path):
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    outcomes = []
    worker = threading.Thread(target=lambda: outcomes.append(
        check_library(ctx_for(tmp_path, f"s3://127.0.0.1:b?port={port}&access=a&secret=b"), 10)), daemon=True)
    worker.start()
    worker.join(timeout=10)  # the check's own deadline: it must have answered by then
    assert not worker.is_alive(), "check_library outlived its 10 s deadline"
    (outcome,) = outcomes
    assert outcome.status == "fail" and f"127.0.0.1:{port} unreachable" in outcome.message


def test_library_and_freshness_share_one_opened_store(tmp_path: Path, seeded_store: Path, monkeypatch):
    """Issue 12 item 7: two Arctic() on one LMDB path in one process print 'already been opened'."""
    import threading

    import arcticdb

    opened = []
    real = arcticdb.Arctic

    def counting(uri: str, *args, **kwargs):
        opened.append(uri)
        return real(uri, *args, **kwargs)

    monkeypatch.setattr(arcticdb, "Arctic", counting)
    ctx = ctx_for(tmp_path, f"lmdb://{seeded_store}")
    results = {}
    threads = [threading.Thread(target=lambda c=c: results.__setitem__(c.__name__, c(ctx, 10)))
               for c in (check_library, check_freshness)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {name: r.status for name, r in results.items()} == {"check_library": "pass", "check_freshness": "pass"}
    assert len(opened) == 1, opened
