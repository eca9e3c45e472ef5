#!/usr/bin/env bats
# tests/parallel.sh runs the four parts of `make test` and the bats files. A CI log is often shown cut to
# its head and tail: the reason a command failed must be in the tail, after the summary.

setup() {
  PARALLEL="$BATS_TEST_DIRNAME/../parallel.sh"
}

@test "a failed command's last lines are printed again after the summary; all ok exits 0" {
  run "$PARALLEL" 0 "seq 1 100; echo the-reason; exit 3" "echo fine"
  [ "$status" -eq 1 ]
  local summary="${output##*each one\'s wall time:}"
  [[ "$summary" == *"FAILED   3"*"ok "*"echo fine"*"the last 60 lines of seq 1 100"* ]]
  [[ "$summary" == *$'\n'"100"$'\n'"the-reason" ]]
  [[ "$summary" == *$'\n'"42"$'\n'* && "$summary" != *$'\n'"41"$'\n'* ]] # exactly the last 60 lines
  run "$PARALLEL" 1 "true" "echo fine"
  [ "$status" -eq 0 ]
  [[ "$output" != *"the last"* ]]
}
