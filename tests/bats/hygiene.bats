#!/usr/bin/env bats
# A fresh clone stays clean: what make preflight and make test leave behind is ignored, and nothing
# tracked is modified by a run (issue 12 item 6).

load helpers

setup() {
  CLONE="$BATS_TEST_TMPDIR/clone"
  git clone --quiet "$SRC_ROOT" "$CLONE"
  export PREFLIGHT_IMAGE_DIR="$SRC_ROOT/.preflight/test-image"
  PREFLIGHT_PYTHON="${PREFLIGHT_PYTHON:-$(command -v python)}"
  export PREFLIGHT_PYTHON NO_COLOR=1
}

@test "a preflight run in a fresh clone leaves git status clean" {
  # What make preflight runs: the example project's config, its demo store seeded first.
  (cd "$CLONE" && PYTHONPATH="$CLONE" "$PREFLIGHT_PYTHON" -m preflight demo-seed \
    --config examples/predictor/workflow.env >/dev/null)
  # From inside the clone, as make preflight runs it: a relative --config is relative to where one stands.
  cd "$CLONE"
  run "$CLONE/infra_scripts/spot_train.sh" --preflight-only --config examples/predictor/workflow.env </dev/null
  [ "$status" -eq 0 ]
  [ -d "$CLONE/artifacts/preflight/predictor" ]
  [ -d "$CLONE/.preflight/demo-store" ] # outside the project folder, never copied to the host with it
  run git -C "$CLONE" status --porcelain --untracked-files=all
  [ -z "$output" ]
}

@test "no --config in a fresh clone: the neutral workflow.env names no project; exit 2 saying what to do" {
  # Issue 22 deliverable 1: the root workflow.env is the reference, not the demo. Nothing is written.
  run "$CLONE/infra_scripts/spot_train.sh" --preflight-only </dev/null
  [ "$status" -eq 2 ]
  [[ "$output" == *"$CLONE/workflow.env: no training project: REPO_DIR and REPO_URL are both empty"* ]]
  [[ "$output" == *"python3 -m preflight init --repo PATH"* ]]
  [[ "$output" == *"make preflight"*"--config examples/predictor/workflow.env"* ]]
  [[ "$output" != *"bootstrap"* ]]
  [ ! -e "$CLONE/artifacts" ]
  [ ! -e "$CLONE/.preflight" ]
  run git -C "$CLONE" status --porcelain --untracked-files=all
  [ -z "$output" ]
  # The launch plan copies no project, so it asks for none (locally there is nothing to plan).
  run "$CLONE/infra_scripts/spot_train.sh" --plan </dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *"transport local launches nothing"* ]]
}

@test "what make preflight, make test and make bench leave behind is ignored" {
  local path
  for path in .venv/bin/python .venv39/bin/python .pytest_cache/v/x .ruff_cache/x preflight/__pycache__/x.pyc \
    tests/__pycache__/x.pyc spot_preflight.egg-info/PKG-INFO .preflight/image/x artifacts/preflight/r/x \
    .venv/asl/node_modules/x mutants/preflight/config.py.meta; do
    mkdir -p "$CLONE/$(dirname "$path")"
    : >"$CLONE/$path"
  done
  run git -C "$CLONE" status --porcelain --untracked-files=all
  [ -z "$output" ]
}
