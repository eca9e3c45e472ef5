"""artifact.py at its edges and word for word: what mutation testing found test_artifact.py letting through
(a bound moved by one, a message emptied, a separator changed, the first frame taken for the last)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from preflight import artifact as art
from preflight.config import sha256_json
from preflight.model import CheckResult

HASH = "sha256:" + "0" * 64
LIMITS = (1200, 600, 300, 160, 100, 60)


def check(check_id: str, status: str, message: str = "m", remediation: str | None = None,
          details: dict | None = None) -> CheckResult:
    if remediation is None:
        remediation = "do x" if status == "fail" else ""
    return CheckResult(check_id, "t", status, message, remediation, 0.1, details or {})


def build(results: list[CheckResult], environ: dict | None = None, duration_s: float = 1.0) -> dict:
    return art.build(results, run_id="r1", mode="preflight-only", identity_hash=HASH, runtime_config_hash=HASH,
                     duration_s=duration_s, environ=environ or {}, diagnostics={})


# --- the size bound --------------------------------------------------------------------------------------
def test_each_shortening_step_cuts_to_its_limit():
    """Items are cut to 1200, 600, 300, 160, 100, then 60 characters (next_action to twice that), one step
    at a time until the artifact fits; some number of failing checks stops at each step."""
    seen = set()
    for count in range(1, 40):
        out = build([check(f"c{i}", "fail", "m" * 5000, "r" * 3000) for i in range(count)])
        assert len(art.to_json(out).encode()) <= art.MAX_BYTES
        message, action = out["checks"][0]["message"], out["next_action"]
        assert message.endswith(" …[truncated]") and action.endswith(" …[truncated]")
        assert out["failures"][0]["message"] == message and out["checks"][0]["remediation"] == out["failures"][0][
            "remediation"]
        seen.add((len(message), len(out["checks"][0]["remediation"]), len(action)))
    assert seen == {(limit - 2, limit - 2, 2 * limit - 2) for limit in LIMITS}


def test_an_item_exactly_at_the_limit_is_kept_whole():
    assert art._shorten("x" * 60, 60) == "x" * 60
    assert art._shorten("x" * 61, 60) == "x" * 45 + " …[truncated]"
    assert art._shorten_items("a" * 61 + "; b; " + "c" * 61, 60) == \
        "a" * 45 + " …[truncated]; b; " + "c" * 45 + " …[truncated]"


def test_details_over_200_characters_go_first_and_200_stay():
    at_200 = {"k": "v" * (200 - len('{"k": ""}'))}
    at_201 = {"k": "v" * (201 - len('{"k": ""}'))}
    assert (len(json.dumps(at_200)), len(json.dumps(at_201))) == (200, 201)
    out = build([check("big", "fail", "m" * 20000), check("p200", "pass", details=at_200),
                 check("p201", "pass", details=at_201), check("f200", "fail", details=at_200),
                 check("f201", "fail", details=at_201)])
    details = {c["id"]: c["details"] for c in out["checks"]}
    assert details["p200"] == at_200 and details["f200"] == at_200
    assert details["p201"] == {"truncated": True} and details["f201"] == {"truncated": True}


def test_an_artifact_of_exactly_max_bytes_is_left_alone():
    def sized(extra: int) -> dict:
        return build([check("a", "pass", "m" * extra, details={"blob": "z" * 300})])

    base = len(art.to_json(sized(0)).encode())
    exact = sized(art.MAX_BYTES - base)
    assert len(art.to_json(exact).encode()) == art.MAX_BYTES
    assert exact["checks"][0]["details"] == {"blob": "z" * 300}  # nothing dropped, nothing cut
    over = sized(art.MAX_BYTES - base + 1)
    assert over["checks"][0]["details"] == {"truncated": True}


# --- the verdict -----------------------------------------------------------------------------------------
def test_next_action_joins_each_failure_s_remediation_or_its_message():
    out = build([check("a", "fail"), check("b", "fail", "broken", remediation=""), check("c", "pass")])
    assert out["next_action"] == "a: do x | b: broken"
    assert out["failures"] == [{"id": "a", "message": "m", "remediation": "do x"},
                               {"id": "b", "message": "broken", "remediation": ""}]


def test_host_duration_and_emitted_at(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # far from UTC: a local timestamp would be 9 h off
    time.tzset()
    try:
        out = build([check("a", "pass")], environ={"PREFLIGHT_INSTANCE_ID": "i-0abc"}, duration_s=1.23456)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert out["preflight_duration_seconds"] == 1.235
    assert out["host"]["instance_id"] == "i-0abc" and out["host"]["python"] == platform.python_version()
    emitted = datetime.strptime(out["emitted_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - emitted).total_seconds()) < 3600
    assert build([check("a", "pass")])["host"]["instance_id"] is None


def test_runtime_hash_is_the_pins_file_and_the_python(tmp_path: Path):
    pins = tmp_path / "requirements.txt"
    pins.write_bytes(b"numpy==2.0.0\n")
    python = platform.python_version()
    assert art.runtime_hash(str(pins)) == sha256_json(
        {"pins_sha256": hashlib.sha256(b"numpy==2.0.0\n").hexdigest(), "python": python})
    assert art.runtime_hash("") == sha256_json({"pins_sha256": None, "python": python})
    assert art.runtime_hash(str(tmp_path / "absent.txt")) == art.runtime_hash("")
    assert art.runtime_hash(str(tmp_path)) == art.runtime_hash("")  # a directory is no pins file


# --- secrets ---------------------------------------------------------------------------------------------
def test_secret_values_longest_first_from_credential_names_only():
    environ = {"API_KEY": "abcd", "DB_PASSWORD": "abcdefgh", "SHORT_TOKEN": "abc", "AWS_REGION": "us-east-1",
               "MY_SECRET": "zzzzzz"}
    assert art.secret_values(environ) == ["abcdefgh", "zzzzzz", "abcd"]
    # Longest first: a secret that contains another is replaced whole, not around the shorter one.
    assert art.redact("x abcdefgh y abcd", art.secret_values(environ)) == "x *** y ***"
    assert art.redact("us-east-1 abc", art.secret_values(environ)) == "us-east-1 abc"


def test_redact_replaces_values_and_uri_credentials_everywhere():
    secrets = ["hunter2hunter2"]
    value = {"a": ["pw hunter2hunter2", {"uri": "s3://h:b?access=AK&secret=SK&region=r"}], "n": 3}
    assert art.redact(value, secrets) == {"a": ["pw ***", {"uri": "s3://h:b?access=***&secret=***&region=r"}],
                                          "n": 3}


# --- serialising ---------------------------------------------------------------------------------------------
def test_to_json_is_compact_sorted_and_keeps_unicode():
    assert art.to_json({"b": "é", "a": [1, {"d": 1, "c": 2}]}) == '{"a":[1,{"c":2,"d":1}],"b":"é"}'


def test_write_atomic_writes_indented_sorted_utf8_from_a_hidden_temp_beside_it(tmp_path: Path, monkeypatch):
    artifact = build([check("a", "pass", "café")])
    path = tmp_path / "deep" / "er" / "preflight-readiness.json"
    moves: list[tuple[str, str]] = []
    real_replace = os.replace

    def replace(src, dst) -> None:
        moves.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(art.os, "replace", replace)
    art.write_atomic(artifact, path)
    assert path.read_bytes() == (json.dumps(artifact, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    assert "café".encode() in path.read_bytes()
    ((src, dst),) = moves
    assert dst == str(path) and Path(src).parent == path.parent
    assert Path(src).name.startswith(".preflight-readiness.json.")


# --- checks on an artifact ---------------------------------------------------------------------------------
def test_inconsistent_artifacts_are_named_exactly():
    good = build([check("a", "pass"), check("b", "fail")])

    def broken(**changes) -> str:
        artifact = json.loads(json.dumps(good))
        for key, value in changes.items():
            artifact[key] = value
        with pytest.raises(art.ArtifactError) as caught:
            art._consistent(artifact)
        return str(caught.value)

    assert broken(checks=[]) == "no checks: an artifact that proved nothing cannot be READY or FAILED"
    summary = dict(good["checks_summary"], passed=2)
    assert broken(checks_summary=summary) == (
        "checks_summary total 2, passed 2, failed 1, warnings 0, skipped 0, bootstrapped 0 does not match the "
        "checks it summarises (total 2, passed 1, failed 1, warnings 0, skipped 0, bootstrapped 0)")
    assert broken(status="READY") == "status READY contradicts failed check(s): b"
    two = json.loads(json.dumps(good))
    two["checks"][0]["status"] = "fail"
    two["checks_summary"].update(passed=0, failed=2)
    with pytest.raises(art.ArtifactError, match=r"^status READY contradicts failed check\(s\): a, b$"):
        art._consistent(dict(two, status="READY"))
    with pytest.raises(art.ArtifactError, match=r"^failures\[\] lists b but the failed checks are a, b$"):
        art._consistent(two)
    ready = build([check("a", "pass"), check("c", "pass")])
    listed = [{"id": "a", "message": "m", "remediation": ""}, {"id": "c", "message": "m", "remediation": ""}]
    with pytest.raises(art.ArtifactError, match=r"^status READY but failures\[\] lists a, c$"):
        art._consistent(dict(ready, failures=listed))
    assert broken(failures=[]) == "failures[] lists nothing but the failed checks are b"
    extra = [{"id": "a", "message": "m", "remediation": ""}, *good["failures"]]
    assert broken(failures=extra) == "failures[] lists a, b but the failed checks are b"
    failed_twice = dict(ready, status="FAILED", failures=listed)
    with pytest.raises(art.ArtifactError, match=r"^status FAILED but no check failed$"):
        art._consistent(failed_twice)


def test_schema_errors_name_where():
    good = build([check("a", "pass")])
    with pytest.raises(art.ArtifactError) as caught:
        art.validate(dict(good, surprise=1))
    assert str(caught.value) == "schema: (root): Additional properties are not allowed ('surprise' was unexpected)"
    bad = json.loads(json.dumps(good))
    bad["checks"][0]["status"] = "READY"
    with pytest.raises(art.ArtifactError, match=r"^schema: checks/0/status: 'READY' is not one of "):
        art.validate(bad)


# --- framing -----------------------------------------------------------------------------------------------
def test_the_last_frame_wins_and_a_frame_may_open_the_text():
    first, second = build([check("a", "pass")]), build([check("b", "fail")])
    assert art.unframe(art.frame(first) + "\n" + art.frame(second))["checks"][0]["id"] == "b"
    assert art.unframe(art.frame(first)) == first  # exactly three lines, starting at offset 0


def test_a_fetched_artifact_file_is_read_as_json():
    artifact = build([check("a", "pass")])
    assert art.unframe("\n  " + json.dumps(artifact, indent=2)) == artifact
    with pytest.raises(art.ArtifactError, match=r"^fetched artifact is not JSON: Expecting "):
        art.unframe("{oops")
    with pytest.raises(art.ArtifactError, match=r"^schema: "):
        art.unframe(json.dumps({"schema_version": 1}))


def test_frame_problems_are_named_exactly():
    artifact = build([check("a", "pass")])
    framed = art.frame(artifact)
    with pytest.raises(art.ArtifactError) as caught:
        art.unframe("output only")
    assert str(caught.value) == ("no readiness frame in the step output (the probe did not run to the end, or the "
                                 "output was cut before the artifact)")
    with pytest.raises(art.ArtifactError) as caught:
        art.unframe("\n".join(framed.splitlines()[:2]))
    assert str(caught.value) == ("readiness frame is not closed: the step output was cut inside the artifact (SSM "
                                 "keeps only the first 24,000 characters)")
    with pytest.raises(art.ArtifactError) as caught:
        art.unframe(framed.replace('"READY"', '"FAILED"', 1))
    assert str(caught.value) == "readiness frame checksum mismatch: the artifact was altered in transit"
    assert framed.endswith("-----") and art.unframe(framed + "\n") == artifact


# The bounded readers and the frame filter, exactly (issue 27: these reached no fast test in make mutation).

def test_without_frame_keeps_every_line_around_the_frame_and_none_inside():
    lines = ["a", art.BEGIN, "payload", art.END_PREFIX + "abc-----", "b", art.BEGIN + " again", "x", "y"]
    assert art.without_frame(lines) == ["a", "b"]  # an unended frame hides the rest: it is the artifact
    assert art.without_frame(["a", "b"]) == ["a", "b"]
    assert art.without_frame([art.END_PREFIX + "x", "c"]) == [art.END_PREFIX + "x", "c"]  # an end alone is text


def test_loads_bounded_counts_nesting_outside_strings():
    assert art.loads_bounded('[[["]]]][[[[{{"]]]', max_depth=3) == [[["]]]][[[[{{"]]]
    for text, deepest in (("[[[[1]]]]", 4), ('{"a": [1, {"b": []}], "c": {}}', 4), ("[[]] ", 2), ("[], []", 1)):
        with pytest.raises(art.ArtifactError, match=rf"^JSON nested deeper than {deepest - 1} levels$"):
            art.loads_bounded(text, max_depth=deepest - 1)
    assert art.loads_bounded('{"a": [1, {"b": []}], "c": {}}', max_depth=4) == {"a": [1, {"b": []}], "c": {}}
    assert art.loads_bounded("[[]] ", max_depth=2) == [[]]
    with pytest.raises(ValueError):
        art.loads_bounded("[], []", max_depth=1)  # not deeper than 1: the parser says what is wrong


def test_loads_bounded_turns_the_parser_s_recursion_into_an_artifact_error(monkeypatch: pytest.MonkeyPatch):
    def deep(_text: str):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(art.json, "loads", deep)
    with pytest.raises(art.ArtifactError, match=r"^JSON nested deeper than 64 levels$"):
        art.loads_bounded("[]")


def test_the_bounded_readers_name_what_they_refused(tmp_path: Path):
    small, big = tmp_path / "small.json", tmp_path / "big.log"
    small.write_text('{"k": "v"}')
    big.write_bytes(b"x" * 10 + "é".encode() + b"\xff end")
    assert art.read_json(small) == {"k": "v"} and art.read_bounded(small) == b'{"k": "v"}'
    with pytest.raises(art.ArtifactError, match=r"^10 bytes, over the 4-byte limit for an artifact$"):
        art.read_json(small, limit=4)
    assert art.read_tail(big, limit=8) == "xé\ufffd end"  # the last 8 bytes, a bad byte replaced
    assert art.read_tail(big) == "xxxxxxxxxxé\ufffd end"
    with pytest.raises(art.ArtifactError, match=rf"^{tmp_path}: not a regular file \(a directory\)$"):
        art.read_tail(tmp_path)
    with pytest.raises(art.ArtifactError, match=r"^not a regular file \(a directory\)$"):
        art.read_bounded(tmp_path)
    with pytest.raises(FileNotFoundError):
        art.read_tail(tmp_path / "missing")
