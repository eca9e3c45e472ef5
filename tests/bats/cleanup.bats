#!/usr/bin/env bats
# run_cleanup: every action runs even when an earlier one fails, and the original exit status is
# kept. The orchestrator's real lib/run.sh runs in a bash subprocess with the actions stubbed to
# record their calls, so a failing first action (stopping the step) can be forced.

load helpers
bats_require_minimum_version 1.5.0

setup() {
  make_repo_copy
  rm -rf "$REPO/artifacts"
}

# cleanup_run EXIT_CODE FAILING_ACTION [ITS_STATUS] — run run_start, then exit; print the recorded calls.
cleanup_run() {
  local code="$1" failing="$2" failing_status="${3:-1}"
  ROOT="$REPO" CODE="$code" BLOCK_RUN_JSON="${BLOCK_RUN_JSON:-0}" JSON="${JSON:-0}" FAILING="$failing" FAILING_STATUS="$failing_status" CALLS="$BATS_TEST_TMPDIR/calls" bash -c '
    set -Eeuo pipefail
    . "$ROOT/infra_scripts/lib/log.sh"
    . "$ROOT/infra_scripts/lib/py_module.sh"
    . "$ROOT/infra_scripts/lib/config.sh"
    . "$ROOT/infra_scripts/lib/steps.sh"
    . "$ROOT/infra_scripts/lib/run.sh"
    PF_PY="$PREFLIGHT_PYTHON" RUN_ID=cleanup-test MODE=preflight-only TRANSPORT=stub CONFIG_FILE=x CONFIG_SHA=y
    VERSION=test FLAG_JSON="$JSON" STEP_PID=""
    CFG[RUN_BUDGET_SECONDS]=60 CFG[TRAIN_RUN_BUDGET_SECONDS]=60 CFG[PROJECT_NAME]=predictor CFG[RESULTS_KEEP]=30
    act() { echo "$1" >>"$CALLS"; [[ "$FAILING" != "$1" ]] || return "$FAILING_STATUS"; }
    steps_stop() { act steps_stop; }
    transport_down() { act transport_down; }
    sfn_report() { act sfn_report; }
    steps_elapsed() { echo 1.0; }
    run_start
    TRANSPORT_STARTED=1
    ((BLOCK_RUN_JSON)) && mkdir "$ARTIFACT_DIR/run.json"  # os.replace onto a directory fails
    exit "$CODE"
  '
}

@test "the first cleanup action failing still tears down, records and reports" {
  run cleanup_run 5 steps_stop
  [ "$status" -eq 5 ]
  [ "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" = "steps_stop transport_down sfn_report " ]
  [[ "$output" == *"cleanup: stopping the running step failed"* ]]
  grep -q '"exit_code": 5' "$REPO/artifacts/preflight/predictor/cleanup-test/run.json"
}

@test "a failing teardown is reported loudly and the exit status is kept" {
  run cleanup_run 1 transport_down
  [ "$status" -eq 1 ]
  [ "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" = "steps_stop transport_down sfn_report " ]
  [[ "$output" == *"cleanup: transport_down failed"* ]]
  grep -q '"exit_code": 1' "$REPO/artifacts/preflight/predictor/cleanup-test/run.json"
}

@test "a teardown that cannot be confirmed (7) wins over the run's own status, which the reason keeps" {
  run cleanup_run 0 transport_down 7
  [ "$status" -eq 7 ]
  [ "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/calls")" = "steps_stop transport_down sfn_report " ]
  grep -q '"exit_code": 7' "$REPO/artifacts/preflight/predictor/cleanup-test/run.json"
  grep -q '"status": "TEARDOWN_UNCONFIRMED"' "$REPO/artifacts/preflight/predictor/cleanup-test/run.json"
  grep -q 'the run itself ended with exit 0' "$REPO/artifacts/preflight/predictor/cleanup-test/run.json"
  [ ! -e "$REPO/artifacts/preflight/predictor/latest-ready" ]
}

@test "run.json that cannot be written is said on stderr, --json prints an error object, exit is not 0" {
  BLOCK_RUN_JSON=1 JSON=1 run --separate-stderr cleanup_run 0 none
  [ "$status" -eq 5 ]
  [[ "$stderr" == *"run.json NOT written"* ]]
  [[ "$stderr" != *"Traceback"* ]]
  printf '%s' "$output" | "$PREFLIGHT_PYTHON" -c '
import json, sys
summary = json.load(sys.stdin)
assert summary["status"] == "ERROR" and summary["exit_code"] == 5, summary
assert "run.json" in summary["reason"], summary'
  [ ! -e "$REPO/artifacts/preflight/predictor/latest-ready" ]
}

@test "a failed run whose run.json cannot be written keeps its own exit code" {
  BLOCK_RUN_JSON=1 run cleanup_run 1 none
  [ "$status" -eq 1 ]
  [[ "$output" == *"run.json NOT written"* ]]
}
