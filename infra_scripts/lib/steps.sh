# shellcheck shell=bash
# run_step: one line of progress per step, the step's output streamed live and logged, its exit
# code and duration recorded for run.json. Steps run in the background so INT/TERM traps fire now.

STEP_PID=""
STEP_TOTAL=0
STEP_INDEX=0

steps_now() {
  printf '%s' "${EPOCHREALTIME/,/.}"
}

steps_elapsed() {
  awk -v a="$1" -v b="$(steps_now)" 'BEGIN { printf "%.1f", b - a }'
}

# steps_stream LOG PID — follow the log until the step's process ends.
steps_stream() {
  local log="$1" pid="$2"
  tail -s 0.1 -n +1 -F --pid="$pid" "$log" 2>/dev/null | log_unframed | sed -u 's/^/  │ /' >&2
}

# run_step STEP TIMEOUT — runs remote/STEP.sh through the transport, for at most TIMEOUT seconds or
# what is left of the run budget; returns the step's exit code.
run_step() {
  local step="$1" timeout started rc=0 tail_pid log="$ARTIFACT_DIR/logs/$1.log"
  [[ "$MODE" == preflight-only && ("$step" == smoke || "$step" == train) ]] &&
    die 5 "refusing to run $step in preflight-only mode"
  timeout="$(run_budget_cap "$2")"
  ((timeout > 0)) || fail 5 "run budget of ${RUN_BUDGET}s spent before the $step step"
  STEP_INDEX=$((STEP_INDEX + 1))
  log "[$STEP_INDEX/$STEP_TOTAL] $step …$( ((timeout < $2)) && printf ' (%ss left of the run budget)' "$timeout")"
  : >"$log"
  started="$(steps_now)"
  transport_run "$step" "$(steps_script "$step")" "$timeout" >"$log" 2>&1 &
  STEP_PID=$!
  steps_stream "$log" "$STEP_PID" &
  tail_pid=$!
  wait "$STEP_PID" || rc=$?
  STEP_PID=""
  wait "$tail_pid" 2>/dev/null || true
  printf '%s\t%s\t%s\n' "$step" "$rc" "$(steps_elapsed "$started")" >>"$ARTIFACT_DIR/steps.tsv"
  steps_report "$step" "$rc" "$(steps_elapsed "$started")" "$timeout"
  return "$rc"
}

# steps_script STEP — the prelude and the step body as one script, the unit every transport ships.
steps_script() {
  local out="$ARTIFACT_DIR/scripts/$1.sh"
  cat "$ROOT/infra_scripts/remote/prelude.sh" "$ROOT/infra_scripts/remote/$1.sh" >"$out"
  printf '%s' "$out"
}

steps_report() {
  local step="$1" rc="$2" secs="$3" timeout="$4" word
  if ((rc == 0)); then
    log_ok "[$STEP_INDEX/$STEP_TOTAL] $step … ok" "(${secs}s)"
    return 0
  fi
  [[ "$step" == probe && "$rc" == 1 ]] && { log_fail "[$STEP_INDEX/$STEP_TOTAL] $step … checks failed" "(${secs}s)"; return 0; }
  word="failed, exit $rc"
  ((rc == 124)) && word="timed out after ${timeout}s"
  log_fail "[$STEP_INDEX/$STEP_TOTAL] $step … $word" "(${secs}s)"
  log_tail "$ARTIFACT_DIR/logs/$step.log"
}

# steps_stop — stop a running step (its transport stops what runs remotely).
steps_stop() {
  [[ -n "$STEP_PID" ]] || return 0
  pkill -TERM -P "$STEP_PID" 2>/dev/null || true
  kill -TERM "$STEP_PID" 2>/dev/null || true
  wait "$STEP_PID" 2>/dev/null || true
}
