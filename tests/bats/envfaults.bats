#!/usr/bin/env bats
# Issue 23 class 6: faults of the environment the launcher runs in are not "checks failed". Each is named,
# with the exit code of its class (2: nothing launched, nothing written), before any step runs.

load helpers

setup() {
  make_repo_copy
}

@test "a TMPDIR that does not exist exits 2 naming it, before anything is written" {
  run env TMPDIR="$BATS_TEST_TMPDIR/gone" "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --preflight-only </dev/null
  [ "$status" -eq 2 ]
  [[ "$output" == *"TMPDIR=$BATS_TEST_TMPDIR/gone is not a writable directory"* ]]
  [ ! -e "$REPO/artifacts" ]
}

@test "a newline in the checkout path exits 2 naming it, before anything is written" {
  local odd="$BATS_TEST_TMPDIR/a"$'\n'"b"
  mkdir -p "$odd"
  cp -a "$REPO/." "$odd/"
  run "$odd/infra_scripts/spot_train.sh" --preflight-only </dev/null
  [ "$status" -eq 2 ]
  [[ "$output" == *"contains a control character"* ]]
  [ ! -e "$odd/artifacts" ]
  [ ! -e "$odd/.preflight" ]
}

@test "a results directory that cannot be written exits 2 saying so, not that the run id is taken" {
  mkdir -p "$REPO/artifacts/preflight"
  unshare -m true 2>/dev/null || skip "needs a mount namespace to make a read-only directory as root"
  # shellcheck disable=SC2016  # $1 expands in the inner shell
  run unshare -m bash -c 'mount --bind -o ro "$1/artifacts" "$1/artifacts" && "$1/infra_scripts/spot_train.sh" --preflight-only --config "$1/examples/predictor/workflow.env" </dev/null' _ "$REPO"
  [ "$status" -eq 2 ]
  [[ "$output" == *"is not writable"* ]]
  [[ "$output" != *"already has results"* ]]
}
