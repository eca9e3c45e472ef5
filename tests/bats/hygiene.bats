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
  (cd "$CLONE" && PYTHONPATH="$CLONE" "$PREFLIGHT_PYTHON" -m preflight demo-seed --config workflow.env >/dev/null)
  run "$CLONE/infra_scripts/spot_train.sh" --preflight-only </dev/null
  [ "$status" -eq 0 ]
  [ -d "$CLONE/artifacts/preflight" ]
  run git -C "$CLONE" status --porcelain --untracked-files=all
  [ -z "$output" ]
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
