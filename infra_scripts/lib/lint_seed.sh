# shellcheck shell=bash
# Lint off the critical path (issue 25 item 5). While the host boots, bootstraps and installs, the
# launcher parses the project's files (preflight/lint/seed.py); the seed goes to the host, and the
# probe's lint and entry-point checks parse only the files that differ there. A seed that has not
# finished when it is due is stopped: the probe parses as it always did, the run never waits for it.

LINT_SEED_PID=""
LINT_SEED_DIR=""

# lint_seed_start — for runs that lint a project this machine holds (with REPO_URL the host clones it).
lint_seed_start() {
  [[ "${CFG[PREFLIGHT_LINT]}" != off && -z "${CFG[REPO_URL]}" ]] || return 0
  LINT_SEED_DIR="$(mktemp -d)" || return 0
  # Its own process group: stopping it stops its parsing workers too.
  PYTHONPATH="$ROOT" setsid "$PF_PY" "$PY_RUNNER" preflight.lint.seed "$(config_project_dir)" \
    "$LINT_SEED_DIR/lint-seed.json" </dev/null >/dev/null 2>&1 &
  LINT_SEED_PID=$!
}

# lint_seed_give STEP — before STEP, hand a finished seed to the transport if STEP is where it takes one.
lint_seed_give() {
  local pid="$LINT_SEED_PID"
  [[ -n "$pid" && "$1" == "$TRANSPORT_SEED_STEP" ]] || return 0
  LINT_SEED_PID=""
  if kill -0 "$pid" 2>/dev/null; then
    # Under errexit: the seed may end between the two kills, and a stopped one's status is 143.
    kill -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "lint seed: not ready before $1; the probe parses the project itself"
    return 0
  fi
  wait "$pid" 2>/dev/null || return 0
  [[ -s "$LINT_SEED_DIR/lint-seed.json" ]] && transport_seed "$LINT_SEED_DIR/lint-seed.json"
  return 0
}

# lint_seed_stop — cleanup: no parser outlives the run, no seed is left behind.
lint_seed_stop() {
  if [[ -n "$LINT_SEED_PID" ]]; then
    kill -- "-$LINT_SEED_PID" 2>/dev/null || true
    wait "$LINT_SEED_PID" 2>/dev/null || true
    LINT_SEED_PID=""
  fi
  [[ -z "$LINT_SEED_DIR" ]] || rm -rf "$LINT_SEED_DIR"
  return 0
}
