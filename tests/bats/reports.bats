#!/usr/bin/env bats
# Issue 25: CI reports from spot_train.sh — --junit, --sarif, --json and GitHub Actions output, written
# on this machine from the fetched artifact; a report path that cannot be written stops the run before
# anything is launched.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
  make_repo_copy
  seed_demo
}

setup() {
  make_repo_copy
}

assert_nothing_written() {
  [ ! -e "$REPO/.preflight/runs" ]
  [ ! -e "$REPO/artifacts" ]
}

# valid KIND FILE — junit (XSD and junitparser), sarif (SARIF 2.1.0), run-summary (our schema)
valid() {
  PYTHONPATH="$SRC_ROOT" "$PREFLIGHT_PYTHON" -m tests.report_schemas "$1" "$2"
}

@test "--help names the report flags" {
  run spot --help
  [[ "$output" == *"--junit PATH"* && "$output" == *"--sarif PATH"* && "$output" == *"--format text|github"* ]]
}

@test "a report path that cannot be written: exit 2 naming it, nothing launched or written" {
  : >"$BATS_TEST_TMPDIR/a-file"
  run spot --preflight-only --junit "$BATS_TEST_TMPDIR/a-file/junit.xml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"--junit $BATS_TEST_TMPDIR/a-file/junit.xml: cannot write there"*"is not a directory"* ]]
  run spot --preflight-only --sarif "$BATS_TEST_TMPDIR"
  [ "$status" -eq 2 ]
  [[ "$output" == *"--sarif $BATS_TEST_TMPDIR: cannot write there: $BATS_TEST_TMPDIR is a directory"* ]]
  run spot --preflight-only --format junit
  [ "$status" -eq 2 ]
  [[ "$output" == *"--format: expected text or github"* ]]
  run spot --plan --junit "$BATS_TEST_TMPDIR/j.xml"
  [ "$status" -eq 2 ]
  [[ "$output" == *"--plan writes plan.json only"* ]]
  assert_nothing_written
  [ ! -e "$BATS_TEST_TMPDIR/j.xml" ]
}

@test "READY in GitHub Actions: JUnit, SARIF and --json valid, workflow commands on stderr, step summary" {
  local summary="$BATS_TEST_TMPDIR/step-summary.md"
  printf 'earlier step\n' >"$summary"
  cd "$BATS_TEST_TMPDIR"
  run --separate-stderr env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$summary" GITHUB_WORKSPACE="$REPO" \
    "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only --run-id rep-ready --json \
    --junit reports/junit.xml --sarif reports/lint.sarif </dev/null
  [ "$status" -eq 0 ]
  # stdout is the summary and nothing else
  printf '%s' "$output" >summary.json
  valid run-summary summary.json
  [[ "$output" == "{"*"}" && "$output" == *'"status": "READY"'* ]]
  [[ "$output" == *'"results": "'"$REPO/artifacts/preflight/predictor/rep-ready"'"'* ]]
  [[ "$output" == *'"id": "lint", "message": "1 finding'* ]]
  # reports land where named, relative to where the command ran
  valid junit reports/junit.xml
  valid sarif reports/lint.sarif
  grep -q 'testcase name="deps" classname="preflight.steps"' reports/junit.xml
  grep -q 'testcase name="arcticdb.freshness"' reports/junit.xml
  grep -q '"uri": "examples/predictor/src/predictor/train.py"' reports/lint.sarif
  [[ "$stderr" == *$'\n::warning file=examples/predictor/src/predictor/train.py,line=28,title=lint ephemeral-save::'* ]]
  [[ "$stderr" == *$'\n::warning title=preflight check lint::'* ]]
  [[ "$(head -n 2 "$summary")" == $'earlier step\n### spot-preflight READY · run `rep-ready`' ]]
  # shellcheck disable=SC2016  # backticks are Markdown here
  grep -qF '| ⚠️ warn | `lint` |' "$summary"
}

@test "FAILED checks: a JUnit failure per failing check, ::error commands, exit 1" {
  seed_demo --stale CL:5d
  cd "$BATS_TEST_TMPDIR"
  run --separate-stderr env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$BATS_TEST_TMPDIR/s.md" \
    "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only --run-id rep-stale --junit "$BATS_TEST_TMPDIR/j.xml" </dev/null
  seed_demo
  [ "$status" -eq 1 ]
  valid junit j.xml
  grep -q '<failure message="1 stale (max 36h), 0 missing of 8: CL: last row' j.xml
  grep -q 'testsuite name="spot-preflight" id="rep-stale".* failures="1" errors="0"' j.xml
  [[ "$stderr" == *$'\n::error title=preflight check arcticdb.freshness::1 stale'* ]]
}

@test "a failed step: its JUnit error carries the log's tail; SARIF says lint never ran; --format text: no commands" {
  cd "$BATS_TEST_TMPDIR"
  run --separate-stderr env GITHUB_ACTIONS=true REPO_DIR=/nonexistent/project "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" \
    --preflight-only --run-id rep-boot --junit j.xml --sarif l.sarif --format text </dev/null
  [ "$status" -eq 5 ]
  valid junit j.xml
  valid sarif l.sarif
  grep -q '<error message="bootstrap step failed, exit 1" type="step failed">' j.xml
  grep -q '/nonexistent/project' j.xml
  grep -q '"executionSuccessful": false' l.sarif
  [[ "$stderr" != *"::error"* ]]
}
