#!/usr/bin/env bash
# preflight_all.sh — `spot_train.sh --preflight-only` for every project at once: each config checked
# before anything starts, the ssm projects' spot vCPU demand held to the quota, output prefixed per
# project, one table and artifacts/preflight/_all/<run_id>/summary.json. See README "Many projects".
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/log.sh
. "$ROOT/infra_scripts/lib/log.sh"
# shellcheck source=lib/py_module.sh
. "$ROOT/infra_scripts/lib/py_module.sh"
# shellcheck source=lib/fleet.sh
. "$ROOT/infra_scripts/lib/fleet.sh"

ALL_CONCURRENCY=""
ALL_TRANSPORT=""
ALL_JSON=0
ALL_CONFIGS=()
RUN_ID=""
STARTED=""
DEFAULT_CONCURRENCY=1
CONCURRENCY=1
FLEET_KEEP=30 # fleet runs kept under artifacts/preflight/_all/ (each project keeps RESULTS_KEEP of its own)
STOPPED_CODE=0 # why nothing more was launched, when it was not a signal (a failed fleet plan)

all_usage() {
  cat <<'USAGE'
usage: preflight_all.sh [--concurrency N] [--transport local|ssm] [--json] CONFIG...

  runs `spot_train.sh --preflight-only --config CONFIG` for every CONFIG at once, at most N at a time
  (default: every project, up to the core count, on local; 4 when a project uses ssm), every output
  line prefixed with its project; then one table and artifacts/preflight/_all/<run_id>/summary.json

  --concurrency N         at most N projects at once (ssm: lowered further to fit the spot vCPU quotas)
  --transport local|ssm   every project's transport (default: TRANSPORT in each config)
  --json                  stdout is only the summary JSON (the table goes to stderr)
  -h, --help              this help

exit codes: 0 every project READY; otherwise the most severe: 7 (teardown not confirmed) over
            everything, then 130/143 (interrupted), then 2 (a config, or the fleet plan), then the
            highest of 3/4/5/6 (a run killed by a signal counts as 5), then 1 (checks failed)
USAGE
}

all_flag_set() {
  case "$1" in
    --concurrency) [[ "$2" =~ ^[1-9][0-9]{0,3}$ ]] ||
        fleet_die 2 "--concurrency: expected a positive integer, got '$2'"
      ALL_CONCURRENCY="$2" ;;
    --transport) [[ "$2" == local || "$2" == ssm ]] || fleet_die 2 "--transport: expected local or ssm, got '$2'"
      ALL_TRANSPORT="$2" ;;
  esac
}

all_flags() {
  while (($#)); do
    case "$1" in
      -h | --help) all_usage; exit 0 ;;
      --json) ALL_JSON=1 ;;
      --concurrency | --transport) (($# > 1)) || fleet_die 2 "missing value for $1 (see --help)"
        all_flag_set "$1" "$2"
        shift ;;
      --concurrency=* | --transport=*) all_flag_set "${1%%=*}" "${1#*=}" ;;
      --) shift; ALL_CONFIGS+=("$@"); break ;;
      -*) fleet_die 2 "unknown flag: $1 (see --help)" ;;
      *) ALL_CONFIGS+=("$1") ;;
    esac
    shift
  done
  ((${#ALL_CONFIGS[@]})) || fleet_die 2 "no config given (see --help)"
}

# all_check — every config validated and every PROJECT_NAME unique, before anything is written.
all_check() {
  local manifest
  local -a flags=()
  [[ -z "$ALL_TRANSPORT" ]] || flags=(--transport "$ALL_TRANSPORT")
  manifest="$(fleet_py check --run-id "$RUN_ID" "${flags[@]}" -- "${ALL_CONFIGS[@]}")" || exit 2
  fleet_read_manifest "$manifest"
  FLEET_DIR="$ROOT/artifacts/preflight/_all/$RUN_ID"
  mkdir -p "$(dirname "$FLEET_DIR")"
  py_module preflight.results prune "$(dirname "$FLEET_DIR")" "$FLEET_KEEP" >&2 ||
    log "preflight_all: pruning old fleet runs failed (continuing)"
  mkdir "$FLEET_DIR" 2>/dev/null || fleet_die 2 "run id $RUN_ID already has results in $FLEET_DIR"
  mkdir "$FLEET_DIR/exits" "$FLEET_DIR/logs" "$FLEET_DIR/pipes"
  printf '%s\n' "$manifest" >"$FLEET_DIR/manifest.tsv"
}

# all_concurrency — the default (every project up to the core count on local, 4 with ssm) or the flag,
# never more than there are projects.
all_concurrency() {
  local transport count="${#F_PROJECT[@]}"
  DEFAULT_CONCURRENCY="$(nproc 2>/dev/null || printf 2)"
  for transport in "${F_TRANSPORT[@]}"; do
    [[ "$transport" != ssm ]] || DEFAULT_CONCURRENCY=4
  done
  ((DEFAULT_CONCURRENCY <= count)) || DEFAULT_CONCURRENCY="$count"
  CONCURRENCY="${ALL_CONCURRENCY:-$DEFAULT_CONCURRENCY}"
  ((CONCURRENCY <= count)) || CONCURRENCY="$count"
}

# all_plan — ssm: every project's launch plan at once, their vCPU demand against the quotas; lowers
# CONCURRENCY to fit, or stops the run before any launch (STOPPED_CODE 2 or 3).
all_plan() {
  local transport rc=0 wanted=0
  local -a flags=()
  for transport in "${F_TRANSPORT[@]}"; do
    [[ "$transport" != ssm ]] || wanted=1
  done
  ((wanted)) || return 0
  [[ -z "$ALL_TRANSPORT" ]] || flags=(--transport "$ALL_TRANSPORT")
  fleet_py plan --dir "$FLEET_DIR" --concurrency "$CONCURRENCY" --tool-root "$ROOT" "${flags[@]}" \
    >"$FLEET_DIR/concurrency" &
  FLEET_PLAN_PID=$!
  fleet_wait_pid "$FLEET_PLAN_PID" || rc=$?
  FLEET_PLAN_PID=""
  [[ -z "$STOP_SIGNAL" ]] || return 0
  if ((rc == 0)); then
    CONCURRENCY="$(<"$FLEET_DIR/concurrency")"
  else
    STOPPED_CODE="$rc"
    ((rc == 3)) || STOPPED_CODE=2
  fi
}

# all_finish — on every way out once the results directory exists: the runs still going are stopped
# and waited for, then the summary decides the exit code.
all_finish() {
  local rc=$? code=0
  local -a flags=()
  set +e
  trap '' INT TERM
  if ((rc != 0)) && [[ -z "$STOP_SIGNAL" ]] && ((STOPPED_CODE == 0)); then
    log "preflight_all: stopped by an internal error (exit $rc): stopping every project's run"
    STOPPED_CODE=5
    fleet_stop_started
  fi
  fleet_wait_all
  rm -rf "$FLEET_DIR/pipes" "$FLEET_DIR/stop"
  ((ALL_JSON == 0)) || flags=(--json)
  fleet_py summarize --dir "$FLEET_DIR" --results "$ROOT/artifacts/preflight" --run-id "$RUN_ID" \
    --started "$STARTED" --requested "${ALL_CONCURRENCY:-0}" --default "$DEFAULT_CONCURRENCY" \
    --used "$CONCURRENCY" --signal "$STOP_SIGNAL" --stopped "$STOPPED_CODE" "${flags[@]}" || code=$?
  exit "$code"
}

main() {
  PF_PY="$(fleet_python)"
  all_flags "$@"
  RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)-$$"
  STARTED="$(fleet_now)"
  all_check
  trap '' USR1 # the wrappers' stop signal; each wrapper sets its own trap for it
  trap 'fleet_signal INT' INT
  trap 'fleet_signal TERM' TERM
  trap all_finish EXIT
  all_concurrency
  all_plan
  if ((STOPPED_CODE)); then
    CONCURRENCY=0
    return 0
  fi
  fleet_schedule "$CONCURRENCY"
}

main "$@"
