#!/usr/bin/env bats
# While a step runs: its output reaches the terminal line by line, whatever awk the machine has
# (Debian's default mawk reads its input in blocks, so an awk filter held everything to the end),
# and no config or PASS_ENV value is in any process's argv (ps shows argv to every user): not in any
# process of any step, however short-lived, as strace's record of every execve of the run shows.

load helpers

setup() {
  make_repo_copy
  seed_demo
  GO="$BATS_TEST_TMPDIR/go"
}

teardown() {
  : >"$GO" # whatever failed, the step is never left waiting
}

@test "a step's first line is shown before the step ends, and no secret is in any process's argv" {
  local out="$BATS_TEST_TMPDIR/out" trace="$BATS_TEST_TMPDIR/execve.trace" pid secret="argv-secret-$$-$RANDOM"
  if ! command -v strace >/dev/null; then
    echo "strace is needed to see the argv of every process of the run (apt-get install strace)" >&2
    return 1
  fi
  # The step writes its first line, then waits for the test's go-ahead: the second line cannot be
  # there before it, however slow the machine.
  printf 'echo first-line-of-smoke\nuntil [ -e "%s" ]; do sleep 0.05; done\necho second-line-of-smoke\n' "$GO" \
    >"$REPO/examples/predictor/stream.sh"
  SMOKE_CMD='bash stream.sh' WANDB_API_KEY="$secret" PASS_ENV="PREDICTOR_MARKER_DIR,WANDB_API_KEY" \
    REPO_REF="$secret-ref" strace -f -qq --seccomp-bpf -s 1000000 -e trace=execve -o "$trace" \
    "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" --smoke-only --run-id streaming </dev/null >"$out" 2>&1 &
  pid=$!
  # A deadline, not a timing: under strace every process of bootstrap and deps runs traced.
  wait_for_text "$out" "first-line-of-smoke" 400 "$pid"
  # Seen while the step still waits: the second line is not there yet.
  run grep -qF "second-line-of-smoke" "$out"
  [ "$status" -eq 1 ]
  : >"$GO"
  wait "$pid"
  grep -qF "second-line-of-smoke" "$out"
  # Every process of every step was recorded (bootstrap, deps, probe and smoke each start several)...
  [ "$(grep -c 'execve(' "$trace")" -gt 20 ]
  grep -qF "stream.sh" "$trace"
  # ...and none was given a config or PASS_ENV value in its argv (environments show as a count only).
  run grep -F -e "$secret" "$trace"
  [ "$status" -eq 1 ]
}
