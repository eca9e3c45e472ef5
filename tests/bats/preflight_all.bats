#!/usr/bin/env bats
# preflight_all.sh on the local transport: many projects at once, one summary, configs checked first,
# signals reach every run, one run's death touches no other.

load helpers
bats_require_minimum_version 1.5.0

# project NAME [KEY=VALUE ...] — a copy of the demo's config for project NAME with its own ArcticDB store, at
# the checkout's root (so its relative paths are rewritten from the example's folder to the root).
project() {
  local name="$1" line
  shift
  sed -e "s/^PROJECT_NAME=.*/PROJECT_NAME=$name/" -e "s#^ARCTICDB_URI=.*#ARCTICDB_URI=lmdb://.preflight/store-$name#" \
    -e "s#^REPO_DIR=.*#REPO_DIR=examples/predictor#" "$DEMO" >"$REPO/$name.env"
  for line in "$@"; do # the demo's config sets only what differs from the defaults: drop, then append
    sed -i "/^${line%%=*}=/d" "$REPO/$name.env"
    printf '%s\n' "$line" >>"$REPO/$name.env"
  done
}

setup_file() {
  make_repo_copy
  local name
  for name in alpha beta gamma; do
    project "$name"
    (cd "$REPO" && PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" -m preflight demo-seed --config "$name.env" >/dev/null)
  done
  (cd "$REPO" && PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" -m preflight demo-seed --config gamma.env --stale CL:5d >/dev/null)
  # shellcheck disable=SC2016  # the script's own $0 and $1
  # A PYTHON whose every real use hangs: bootstrap's installer call sleeps until it is stopped.
  printf '#!/usr/bin/env bash\nif [ "$1" = -c ]; then echo "$0"; exit 0; fi\nsleep 3051 &\nwait\n' >"$BATS_FILE_TMPDIR/slowpy"
  chmod +x "$BATS_FILE_TMPDIR/slowpy"
}

setup() {
  make_repo_copy
  rm -rf "$REPO/artifacts" "$REPO/.preflight/runs" # each test judges what it alone wrote
}

all() {
  "$REPO/infra_scripts/preflight_all.sh" "$@" </dev/null
}

# wait_for_sleeps COUNT SECONDS — until COUNT hung steps run.
wait_for_sleeps() {
  local tries=$(($2 * 10))
  while (($(pgrep -fc "sleep 3051" || true) < $1)); do
    ((tries-- > 0)) || return 1
    sleep 0.1
  done
}

@test "three projects, one stale: exit 1, the table names it and its check, summary.json validates, READY ones pass their gate" {
  run --separate-stderr all --json "$REPO/alpha.env" "$REPO/beta.env" "$REPO/gamma.env"
  [ "$status" -eq 1 ]
  grep -Eq '^gamma +FAILED +arcticdb\.freshness ' <<<"$stderr"
  grep -Eq '^alpha +READY +- ' <<<"$stderr"
  grep -q '^FAILED: 3 projects (1 FAILED, 2 READY), exit 1' <<<"$stderr"
  # every line a run printed carries its project; none arrives bare
  [ "$(grep -c '^\[alpha\] spot_train ' <<<"$stderr")" -eq 1 ]
  grep -q '^\[gamma\]   │ FAIL arcticdb.freshness' <<<"$stderr"
  [ -z "$(grep -E '^(spot_train |\[[0-9]/3\]|  │|READY|FAILED:.*run )' <<<"$stderr" || true)" ]
  # stdout is the summary JSON alone, the same as summary.json, and it validates
  PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" - "$REPO" "$output" <<'PY'
import json, sys
from pathlib import Path
from preflight.fleet.summary import validate
summary = json.loads(sys.argv[2])
validate(summary)
on_disk = Path(sys.argv[1]) / "artifacts/preflight/_all" / summary["run_id"] / "summary.json"
assert json.loads(on_disk.read_text()) == summary
rows = {r["project"]: r for r in summary["projects"]}
assert (summary["status"], summary["exit_code"]) == ("FAILED", 1), summary
assert rows["gamma"]["failing_checks"] == ["arcticdb.freshness"] and rows["gamma"]["exit_code"] == 1
assert [rows[p]["status"] for p in ("alpha", "beta")] == ["READY", "READY"]
assert len({r["run_id"] for r in rows.values()}) == 3
PY
  # each READY project's own training gate accepts its own latest-ready
  for name in alpha beta; do
    [ -e "$REPO/artifacts/preflight/$name/latest-ready/preflight-readiness.json" ]
    run spot --smoke-only --config "$REPO/$name.env" --require-preflight latest-ready
    [ "$status" -eq 0 ]
  done
  [ ! -e "$REPO/artifacts/preflight/gamma/latest-ready" ]
}

@test "one bad config: exit 2 naming the file and key, nothing launched for any project" {
  project broken RUN_BUDGET_SECONDS=soon
  run all "$REPO/alpha.env" "$REPO/broken.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"$REPO/broken.env"*"RUN_BUDGET_SECONDS"* ]]
  [[ "$output" == *"nothing was started for any project"* ]]
  [ ! -e "$REPO/artifacts" ]
  [ ! -e "$REPO/.preflight/runs" ]
}

@test "a PROJECT_NAME used twice, or a reserved one, is a config error (exit 2)" {
  cp "$REPO/alpha.env" "$REPO/alpha-copy.env"
  run all "$REPO/alpha.env" "$REPO/alpha-copy.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"alpha-copy.env: PROJECT_NAME='alpha' is also the project of $REPO/alpha.env"* ]]
  project _all
  run all "$REPO/_all.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"PROJECT_NAME"*"reserved"* ]]
  [ ! -e "$REPO/artifacts" ]
}

@test "usage errors exit 2" {
  run all
  [ "$status" -eq 2 ]
  run all --concurrency 0 "$REPO/alpha.env"
  [ "$status" -eq 2 ]
  run all --transport scp "$REPO/alpha.env"
  [ "$status" -eq 2 ]
  run all --bogus "$REPO/alpha.env"
  [ "$status" -eq 2 ]
  run all --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--concurrency N"* ]]
  [ ! -e "$REPO/artifacts" ]
}

@test "SIGINT to preflight_all.sh: every run stops and cleans up, the rest never start, exit 130, table on stdout" {
  project hang1 "PYTHON=$BATS_FILE_TMPDIR/slowpy"
  project hang2 "PYTHON=$BATS_FILE_TMPDIR/slowpy"
  env --default-signal=INT "$REPO/infra_scripts/preflight_all.sh" --concurrency 2 "$REPO/hang1.env" \
    "$REPO/hang2.env" "$REPO/alpha.env" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" </dev/null &
  local pid=$! status=0
  wait_for_sleeps 2 60
  kill -INT "$pid"
  wait "$pid" || status=$?
  [ "$status" -eq 130 ]
  grep -Eq '^hang1 +INTERRUPTED ' "$BATS_TEST_TMPDIR/out"
  grep -Eq '^alpha +NOT_STARTED ' "$BATS_TEST_TMPDIR/out"
  grep -q '^INTERRUPTED: 3 projects' "$BATS_TEST_TMPDIR/out"
  [ "$(pgrep -fc "sleep 3051" || true)" -eq 0 ]
  [ -z "$(ls -A "$REPO/.preflight/runs" 2>/dev/null)" ]
  [ ! -e "$REPO/artifacts/preflight/alpha" ]
  grep -q '"exit_code": 143' "$REPO"/artifacts/preflight/hang1/latest/run.json
}

@test "one run SIGKILLed: the others finish READY, its orphaned step is stopped and its sandbox removed" {
  project hang "PYTHON=$BATS_FILE_TMPDIR/slowpy"
  all "$REPO/hang.env" "$REPO/alpha.env" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$! status=0
  wait_for_sleeps 1 60
  pkill -KILL -f "spot_train.sh --preflight-only --config $REPO/hang.env"
  wait "$pid" || status=$?
  [ "$status" -eq 5 ]
  grep -Eq '^hang +KILLED +\(ended with exit 137 and no run.json \(killed by signal 9\)\)' "$BATS_TEST_TMPDIR/out"
  grep -Eq '^alpha +READY ' "$BATS_TEST_TMPDIR/out"
  grep -q "hang: its run died of signal 9; cleaning up after it" "$BATS_TEST_TMPDIR/err"
  [ "$(pgrep -fc "sleep 3051" || true)" -eq 0 ]
  [ -z "$(ls -A "$REPO/.preflight/runs" 2>/dev/null)" ]
}
