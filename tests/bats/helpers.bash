# shellcheck shell=bash
# Shared by the bats suites: each file runs spot_train.sh in its own copy of the repository, so
# results and sandboxes never touch the real checkout; the warm "image" (venv, pip cache) is shared.

SRC_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
# In GitHub Actions spot_train.sh annotates and writes the job summary: tests that want it set these.
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_WORKSPACE
# `make test` runs some 25 processes at once on two cores. Under that herd (and two busy loops more) a
# check that takes a second on a training host took up to 12.7 s of its 20 s default (the ArcticDB pair,
# importing arcticdb), and CI machines run this herd slower still. The suites are about what checks find,
# not how fast they find it while 18 probes share two cores: three times the default deadline each.
export CHECK_TIMEOUT_SECONDS=60

# make_repo_copy — the copy, and DEMO: the example project's config in it (what `make preflight` runs; the
# root workflow.env is the neutral reference and names no project).
make_repo_copy() {
  REPO="$BATS_FILE_TMPDIR/repo"
  DEMO="$REPO/examples/predictor/workflow.env"
  mkdir -p "$REPO"
  cp -a "$SRC_ROOT/infra_scripts" "$SRC_ROOT/preflight" "$SRC_ROOT/examples" "$SRC_ROOT/workflow.env" "$REPO/"
  export PREFLIGHT_IMAGE_DIR="$SRC_ROOT/.preflight/test-image"
  PREFLIGHT_PYTHON="${PREFLIGHT_PYTHON:-$(command -v python)}"
  export PREFLIGHT_PYTHON
  export NO_COLOR=1
  export PREDICTOR_MARKER_DIR="$BATS_FILE_TMPDIR/markers"
  export PASS_ENV=PREDICTOR_MARKER_DIR
}

seed_demo() {
  (cd "$REPO" && PYTHONPATH="$REPO" "$PREFLIGHT_PYTHON" -m preflight demo-seed --config "$DEMO" "$@" >/dev/null)
}

# spot ARGS — spot_train.sh on the demo's config, unless ARGS name a config of their own.
spot() {
  local arg
  for arg in "$@"; do
    [[ "$arg" == --config || "$arg" == --config=* ]] && { "$REPO/infra_scripts/spot_train.sh" "$@" </dev/null; return; }
  done
  "$REPO/infra_scripts/spot_train.sh" --config "$DEMO" "$@" </dev/null
}

# wait_for_text FILE TEXT SECONDS [PID] — poll until TEXT shows up in FILE; stop early once PID (the
# process that would write it) has ended. On failure FILE's tail is printed: it says why the text never came.
wait_for_text() {
  local file="$1" text="$2" tries=$(($3 * 10)) pid="${4:-}"
  while ((tries-- > 0)); do
    grep -qF "$text" "$file" 2>/dev/null && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      grep -qF "$text" "$file" 2>/dev/null && return 0
      echo "# the process that was to write '$text' ended without it" >&2
      break
    fi
    sleep 0.1
  done
  echo "# '$text' is not in $file; its last 40 lines:" >&2
  tail -n 40 "$file" 2>/dev/null | sed 's/^/#   /' >&2
  return 1
}

# sleep_arg SECONDS — a sleep argument no other run on this machine uses (other checkouts run these
# tests too), and sleep_pattern SECONDS — the pgrep -f pattern of that sleep.
sleep_arg() {
  printf '%s.%s' "$1" "$$"
}
sleep_pattern() {
  printf '^sleep %s\\.%s$' "$1" "$$"
}
