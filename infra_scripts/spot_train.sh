#!/usr/bin/env bash
# spot_train.sh — boot the host, bootstrap, install deps, probe; then (never in --preflight-only)
# smoke and train; always tear the host down. See shared DESIGN.md for the contracts.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="0.1.0"
# shellcheck source=lib/log.sh
. "$ROOT/infra_scripts/lib/log.sh"
# shellcheck source=lib/py_module.sh
. "$ROOT/infra_scripts/lib/py_module.sh"
# shellcheck source=lib/flags.sh
. "$ROOT/infra_scripts/lib/flags.sh"
# shellcheck source=lib/config.sh
. "$ROOT/infra_scripts/lib/config.sh"
# shellcheck source=lib/steps.sh
. "$ROOT/infra_scripts/lib/steps.sh"
# shellcheck source=lib/run.sh
. "$ROOT/infra_scripts/lib/run.sh"
# shellcheck source=lib/probe_result.sh
. "$ROOT/infra_scripts/lib/probe_result.sh"
# shellcheck source=lib/sfn.sh
. "$ROOT/infra_scripts/lib/sfn.sh"
# shellcheck source=lib/reports.sh
. "$ROOT/infra_scripts/lib/reports.sh"
# shellcheck source=lib/lint_seed.sh
. "$ROOT/infra_scripts/lib/lint_seed.sh"

pick_python() {
  if [[ -n "${PREFLIGHT_PYTHON:-}" ]]; then
    printf '%s' "$PREFLIGHT_PYTHON"
  elif [[ -x "$ROOT/.venv/bin/python" ]]; then
    printf '%s' "$ROOT/.venv/bin/python"
  else
    printf 'python3'
  fi
}

# check_environment — faults of the machine the launcher runs on, named before anything is read or
# written (exit 2): they are not "checks failed" (1) nor a failed step (5).
check_environment() {
  if [[ -n "${TMPDIR:-}" && ! (-d "$TMPDIR" && -w "$TMPDIR") ]]; then
    die 2 "TMPDIR=$TMPDIR is not a writable directory: create it or unset TMPDIR (nothing was run)"
  fi
  local where
  for where in "$ROOT" "${PREFLIGHT_IMAGE_DIR:-}" "${FLAG_CONFIG:-}"; do
    # Steps read bootstrap's exports line by line (step.env): a newline in a path would split one in two.
    if [[ "$where" =~ [[:cntrl:]] ]]; then
      die 2 "the path $(printf '%q' "$where") contains a control character (a newline?), which would split" \
        "the steps' environment; use a path without one (nothing was run)"
    fi
  done
}

load_settings() {
  local -a overrides=()
  CONFIG_FILE="$(realpath -m -- "${FLAG_CONFIG:-$ROOT/workflow.env}")"
  [[ -n "$FLAG_TRANSPORT" ]] && overrides+=("TRANSPORT=$FLAG_TRANSPORT")
  [[ -n "$FLAG_REQUIRE_PREFLIGHT" ]] && overrides+=("REQUIRE_PREFLIGHT=$FLAG_REQUIRE_PREFLIGHT")
  config_load "$CONFIG_FILE" "${overrides[@]}"
  CONFIG_SHA="$(config_sha256 "$CONFIG_FILE")"
  TRANSPORT="${CFG[TRANSPORT]}"
  MODE="$FLAG_MODE"
  RUN_ID="${FLAG_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$$}"
  # shellcheck source=lib/transport_local.sh
  . "$ROOT/infra_scripts/lib/transport_$TRANSPORT.sh"
}

print_header() {
  local mode="$MODE"
  ((FLAG_PLAN)) && mode="plan"
  log "spot_train $VERSION · config $CONFIG_FILE (sha256 ${CONFIG_SHA:0:16}) · mode $mode · transport $TRANSPORT · run $RUN_ID"
}

# gate_training — real training refuses to start on a missing, stale, failed or mismatched artifact.
gate_training() {
  local artifact="${CFG[REQUIRE_PREFLIGHT]}"
  [[ "$MODE" != preflight-only && -n "$artifact" ]] || return 0
  # `latest-ready`: this project's newest READY preflight-only run (artifacts/preflight/<PROJECT_NAME>/).
  [[ "$artifact" == latest-ready ]] && artifact="$(run_results_root)/latest-ready/preflight-readiness.json"
  if [[ ! -e "$artifact" && "$artifact" == *artifacts/preflight/latest-ready/* ]]; then
    die 6 "refusing to train: $artifact is the old shared layout; results are per project now: use" \
      "--require-preflight latest-ready (= $(run_results_root)/latest-ready/preflight-readiness.json)"
  fi
  if ! py_module preflight verify "$artifact" --config "$CONFIG_FILE" >&2; then
    die 6 "refusing to train: preflight artifact $artifact does not verify (nothing launched)"
  fi
}

main() {
  PF_PY="$(pick_python)"
  trap sfn_early_exit EXIT
  sfn_token_resolve
  flags_parse "$@"
  check_environment
  reports_check
  load_settings
  print_header
  if ((FLAG_PLAN)); then
    transport_plan || exit 1
    exit 0
  fi
  gate_training
  transport_check
  STEP_TOTAL=3
  [[ "$MODE" == full ]] && STEP_TOTAL=5
  [[ "$MODE" == smoke-only || "$MODE" == full-only ]] && STEP_TOTAL=4
  run_start
  lint_seed_start
  sfn_heartbeat_start
  TRANSPORT_STARTED="$(steps_now)"
  transport_up || fail "$?" "transport $TRANSPORT did not come up"
  lint_seed_give bootstrap
  run_step bootstrap "${CFG[BOOTSTRAP_TIMEOUT_SECONDS]}" || step_failed bootstrap "$?"
  run_step deps "${CFG[DEPS_TIMEOUT_SECONDS]}" || step_failed deps "$?"
  local rc=0
  lint_seed_give probe
  run_step probe "${CFG[PROBE_TIMEOUT_SECONDS]}" || rc=$?
  probe_result "$rc" || exit 1
  if [[ "$MODE" == preflight-only ]]; then
    exit 0
  fi
  if [[ "$MODE" != full-only ]]; then
    run_step smoke "${CFG[SMOKE_TIMEOUT_SECONDS]}" || step_failed smoke "$?"
  fi
  if [[ "$MODE" != smoke-only ]]; then
    run_step train "${CFG[TRAIN_TIMEOUT_SECONDS]}" || step_failed train "$?"
  fi
}

main "$@"
