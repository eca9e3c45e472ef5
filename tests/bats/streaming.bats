#!/usr/bin/env bats
# While a step runs: its output reaches the terminal line by line, whatever awk the machine has
# (Debian's default mawk reads its input in blocks, so an awk filter held everything to the end),
# and no config or PASS_ENV value is in any process's argv (ps shows argv to every user).

load helpers

setup() {
  make_repo_copy
  seed_demo
  GO="$BATS_TEST_TMPDIR/go"
}

teardown() {
  : >"$GO" # whatever failed, the step is never left waiting
}

@test "a step's first line is shown before the step ends, and no secret is in any argv meanwhile" {
  local out="$BATS_TEST_TMPDIR/out" pid secret="argv-secret-$$-$RANDOM"
  # The step writes its first line, then waits for the test's go-ahead: the second line cannot be
  # there before it, however slow the machine.
  printf 'echo first-line-of-smoke\nuntil [ -e "%s" ]; do sleep 0.05; done\necho second-line-of-smoke\n' "$GO" \
    >"$REPO/examples/predictor/stream.sh"
  SMOKE_CMD='bash stream.sh' WANDB_API_KEY="$secret" PASS_ENV="PREDICTOR_MARKER_DIR,WANDB_API_KEY" \
    REPO_REF="$secret-ref" "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --smoke-only --run-id streaming </dev/null >"$out" 2>&1 &
  pid=$!
  wait_for_text "$out" "first-line-of-smoke" 120
  # Seen while the step still waits: the second line is not there yet.
  run grep -qF "second-line-of-smoke" "$out"
  [ "$status" -eq 1 ]
  run bash -c "ps -eww -o args= | grep -F -e '$secret' | grep -v grep"
  [ "$status" -eq 1 ]
  : >"$GO"
  wait "$pid"
  grep -qF "second-line-of-smoke" "$out"
}
