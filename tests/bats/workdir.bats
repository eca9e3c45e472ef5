#!/usr/bin/env bats
# The launcher run from inside a training repository, whose own preflight.py (where many keep their checks)
# and secrets.py sit in the working directory. Every tool process imported `preflight` and the standard
# library from there (`python -m` puts the working directory first): the launcher said its config
# hand-off was damaged, the host's probe ran the project's preflight.py and left no artifact. The project's
# secrets.py is harmless to training but has no token_hex, which the tool's own secrets module has.

load helpers

setup() {
  make_repo_copy
  seed_demo
  local project="$REPO/examples/predictor"
  printf 'class Checks:\n    def run(self):\n        return []\n' >"$project/preflight.py"
  printf 'API_KEY = "from the project"\n' >"$project/secrets.py"
  sed -i 's|^PREFLIGHT_PROJECT_CHECKS=.*|PREFLIGHT_PROJECT_CHECKS=preflight:Checks|' "$DEMO"
}

@test "run from a project holding preflight.py and secrets.py: READY, the project's check is its own" {
  cd "$REPO/examples/predictor"
  # and with the user's PYTHONPATH pointing there too (export PYTHONPATH=. in a training repository)
  run env PYTHONPATH=. "$REPO/infra_scripts/spot_train.sh" --preflight-only --config workflow.env </dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *"PASS project:Checks"*"preflight:Checks: no problems"* ]]
  [[ "$output" == *"READY: "* ]]
}
