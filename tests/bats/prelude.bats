#!/usr/bin/env bats
# The prelude every step runs behind: exit codes the SSM agent would misread are turned into honest ones.

PRELUDE="$BATS_TEST_DIRNAME/../../infra_scripts/remote/prelude.sh"

step() {
  local body="$1" script="$BATS_TEST_TMPDIR/step.sh"
  cat "$PRELUDE" >"$script"
  printf '%s\n' "$body" >>"$script"
  bash "$script"
}

@test "a SIGKILLed child (137, the agent's own timeout code) reads as a kill: 86" {
  run step "bash -c 'kill -9 \$\$'"
  [ "$status" -eq 86 ]
  [[ "$output" == *"killed by SIGKILL (out of memory?)"* ]]
}

@test "agent control codes never leave a step: 194 (reboot) and 168 (success) become 1" {
  run step "exit 194"
  [ "$status" -eq 1 ]
  run step "exit 168"
  [ "$status" -eq 1 ]
}

@test "ordinary codes pass through" {
  run step "exit 3"
  [ "$status" -eq 3 ]
  run step "true"
  [ "$status" -eq 0 ]
}
