"""Issue 24: preflight_all's data side — the fleet exit code, the fleet-wide quota sum, the summary schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from preflight.fleet.configs import child_run_id, load_all
from preflight.fleet.quota import fleet_plan
from preflight.fleet.summary import build, fleet_exit, table, validate


@pytest.mark.parametrize("codes, signal, expected", [
    ([0, 0, 0], "", 0),
    ([0, 1, 0], "", 1),
    ([1, 3, 0], "", 3),
    ([1, 3, 5, 4], "", 5),
    ([1, 137], "", 5),  # a run killed by a signal ended without a verdict: a failed step
    ([6, 1], "", 6),
    ([1, 5, 2], "", 2),
    ([2, 7, 1], "", 7),
    ([0, 143], "TERM", 143),
    ([0, 0], "INT", 130),
    ([143, 7], "TERM", 7),  # a possibly running instance matters more than why the fleet stopped
])
def test_the_most_severe_code_wins(codes, signal, expected):
    assert fleet_exit(codes, signal) == expected


# What ListServiceQuotas lists for the classes used here (names from the EC2 user guide, "Spot Instance quotas").
QUOTA = {"g": ("G and VT", "L-3819A6DF"), "vt": ("G and VT", "L-3819A6DF"), "m": ("Standard", "L-34B43A08"),
         "t": ("Standard", "L-34B43A08")}


def _plan(*types: str, vcpus: dict[str, int], quotas: dict[str, float] | None = None, exit_code: int = 0,
          pruned: list[str] | None = None) -> dict:
    """A plan.json as the launch plan writes it; `quotas`: family → the listed quota value for its class."""
    listed = {}
    for instance_type in vcpus:
        fam = instance_type.split(".")[0].rstrip("0123456789")
        if fam in (quotas or {}):
            name, code = QUOTA[fam]
            listed[instance_type] = {"class": name, "code": code, "vcpus": quotas[fam]}
    return {"exit_code": exit_code, "candidates": [{"instance_type": t, "subnet": "s", "zone": "z"} for t in types],
            "vcpus": vcpus, "spot_vcpu_quotas": listed, "pruned": pruned or [], "checks": []}


def test_demand_is_summed_per_quota_class_and_region_and_lowers_concurrency():
    g = {"g5.xlarge": 4, "g5.2xlarge": 8, "vt1.3xlarge": 12, "m5.large": 2}
    plans = {
        "a": ("us-east-1", _plan("g5.xlarge", "g5.2xlarge", vcpus=g, quotas={"g": 16, "vt": 16})),  # 8: its largest
        "b": ("us-east-1", _plan("vt1.3xlarge", vcpus=g, quotas={"vt": 16})),  # G and VT share one quota
        "c": ("us-east-1", _plan("g5.xlarge", vcpus=g, quotas={"g": 16})),
        "d": ("us-east-1", _plan("m5.large", vcpus=g, quotas={"m": 640})),
        "e": ("eu-west-1", _plan("g5.2xlarge", vcpus=g, quotas={"g": 8})),  # another region, another quota
    }
    result = fleet_plan(plans, requested=4)
    classes = {(c.region, c.code): c.to_dict(result.concurrency) for c in result.classes}
    gvt = classes[("us-east-1", "L-3819A6DF")]
    assert (gvt["quota_class"], gvt["demand_vcpus"], gvt["quota_vcpus"], gvt["fits_at_once"]) == ("G and VT", 24, 16, 1)
    assert classes[("eu-west-1", "L-3819A6DF")]["fits_at_once"] == 1
    assert classes[("us-east-1", "L-34B43A08")]["fits_at_once"] == 1  # one project: fits
    assert result.exit_code == 0 and result.concurrency == 1
    assert len(result.lines) == 1 and result.lines[0].startswith("concurrency lowered from 4 to 1")


def test_fits_at_once_takes_the_largest_demands_first():
    vcpus = {"g5.xlarge": 4, "g5.4xlarge": 16}
    plans = {p: ("r", _plan(t, vcpus=vcpus, quotas={"g": 23})) for p, t in
             [("a", "g5.xlarge"), ("b", "g5.xlarge"), ("c", "g5.4xlarge"), ("d", "g5.xlarge")]}
    result = fleet_plan(plans, requested=4)
    assert result.concurrency == 2  # 16 + 4 fit in 23; 16 + 4 + 4 do not
    assert result.classes[0].to_dict(2)["demand_at_concurrency_vcpus"] == 20


def test_an_unreadable_quota_is_not_compared_and_keeps_the_concurrency():
    result = fleet_plan({p: ("r", _plan("t3.micro", vcpus={"t3.micro": 2})) for p in "abc"}, requested=3)
    assert (result.exit_code, result.concurrency) == (0, 3)
    assert "quota is unreadable: not compared" in result.lines[0]
    (unlisted,) = result.to_dict()["classes"]
    assert (unlisted["quota_vcpus"], unlisted["quota_code"], unlisted["quota_class"]) == (None, None, "t3 (not listed)")


def test_a_project_over_the_quota_alone_is_exit_2_and_other_plan_failures_keep_their_class():
    # The codes the launch plan gives (issue 21 item 7): quota and zone are configuration (2), price alone 3.
    over = _plan(vcpus={}, exit_code=2, pruned=["g5.12xlarge in s (z): spot vCPU quota 8 is below its 48 vCPUs"])
    zone = _plan(vcpus={}, exit_code=2, pruned=["t3.micro in s (us-east-1e): not offered in this zone"])
    price = _plan(vcpus={}, exit_code=3, pruned=["t3.micro in s (us-east-1a): spot price 0.02 above 0.01"])
    fits = _plan("t3.micro", vcpus={"t3.micro": 2})
    assert fleet_plan({"big": ("r", over), "ok": ("r", fits)}, 4).exit_code == 2
    assert "big alone does not fit the spot vCPU quota" in fleet_plan({"big": ("r", over)}, 4).problems[0]
    assert fleet_plan({"z": ("r", zone), "ok": ("r", fits)}, 4).exit_code == 2
    assert fleet_plan({"p": ("r", price), "ok": ("r", fits)}, 4).exit_code == 3
    assert "spot price cap" in fleet_plan({"p": ("r", price)}, 4).problems[0]
    assert fleet_plan({"p": ("r", price), "big": ("r", over)}, 4).exit_code == 2
    assert fleet_plan({"z": ("r", zone)}, 4).concurrency == 0


def test_child_run_ids_are_unique_per_project_and_stay_within_64():
    fleet = "20261122T191721Z-3059"
    assert child_run_id(fleet, "alpha", 0) == f"{fleet}-alpha"
    long_a, long_b = "a" * 60 + "x", "a" * 60 + "y"
    ids = {child_run_id(fleet, long_a, 0), child_run_id(fleet, long_b, 1)}
    assert len(ids) == 2 and all(len(i) <= 64 for i in ids)


def test_every_bad_config_is_named_not_only_the_first(tmp_path: Path):
    good = tmp_path / "good.env"
    good.write_text("PROJECT_NAME=good\nREPO_DIR=.\n")
    bad = tmp_path / "bad.env"
    bad.write_text("PROJECT_NAME=bad\nPROBE_TIMEOUT_SECONDS=-1\n")
    worse = tmp_path / "worse.env"
    worse.write_text("PROJECT_NAME=worse\nNO_SUCH_KEY=1\n")
    members, problems = load_all([str(good), str(bad), str(worse), str(tmp_path / "missing.env")], {}, "", "r1")
    assert [m.project for m in members] == ["good"]
    assert len(problems) == 3
    assert f"{bad}" in problems[0] and "PROBE_TIMEOUT_SECONDS" in problems[0]
    assert f"{worse}" in problems[1] and "NO_SUCH_KEY" in problems[1]
    assert "config file not found" in problems[2]


def _fleet_dir(tmp_path: Path, exits: dict[str, str]) -> Path:
    directory = tmp_path / "_all" / "r1"
    (directory / "exits").mkdir(parents=True)
    rows = [f"{p}\tlocal\tus-east-1\t/c/{p}.env\tr1-{p}" for p in ("alpha", "beta")]
    (directory / "manifest.tsv").write_text("\n".join(rows) + "\n")
    for project, line in exits.items():
        (directory / "exits" / project).write_text(line)
    return directory


TIMES = {"started_at": "2026-11-22T19:17:21Z", "finished_at": "2026-11-22T19:18:00Z", "wall_seconds": 39.0,
         "concurrency": {"requested": None, "default": 2, "used": 2}}


def test_summary_validates_and_a_project_that_never_ran_is_never_ready(tmp_path: Path):
    from preflight.fleet.__main__ import read_manifest

    directory = _fleet_dir(tmp_path, {"alpha": "0\t10.5\n"})
    results = tmp_path / "results"
    run = results / "alpha" / "r1-alpha"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"reason": "", "estimated_cost_usd": 0.0123}))
    summary = build("r1", read_manifest(directory), directory, results, TIMES)
    validate(summary)
    assert summary["exit_code"] == 5 and summary["status"] == "ERROR"  # beta has no exit record
    assert [r["status"] for r in summary["projects"]] == ["READY", "NOT_STARTED"]
    assert "$0.0123" in table(summary)
    interrupted = build("r1", read_manifest(directory), directory, results, TIMES, signal="INT")
    assert (interrupted["exit_code"], interrupted["interrupted_by"]) == (130, "INT")


def test_the_schema_refuses_a_ready_fleet_with_a_failed_project(tmp_path: Path):
    from preflight.fleet.__main__ import read_manifest

    directory = _fleet_dir(tmp_path, {"alpha": "0\t1.0\n", "beta": "1\t1.0\n"})
    summary = build("r1", read_manifest(directory), directory, tmp_path, TIMES)
    validate(summary)
    summary.update(status="READY", exit_code=0)
    with pytest.raises(jsonschema.ValidationError):
        validate(summary)


def test_a_summary_that_cannot_be_written_still_keeps_a_teardown_unconfirmed(tmp_path: Path):
    from preflight.fleet.__main__ import main

    directory = _fleet_dir(tmp_path, {"alpha": "7\t3.0\n", "beta": "0\t1.0\n"})
    (directory / "manifest.tsv").write_text("not\ta manifest\n")  # build() cannot read it
    common = ["summarize", "--dir", str(directory), "--results", str(tmp_path), "--run-id", "r1", "--started", "0",
              "--default", "2", "--used", "2"]
    assert main(common) == 7
    (directory / "exits" / "alpha").write_text("0\t3.0\n")
    assert main(common) == 5 and not (directory / "summary.json").exists()
