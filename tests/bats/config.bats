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
  printf '# comment\nSMOKE_CMD="quoted name" # trailing\nREPO_REF=file\nTRANSPORT=ssm\n' >"$BATS_TEST_TMPDIR/w.env"
  run env REPO_REF=from-env PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" -m preflight config \
    --config "$BATS_TEST_TMPDIR/w.env" --set TRANSPORT=local --format env
  [ "$status" -eq 0 ]
  [[ "$output" == *"SMOKE_CMD=quoted name"* ]]
  [[ "$output" == *"REPO_REF=from-env"* ]]
  [[ "$output" == *"TRANSPORT=local"* ]]
}

@test "a timeout that does not nest inside the run budget exits 2" {
  run env PROBE_TIMEOUT_SECONDS=99999 "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only
  [ "$status" -eq 2 ]
  [[ "$output" == *"PROBE_TIMEOUT_SECONDS=99999 must be > 0 and below RUN_BUDGET_SECONDS"* ]]
  [ ! -e "$REPO/artifacts" ]
}

# Issue 10 items 4-6: bad input exits 2 from the one reader, before any step runs or any file is written.
# refused_before_anything STATUS OUTPUT
refused_before_anything() {
  [ "$1" -eq 2 ]
  [ ! -e "$REPO/artifacts" ]
  [ ! -e "$REPO/.preflight/image" ]
  [[ "$2" != *"bootstrap"* ]]
}

@test "a 200 KB file, a 20 KB value or a 100 KB variable is refused by name before any step runs" {
  { cat "$REPO/workflow.env"; printf 'PASS_ENV=%s\n' "$(head -c 200000 /dev/zero | tr '\0' a)"; } \
    >"$BATS_TEST_TMPDIR/big.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/big.env"
  refused_before_anything "$status" "$output"
  [[ "$output" == *"big.env: file is"*"bytes, over the 65536-byte limit"* ]]
  printf 'PASS_ENV=%s\n' "$(head -c 20000 /dev/zero | tr '\0' a)" >"$BATS_TEST_TMPDIR/value.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/value.env"
  refused_before_anything "$status" "$output"
  [[ "$output" == *"value.env:"*": PASS_ENV: value is 20000 bytes, over the 8192-byte limit"* ]]
  # 100 KB: the kernel refuses a single environment string over 128 KB before we could see it.
  run env SMOKE_CMD="$(head -c 100000 /dev/zero | tr '\0' b)" "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only
  refused_before_anything "$status" "$output"
  [[ "$output" == *"environment variable SMOKE_CMD: value is 100000 bytes"* ]]
}

@test "a NUL byte cannot smuggle a key past the reader" {
  printf 'PROJECT_NAME=a\0TRANSPORT=ssm\nREPO_REF=main\n' >"$BATS_TEST_TMPDIR/nul.env"
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/nul.env"
  refused_before_anything "$status" "$output"
  [[ "$output" == *"nul.env:1: line 1: control character U+0000"* ]]
  [[ "$output" != *"bad array subscript"* ]]
}

@test "/dev/null and a directory are not regular files; a missing file is not found" {
  run spot --preflight-only --config /dev/null
  refused_before_anything "$status" "$output"
  [[ "$output" == *"/dev/null: not a regular file"* ]]
  run spot --preflight-only --config "$BATS_TEST_TMPDIR"
  refused_before_anything "$status" "$output"
  [[ "$output" == *"not a regular file"* ]]
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/absent.env"
  refused_before_anything "$status" "$output"
  [[ "$output" == *"absent.env: config file not found"* ]]
}

@test "numbers that Python or bash would half-accept exit 2 naming the key" {
  local case
  for case in RUN_BUDGET_SECONDS=3_00 MIN_FREE_DISK_GB=nan MIN_FREE_DISK_GB=inf CHECK_TIMEOUT_SECONDS=0 \
    PROBE_DEADLINE_SECONDS=-5 CHECK_TIMEOUTS=nosuch:5 PROJECT_NAME=../escape PROJECT_NAME=a/b; do
    run env "$case" "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only
    refused_before_anything "$status" "$output"
    [[ "$output" == *"${case%%=*}"* ]] || { echo "no key named for $case: $output"; return 1; }
  done
}

@test "PASS_ENV naming an internal variable exits 2 and the step never runs against it (issue 23)" {
  mkdir -p "$BATS_TEST_TMPDIR/victim/work/project"
  : >"$BATS_TEST_TMPDIR/victim/work/project/keep"
  run env PASS_ENV=PF_HOST_DIR PF_HOST_DIR="$BATS_TEST_TMPDIR/victim" "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only
  [ "$status" -eq 2 ]
  [[ "$output" == *"PASS_ENV"*"PF_HOST_DIR"*"internal"* ]]
  [ -e "$BATS_TEST_TMPDIR/victim/work/project/keep" ]
  [ ! -e "$REPO/artifacts" ]
}
