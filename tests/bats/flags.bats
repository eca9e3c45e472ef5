#!/usr/bin/env bats
# Flag parsing: bad input exits 2 naming the flag, before anything is launched or written.

load helpers

setup() {
  make_repo_copy
}

assert_nothing_written() {
  [ ! -e "$REPO/.preflight" ]
  [ ! -e "$REPO/artifacts" ]
}

@test "--help prints usage and exits 0" {
  run spot --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--preflight-only"* && "$output" == *"exit codes"* ]]
  assert_nothing_written
}

@test "unknown flag exits 2 naming it" {
  run spot --preflight-only --bogus
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown flag: --bogus"* ]]
  assert_nothing_written
}

@test "missing value exits 2 naming the flag, for both spellings" {
  run spot --preflight-only --transport
  [ "$status" -eq 2 ]
  [[ "$output" == *"missing value for --transport"* ]]
  run spot --config --preflight-only
  [ "$status" -eq 2 ]
  [[ "$output" == *"missing value for --config"* ]]
  assert_nothing_written
}

@test "bad transport and conflicting modes exit 2" {
  run spot --transport=carrier-pigeon
  [ "$status" -eq 2 ]
  [[ "$output" == *"--transport: expected local or ssm"* ]]
  run spot --smoke-only --full-only
  [ "$status" -eq 2 ]
  [[ "$output" == *"conflicts"* ]]
  assert_nothing_written
}

@test "mode conflicts are judged after every flag: with --preflight-only anywhere, order is irrelevant" {
  run spot --full-only --smoke-only --preflight-only --config "$BATS_TEST_TMPDIR/nope.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"config file not found"* && "$output" != *"conflicts"* ]]
  run spot --full-only --preflight-only --smoke-only --config "$BATS_TEST_TMPDIR/nope.env"
  [[ "$output" == *"config file not found"* && "$output" != *"conflicts"* ]]
  assert_nothing_written
}

@test "run ids: link names are reserved, a leading - or . is refused" {
  local id
  for id in latest latest-ready -v .hidden ..; do
    run spot --preflight-only --run-id "$id"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--run-id"* ]]
  done
  run spot --preflight-only --run-id=-v
  [ "$status" -eq 2 ]
  assert_nothing_written
  [ ! -e "$PWD/latest" ]
}

@test "missing config file exits 2" {
  run spot --preflight-only --config "$BATS_TEST_TMPDIR/nope.env"
  [ "$status" -eq 2 ]
  [[ "$output" == *"config file not found"* ]]
  assert_nothing_written
}

@test "ssm transport without its keys exits 2 before launching" {
  run spot --preflight-only --transport ssm
  [ "$status" -eq 2 ]
  [[ "$output" == *"transport ssm needs EC2_AMI_ID"* ]]
  assert_nothing_written
}
