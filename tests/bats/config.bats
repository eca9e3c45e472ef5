#!/usr/bin/env bats
# workflow.env is data: quotes, comments and overrides work; shell syntax, unknown and duplicate
# keys are errors with the line number — and nothing in the file is ever executed.

load helpers

setup() {
  make_repo_copy
}

@test "command substitution is rejected with its line and never executed" {
  # shellcheck disable=SC2016  # literal shell syntax is the point
  printf 'PROJECT_NAME=demo\nREPO_REF=$(touch %s/pwned)\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/w.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/w.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"w.env:2: REPO_REF: shell syntax"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
  [ ! -e "$REPO/artifacts" ]
}

@test "backticks, unknown and duplicate keys are rejected with line numbers" {
  # shellcheck disable=SC2016  # literal shell syntax is the point
  printf 'PYTHON=`id`\n' >"$BATS_TEST_TMPDIR/a.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/a.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"a.env:1: PYTHON: shell syntax"* ]]
  printf '# x\nTRAIN_NOW=1\n' >"$BATS_TEST_TMPDIR/b.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/b.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"b.env:2: unknown key TRAIN_NOW"* ]]
  printf 'PYTHON=a\nPYTHON=b\n' >"$BATS_TEST_TMPDIR/c.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/c.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"c.env:2: duplicate key PYTHON (first set on line 1)"* ]]
}

@test "quotes, comments, env override and flag override resolve in order" {
  printf '# comment\nPROJECT_NAME="quoted name" # trailing\nREPO_REF=file\nTRANSPORT=ssm\n' >"$BATS_TEST_TMPDIR/w.env"
  run env REPO_REF=from-env PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" -m preflight config \
    --config "$BATS_TEST_TMPDIR/w.env" --set TRANSPORT=local --format env
  [ "$status" -eq 0 ]
  [[ "$output" == *"PROJECT_NAME=quoted name"* ]]
  [[ "$output" == *"REPO_REF=from-env"* ]]
  [[ "$output" == *"TRANSPORT=local"* ]]
}

@test "a timeout that does not nest inside the run budget exits 2" {
  run env PROBE_TIMEOUT_SECONDS=99999 "$REPO/infra_scripts/spot_train.sh" --preflight-only
  [ "$status" -eq 2 ]
  [[ "$output" == *"PROBE_TIMEOUT_SECONDS=99999 must be > 0 and below RUN_BUDGET_SECONDS"* ]]
  [ ! -e "$REPO/artifacts" ]
}
