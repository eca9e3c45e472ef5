"""Schema, invariant, bounds, redaction, atomic write, framing."""

import json
import os
from pathlib import Path

import pytest

from preflight import artifact as art
from preflight.model import CheckResult

HASH = "sha256:" + "0" * 64


def result(check_id: str, status: str, message: str = "m", details: dict | None = None) -> CheckResult:
    return CheckResult(check_id, "t", status, message, "do x" if status == "fail" else "", 0.1, details or {})


def build(results, environ=None):
    return art.build(results, run_id="r1", mode="preflight-only", identity_hash=HASH, runtime_config_hash=HASH,
                     duration_s=1.0, environ=environ or {}, diagnostics={})


def test_ready_and_failed_artifacts_are_schema_valid():
    ready = build([result("a", "pass"), result("b", "skip"), result("c", "warn")])
    assert ready["status"] == "READY" and ready["next_action"] == "proceed"
    assert ready["checks_summary"] == {"total": 3, "passed": 1, "failed": 0, "bootstrapped": 0, "warnings": 1,
                                       "skipped": 1}
    failed = build([result("a", "pass"), result("b", "fail", "broken")])
    assert failed["status"] == "FAILED" and failed["next_action"] == "b: do x"
    assert failed["failures"] == [{"id": "b", "message": "broken", "remediation": "do x"}]


def test_invariant_and_schema_violations_are_caught():
    good = build([result("a", "pass")])
    broken = json.loads(json.dumps(good))
    broken["checks_summary"]["passed"] = 2
    with pytest.raises(art.ArtifactError, match="does not match the checks it summarises"):
        art.validate(broken)
    lying = json.loads(json.dumps(good))
    lying["status"] = "FAILED"
    with pytest.raises(art.ArtifactError, match="status FAILED but no check failed"):
        art.validate(lying)
    extra = dict(good, surprise=1)
    with pytest.raises(art.ArtifactError, match="schema"):
        art.validate(extra)


def test_secrets_never_appear():
    secret = "UNIQUE-FAKE-SECRET-4242"
    environ = {"MY_API_KEY": secret, "DB_PASSWORD": "hunter2hunter2"}
    out = build([result("a", "fail", f"token {secret} leaked", {"uri": "s3://h:b?access=AK&secret=SK"})], environ)
    text = art.to_json(out)
    assert secret not in text and "hunter2hunter2" not in text
    assert "secret=***" in text and "access=***" in text


def test_size_is_bounded():
    big = [result(f"c{i}", "fail", "x" * 5000, {"blob": "y" * 5000}) for i in range(12)]
    out = build(big)
    assert len(art.to_json(out).encode()) <= art.MAX_BYTES
    art.validate(out)


def test_atomic_write_leaves_no_temp_and_replaces(tmp_path: Path):
    path = tmp_path / "sub" / "preflight-readiness.json"
    art.write_atomic(build([result("a", "pass")]), path)
    art.write_atomic(build([result("a", "fail")]), path)
    assert json.loads(path.read_text())["status"] == "FAILED"
    assert os.listdir(path.parent) == ["preflight-readiness.json"]


def test_atomic_write_failure_keeps_old_file(tmp_path: Path):
    path = tmp_path / "a.json"
    art.write_atomic(build([result("a", "pass")]), path)
    with pytest.raises(TypeError):
        art.write_atomic({"not": object()}, path)
    assert json.loads(path.read_text())["status"] == "READY"
    assert os.listdir(tmp_path) == ["a.json"]


def test_a_reader_of_the_old_file_never_sees_a_mix(tmp_path: Path):
    """The new artifact arrives by rename: a reader that opened the old file reads the old file whole,
    where a write in place (truncate, then write) would hand it the new bytes or an empty file."""
    path = tmp_path / "preflight-readiness.json"
    art.write_atomic(build([result("a", "pass")]), path)
    with path.open(encoding="utf-8") as reader:
        art.write_atomic(build([result("a", "fail", "x" * 2000)]), path)
        assert json.loads(reader.read())["status"] == "READY"
    assert json.loads(path.read_text())["status"] == "FAILED"


def test_a_write_cut_short_keeps_the_old_file_whole(tmp_path: Path):
    """The disk fills in the middle of the write (RLIMIT_FSIZE: writes past N bytes fail with EFBIG):
    the old artifact is still there, whole, and no partial file is left beside it."""
    import resource
    import signal

    path = tmp_path / "preflight-readiness.json"
    art.write_atomic(build([result("a", "pass")]), path)
    old = path.read_bytes()
    bigger = build([result(f"c{i}", "fail", "x" * 600) for i in range(12)])
    assert len(json.dumps(bigger, indent=2)) > 2 * len(old) + 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal's default: death
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(old) + 4096, hard))
    try:
        with pytest.raises(OSError):
            art.write_atomic(bigger, path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["preflight-readiness.json"]


def test_frame_roundtrip_and_cut_detection():
    artifact = build([result("a", "pass")])
    text = "noise\n" * 3 + art.frame(artifact) + "\ntrailing\n"
    assert art.unframe(text) == artifact
    with pytest.raises(art.ArtifactError, match="no readiness frame"):
        art.unframe("just output")
    cut = text[: text.index(art.END_PREFIX) - 10]
    with pytest.raises(art.ArtifactError, match="not closed"):
        art.unframe(cut)
    tampered = text.replace('"READY"', '"FAILED"', 1)
    with pytest.raises(art.ArtifactError, match="checksum"):
        art.unframe(tampered)


def test_no_failing_item_is_hidden_by_the_size_bound():
    """Issue 12 item 1: one huge failure must not push another one out of the artifact."""
    items = ["pkg_a: importing it raised RuntimeError: " + "t" * 5000,
             "from pkg_b import gone_one: name 'gone_one' is gone from pkg_b",
             "from pkg_b import gone_two: name 'gone_two' is gone from pkg_b"]
    small = build([result("imports", "fail", "; ".join(items), {"problems": items}),
                   result("runtime", "pass", "ok", {"blob": "z" * 3000})])
    text = json.dumps(small)
    assert "gone_one" in text and "gone_two" in text and "pkg_a: importing it raised RuntimeError" in text
    imports = next(c for c in small["checks"] if c["id"] == "imports")
    assert "gone_two" in imports["message"] and "gone_two" in small["failures"][0]["message"]
    assert small["checks"][1]["details"] == {"truncated": True}  # a passing check's details go first
    crowded = build([result(f"c{i}", "fail", "; ".join(items), {"problems": items}) for i in range(20)])
    assert len(art.to_json(crowded).encode()) <= art.MAX_BYTES
    for check in crowded["checks"]:
        assert "gone_one" in check["message"] and "gone_two" in check["message"], check["message"][-300:]
