#!/usr/bin/env bats
# Real training is gated on the readiness artifact: missing, unreadable, stale, FAILED or for another
# config → exit 6 before anything is launched; a fresh READY artifact lets training start.

load helpers

setup_file() {
  make_repo_copy
  seed_demo
  spot --preflight-only --run-id gate-ready >/dev/null 2>&1
}

setup() {
  make_repo_copy
  READY_ARTIFACT="$REPO/artifacts/preflight/predictor/gate-ready/preflight-readiness.json"
}

# edited COPY_NAME PYTHON_EXPR — a copy of the READY artifact with one edit applied to `a`.
edited() {
  local out="$BATS_TEST_TMPDIR/$1.json"
  PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" - "$READY_ARTIFACT" "$out" "$2" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(a, open(sys.argv[2], "w"))
PY
  printf '%s' "$out"
}

assert_refused() {
  [ "$status" -eq 6 ]
  [[ "$output" == *"refusing to train"* ]]
  [ ! -e "$REPO/.preflight/runs/$1" ]
  [ ! -e "$REPO/artifacts/preflight/predictor/$1" ]
  [ ! -e "$PREDICTOR_MARKER_DIR/smoke.ran" ]
}

@test "missing artifact: exit 6, nothing launched" {
  run spot --smoke-only --run-id gate-missing --require-preflight "$BATS_TEST_TMPDIR/none.json"
  assert_refused gate-missing
  [[ "$output" == *"missing"* ]]
}

@test "unreadable artifact: exit 6" {
  printf '{broken' >"$BATS_TEST_TMPDIR/broken.json"
  run spot --smoke-only --run-id gate-broken --require-preflight "$BATS_TEST_TMPDIR/broken.json"
  assert_refused gate-broken
  [[ "$output" == *"unreadable"* ]]
}

@test "FAILED artifact: exit 6 with its next action" {
  local path
  path="$(edited failed 'a["status"]="FAILED"; a["checks"][0]["status"]="fail"; a["checks_summary"]["failed"]=1; a["checks_summary"]["passed"]-=1; a["failures"]=[{"id":a["checks"][0]["id"],"message":"m","remediation":"fix x"}]; a["next_action"]="x: fix x"')"
  run spot --smoke-only --run-id gate-failed --require-preflight "$path"
  assert_refused gate-failed
  [[ "$output" == *"next action: x: fix x"* ]]
}

@test "READY artifact whose own checks failed: exit 6 naming the contradiction" {
  local path
  path="$(edited forged 'a["checks"][0]["status"]="fail"; a["checks_summary"]["failed"]=1; a["checks_summary"]["passed"]-=1')"
  run spot --smoke-only --run-id gate-forged --require-preflight "$path"
  assert_refused gate-forged
  [[ "$output" == *"status READY contradicts failed check(s)"* ]]
}

@test "stale artifact: exit 6 (config key PREFLIGHT_MAX_AGE)" {
  local path
  path="$(edited stale 'a["emitted_at"]="2020-01-01T00:00:00.000000Z"')"
  run spot --smoke-only --run-id gate-stale --require-preflight "$path"
  assert_refused gate-stale
  [[ "$output" == *"stale"* ]]
}

@test "artifact for another config: exit 6 on the hash mismatch" {
  run env ARCTICDB_MAX_STALENESS=2d "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --smoke-only --run-id gate-hash \
    --require-preflight "$READY_ARTIFACT" </dev/null
  assert_refused gate-hash
  [[ "$output" == *"config hash mismatch"* ]]
}

@test "fresh READY artifact (also via REQUIRE_PREFLIGHT): training starts" {
  run env REQUIRE_PREFLIGHT="$READY_ARTIFACT" "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --smoke-only --run-id gate-ok </dev/null
  [ "$status" -eq 0 ]
  [ -f "$PREDICTOR_MARKER_DIR/smoke.ran" ]
}

@test "two projects in one checkout keep their own latest-ready, and each gate passes on its own" {
  # Issue 22 item 5: a second project's READY run never moves the first's gate (nor the other way round).
  run env PROJECT_NAME=research "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only --run-id gate-research </dev/null
  [ "$status" -eq 0 ]
  [ "$(readlink "$REPO/artifacts/preflight/research/latest-ready")" = gate-research ]
  [ "$(readlink "$REPO/artifacts/preflight/predictor/latest-ready")" = gate-ready ]
  run env REQUIRE_PREFLIGHT=latest-ready "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --smoke-only --run-id gate-own </dev/null
  [ "$status" -eq 0 ]
  rm -f "$PREDICTOR_MARKER_DIR/smoke.ran"
  run env PROJECT_NAME=research REQUIRE_PREFLIGHT=latest-ready "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --smoke-only \
    --run-id gate-own-research </dev/null
  [ "$status" -eq 0 ]
  [ -f "$PREDICTOR_MARKER_DIR/smoke.ran" ]
  rm -f "$PREDICTOR_MARKER_DIR/smoke.ran"  # the markers are the file's: later tests assert none
}

@test "the old shared results path is refused with where results moved" {
  run spot --smoke-only --run-id gate-old \
    --require-preflight "$REPO/artifacts/preflight/latest-ready/preflight-readiness.json"
  assert_refused gate-old
  [[ "$output" == *"results are per project now"*"artifacts/preflight/predictor/latest-ready"* ]]
}
