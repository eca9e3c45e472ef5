"""preflight/verify.py in-process, each rule at its edge: what makes an artifact unusable, stale, from the
future, for another config, or FAILED (test_probe_cli.py runs the same through `preflight verify`)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from preflight import artifact as art
from preflight import verify as v
from preflight.model import CheckResult

HASH = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64
NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)


def made(tmp_path: Path, status: str = "pass", emitted: datetime = NOW, name: str = "a.json", **changes) -> Path:
    checks = [CheckResult("c", "t", status, "m", "fix it" if status == "fail" else "", 0.1, {})]
    artifact = art.build(checks, run_id="run-1", mode="preflight-only", identity_hash=HASH, runtime_config_hash=HASH,
                         duration_s=1.0, environ={}, diagnostics={})
    artifact["emitted_at"] = emitted.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    artifact.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(artifact))
    return path


def test_ready_within_max_age_says_how_old(tmp_path: Path):
    path = made(tmp_path, emitted=NOW - timedelta(hours=2, minutes=5))
    assert v.verify(path, 3 * 3600, HASH, now=NOW) == (v.READY, f"{path}: READY run run-1, 2h 5m old")
    assert v.verify(path, 3 * 3600, None, now=NOW)[0] == v.READY  # no config to compare: hash not checked


def test_failed_artifact_exits_1_with_its_next_action(tmp_path: Path):
    path = made(tmp_path, "fail")
    assert v.verify(path, 3600, HASH, now=NOW) == (v.FAILED, f"{path}: FAILED run run-1: next action: c: fix it")


def test_exit_codes_are_the_documented_ones():
    assert (v.READY, v.FAILED, v.UNUSABLE) == (0, 1, 6)


def test_max_age_is_inclusive_and_one_second_more_is_stale(tmp_path: Path):
    path = made(tmp_path, emitted=NOW - timedelta(hours=36))
    assert v.verify(path, 36 * 3600, HASH, now=NOW)[0] == v.READY
    code, reason = v.verify(path, 36 * 3600 - 1, HASH, now=NOW)
    assert code == v.UNUSABLE
    assert reason == f"{path}: stale: emitted 1d 12h ago, max age 1d 11h; run a new preflight"


def test_the_future_beyond_tolerance_is_its_own_error(tmp_path: Path):
    assert v.FUTURE_TOLERANCE_S == 300
    skewed = made(tmp_path, emitted=NOW + timedelta(seconds=300))
    assert v.verify(skewed, 3600, HASH, now=NOW)[0] == v.READY  # clock skew within tolerance
    ahead = made(tmp_path, emitted=NOW + timedelta(seconds=301), name="b.json")
    code, reason = v.verify(ahead, 3600, HASH, now=NOW)
    assert code == v.UNUSABLE
    assert reason == (f"{ahead}: emitted_at 2026-11-20T12:05:01Z is 5m 1s in the future (a wrong clock on the "
                      "probing host, or an artifact not written by the probe)")


def test_stale_or_future_reports_the_age(tmp_path: Path):
    assert v.stale_or_future(tmp_path, NOW - timedelta(seconds=90), 100, now=NOW) == (90.0, "")
    age, problem = v.stale_or_future(tmp_path, NOW - timedelta(seconds=90), 89, now=NOW)
    assert age == 90.0 and "stale: emitted 1m 30s ago, max age 1m 29s" in problem


def test_now_defaults_to_the_clock(tmp_path: Path):
    fresh = made(tmp_path, emitted=datetime.now(timezone.utc))
    assert v.verify(fresh, 600, HASH)[0] == v.READY
    old = made(tmp_path, emitted=datetime.now(timezone.utc) - timedelta(hours=2), name="old.json")
    assert v.verify(old, 600, HASH)[0] == v.UNUSABLE


def test_another_config_is_refused(tmp_path: Path):
    path = made(tmp_path)
    code, reason = v.verify(path, 3600, OTHER, now=NOW)
    assert code == v.UNUSABLE
    assert reason == (f"{path}: config hash mismatch: artifact {HASH[:19]}…, current config {OTHER[:19]}…; "
                      "the config changed since the preflight")


def test_missing_unreadable_and_other_schema(tmp_path: Path):
    missing = tmp_path / "none.json"
    assert v.verify(missing, 3600, HASH, now=NOW) == (
        v.UNUSABLE, f"{missing}: missing (run spot_train.sh --preflight-only first)")
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    code, reason = v.verify(junk, 3600, HASH, now=NOW)
    assert code == v.UNUSABLE and reason.startswith(f"{junk}: unreadable: Expecting property name")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert v.verify(binary, 3600, HASH, now=NOW)[1].startswith(f"{binary}: unreadable: ")
    folder = tmp_path / "dir.json"
    folder.mkdir()
    assert v.verify(folder, 3600, HASH, now=NOW)[1].startswith(f"{folder}: unreadable: ")
    other = made(tmp_path, name="v2.json", schema_version=2)
    assert v.verify(other, 3600, HASH, now=NOW) == (
        v.UNUSABLE, f"{other}: unknown schema_version 2 (this tool reads 1)")
    listed = tmp_path / "list.json"
    listed.write_text("[1]")
    assert v.verify(listed, 3600, HASH, now=NOW) == (
        v.UNUSABLE, f"{listed}: unknown schema_version None (this tool reads 1)")


def test_read_artifact_returns_the_artifact(tmp_path: Path):
    path = made(tmp_path)
    artifact, problem = v.read_artifact(path, 1, "make one")
    assert problem == "" and artifact is not None and artifact["run_id"] == "run-1"
    assert v.read_artifact(tmp_path / "x.json", 1, "make one") == (None, f"{tmp_path / 'x.json'}: missing (make one)")


def test_invalid_artifact_or_timestamp_is_unusable(tmp_path: Path):
    lying = made(tmp_path)
    data = json.loads(lying.read_text())
    data["checks"][0]["status"] = "fail"
    lying.write_text(json.dumps(data))
    code, reason = v.verify(lying, 3600, HASH, now=NOW)
    assert code == v.UNUSABLE and reason.startswith(f"{lying}: invalid: ")
    bad_time = made(tmp_path, name="t.json", emitted_at="yesterday")
    code, reason = v.verify(bad_time, 3600, HASH, now=NOW)
    assert code == v.UNUSABLE and reason.startswith(f"{bad_time}: invalid: ")


RFC3339_FORMS = [
    ("2026-11-20T12:00:00Z", NOW),
    ("2026-11-20t12:00:00z", NOW),
    ("2026-11-20 12:00:00Z", NOW),
    ("2026-11-20T12:00:00.5Z", NOW + timedelta(microseconds=500000)),
    ("2026-11-20T12:00:00.123456789Z", NOW + timedelta(microseconds=123456)),
    ("2026-11-20T14:00:00+02:00", NOW),
    ("2026-11-20T09:30:00.000001-02:30", NOW + timedelta(microseconds=1)),
]


@pytest.mark.parametrize(("text", "expected"), RFC3339_FORMS)
def test_parse_rfc3339_every_form_as_utc(text: str, expected: datetime, monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # a conversion to local time would show as +09:00
    time.tzset()
    try:
        parsed = v.parse_rfc3339(text)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


def test_parse_rfc3339_on_python_39(venv39: Path):
    """The same forms on 3.9, whose fromisoformat takes neither `Z` nor other than 3 or 6 fractional digits."""
    import subprocess

    from tests.conftest import ROOT

    texts = [text for text, _ in RFC3339_FORMS]
    script = ("import json, sys\nfrom preflight.verify import parse_rfc3339\n"
              "print(json.dumps([parse_rfc3339(t).isoformat() for t in json.loads(sys.argv[1])]))")
    run = subprocess.run([str(venv39), "-c", script, json.dumps(texts)], env={"PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == [expected.isoformat() for _, expected in RFC3339_FORMS]


@pytest.mark.parametrize("text", ["2026-11-20", "2026-11-20T12:00:00", "x2026-11-20T12:00:00Z",
                                  "2026-11-20T12:00:00Zx", "2026-11-20T12:00:00+0200"])
def test_parse_rfc3339_refuses_what_is_not(text: str):
    with pytest.raises(ValueError, match="not an RFC 3339 date-time"):
        v.parse_rfc3339(text)


def test_find_config_is_the_config_its_run_recorded_never_one_above(tmp_path: Path):
    """A workflow.env above the artifact may be another project's: only run.json's record binds (issue 22)."""
    nested = tmp_path / "repo" / "artifacts" / "preflight" / "proj" / "r1"
    nested.mkdir(parents=True)
    artifact = nested / "preflight-readiness.json"
    (tmp_path / "repo" / "workflow.env").write_text("")  # sits above, and is not what the run used
    config, why = v.find_config(artifact)
    assert config is None and "no run.json beside the artifact" in why
    used = tmp_path / "projects" / "proj.env"
    used.parent.mkdir()
    used.write_text("")
    (nested / "run.json").write_text(json.dumps({"config": str(used)}))
    assert v.find_config(artifact) == (used, "")
    used.unlink()
    config, why = v.find_config(artifact)
    assert config is None and f"the config its run recorded ({used}) is gone" in why
    (nested / "run.json").write_text("[1, 2]")  # not an object
    assert v.find_config(artifact)[0] is None


@pytest.mark.parametrize("record, why", [
    (None, "no --config, and no run.json beside the artifact records the config it was made with"),
    ("[1, 2]", "no --config, and no run.json beside the artifact records the config it was made with"),
    ("{}", "no --config, and the config its run recorded (none) is gone"),
    ('{"config": ""}', "no --config, and the config its run recorded (none) is gone"),
    ('{"config": 5}', "no --config, and the config its run recorded (5) is gone"),
    ('{"config": "/gone/workflow.env"}', "no --config, and the config its run recorded (/gone/workflow.env) is gone"),
])
def test_find_config_says_why_the_binding_cannot_be_checked(tmp_path: Path, record: str | None, why: str):
    from preflight.verify import find_config

    artifact = tmp_path / "preflight-readiness.json"
    artifact.write_text("{}")
    if record is not None:
        (tmp_path / "run.json").write_text(record)
    assert find_config(artifact) == (None, why)
    (tmp_path / "workflow.env").write_text("")
    (tmp_path / "run.json").write_text(json.dumps({"config": str(tmp_path / "workflow.env")}))
    assert find_config(artifact) == (tmp_path / "workflow.env", "")


def test_a_date_time_outside_what_python_can_represent_is_named():
    from preflight.verify import parse_rfc3339

    with pytest.raises(ValueError, match=r"^not a date-time this tool can represent: '2024-13-01T00:00:00Z'$"):
        parse_rfc3339("2024-13-01T00:00:00Z")
