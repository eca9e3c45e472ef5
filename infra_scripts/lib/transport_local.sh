# shellcheck shell=bash
# Local transport: a sandbox directory on this machine plays the instance. Each step runs in a clean
# environment (env -i: only the config, PASS_ENV and what bootstrap exports), in its own session so
# that stopping it stops all of its children, under GNU timeout.

TL_HOST=""
TL_IMAGE=""
TL_PYTHON=""
TL_ENV_FILE=""

# transport_plan — --plan proves an ssm launch; the local transport launches nothing.
transport_plan() {
  log "plan: transport local launches nothing, so there is nothing to plan (use --transport ssm)"
}

# transport_check — before anything is written: the sandbox and the image directory can be made.
transport_check() {
  local dir
  for dir in "$ROOT/.preflight/runs" "${PREFLIGHT_IMAGE_DIR:-$ROOT/.preflight/image}"; do
    run_writable "$dir" || die 2 "transport local: $dir is not writable (nothing was run)"
  done
}

# The lint seed (lib/lint_seed.sh) goes into the host sandbox just before the probe: it is ready by then.
TRANSPORT_SEED_STEP=probe
transport_seed() {
  cp "$1" "$TL_HOST/lint-seed.json" || log "transport local: the lint seed was not copied (the probe parses)"
}

transport_up() {
  TL_HOST="$ROOT/.preflight/runs/$RUN_ID/host"
  # The image directory outlives runs, like a warm AMI: the venv and package caches live there.
  TL_IMAGE="${PREFLIGHT_IMAGE_DIR:-$ROOT/.preflight/image}"
  TL_PYTHON="$("${CFG[PYTHON]}" -c 'import sys; print(sys.executable)')" ||
    { log "transport local: PYTHON=${CFG[PYTHON]} does not run"; return 5; }
  mkdir -p "$TL_HOST/home" "$TL_IMAGE"
  # The step environment may hold PASS_ENV secrets: a 0600 file read by exec_env.sh, never argv.
  TL_ENV_FILE="${TL_HOST%/host}/step-env"
  (umask 077 && config_step_env >"$TL_ENV_FILE")
  # SECRETS and PASS_ENV's NAME_FILE entries, read with this shell's credentials straight into the 0600 file.
  if [[ -n "${CFG[SECRETS]}" || ",${CFG[PASS_ENV]// /}," == *_FILE,* ]]; then
    py_module preflight.secrets --spec "${CFG[SECRETS]}" --pass-env "${CFG[PASS_ENV]}" \
      --required "${CFG[PREFLIGHT_REQUIRED_ENV]}" --region "${CFG[AWS_REGION]}" --out "$TL_ENV_FILE" --format nul >&2 ||
      { log "transport local: SECRETS could not be resolved (above)"; return 2; }
  fi
  TRANSPORT_TARGET="$TL_HOST"
  log "transport local: host sandbox $TL_HOST"
  log "transport local: image cache $TL_IMAGE holds $(timeout 10 du -sh "$TL_IMAGE" 2>/dev/null | cut -f1 || echo '?')" \
    "(venvs, pip/uv caches; clear with: rm -rf '$TL_IMAGE')"
}

# transport_run STEP SCRIPT TIMEOUT — prints the step's output, returns its exit code (124: timeout).
transport_run() {
  local step="$1" script="$2" timeout="$3" pid rc=0
  setsid timeout --kill-after=5 "$timeout" env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$TL_HOST/home" LANG=C.UTF-8 \
    PF_STEP="$step" PF_HOST_DIR="$TL_HOST" PF_IMAGE_DIR="$TL_IMAGE" PF_PYTHON="$TL_PYTHON" \
    PF_TOOL_SRC="$ROOT" PF_PROJECT_SRC="$(config_project_dir)" PF_REAPER_PYTHON="$(command -v "$PF_PY")" \
    PREFLIGHT_BASE_DIR="$ROOT" PREFLIGHT_RUN_ID="$RUN_ID" PREFLIGHT_MODE="$MODE" \
    "$ROOT/infra_scripts/lib/exec_env.sh" "$TL_ENV_FILE" bash "$script" </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$TL_HOST/.step.pid"
  wait "$pid" || rc=$?
  rm -f "$TL_HOST/.step.pid"
  return "$rc"
}

# transport_fetch_artifact — print the artifact file the probe wrote on the host.
transport_fetch_artifact() {
  cat "$TL_HOST/preflight-readiness.json"
}

# transport_down — stop whatever still runs in the sandbox, then remove it unless --keep.
transport_down() {
  local pid
  if [[ -n "$TL_HOST" && -f "$TL_HOST/.step.pid" ]]; then
    pid="$(<"$TL_HOST/.step.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || true
    transport_local_reap "$pid"
    rm -f "$TL_HOST/.step.pid"
  fi
  [[ -n "$TL_HOST" ]] || return 0
  rm -f "$TL_ENV_FILE"
  if ((FLAG_KEEP)); then
    log "transport local: kept sandbox $TL_HOST (remove with: rm -rf '${TL_HOST%/host}')"
  else
    rm -rf "${TL_HOST%/host}"
  fi
}

# transport_local_reap PGID — wait up to 5 s for the step's process group to go, then KILL it.
transport_local_reap() {
  local pgid="$1" waited=0
  while kill -0 -- "-$pgid" 2>/dev/null && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}
