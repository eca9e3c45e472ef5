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

# running TAG — pids whose argv holds TAG (this test's unique tag; never a machine-wide pgrep).
running() {
  local cmdline
  for cmdline in /proc/[0-9]*/cmdline; do
    grep -qaF "$1" "$cmdline" 2>/dev/null && basename "$(dirname "$cmdline")"
  done
  return 0
}

@test "a setsid daemon a step leaves running is killed when the step ends, and the output says so (issue 23)" {
  local tag="pf-step-daemon-$$-$RANDOM$RANDOM" marker="$BATS_TEST_TMPDIR/up"
  export PF_TOOL_SRC="$BATS_TEST_DIRNAME/../.." PF_STEP=smoke
  # Its output goes nowhere, as a daemon's does: bats would otherwise wait for it to close the pipe.
  run step "setsid -f bash -c 'echo up > \"\$1\"; exec -a \"\$2\" sleep 3600' _ '$marker' '$tag' </dev/null >/dev/null 2>&1
while [[ ! -e '$marker' ]]; do sleep 0.01; done"
  local -a left
  mapfile -t left < <(running "$tag")
  ((${#left[@]} == 0)) || kill -9 "${left[@]}"
  [ "$status" -eq 0 ]
  [ -e "$marker" ]
  [ "${#left[@]}" -eq 0 ]
  [[ "$output" == *"reaper: killed 1 process the smoke step left running"*"$tag"* ]]
}
