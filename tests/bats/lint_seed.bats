#!/usr/bin/env bats
# The lint seed is off the critical path (issue 25 item 5): one that has not finished when it is due is
# stopped and the run goes on as if there were none. The CI run of 2026-11-30 failed a fresh-clone run
# on a loaded machine at exactly this point: the stopped seed's exit status ended the launcher.

load helpers

setup() {
  make_repo_copy
  seed_demo
}

@test "a seed still parsing when the probe is due is stopped: the run is READY and no parser outlives it" {
  local nap
  nap="$(sleep_arg 120)"
  # The copy's seed sleeps before parsing (the test's own copy of the tool; the real one is untouched).
  sed -i "s|^def main(argv: list\[str\]) -> int:|&\n    import subprocess; subprocess.run(['sleep', '$nap'])|" \
    "$REPO/preflight/lint/seed.py"
  grep -qF "$nap" "$REPO/preflight/lint/seed.py"
  run spot --preflight-only
  [ "$status" -eq 0 ]
  [[ "$output" == *"lint seed: not ready before probe; the probe parses the project itself"* ]]
  [[ "$output" == *"READY"* ]]
  run pgrep -f "$(sleep_pattern 120)"
  [ "$status" -eq 1 ]
}
