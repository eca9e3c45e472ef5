# shellcheck shell=bash
# Step Functions callback (.waitForTaskToken): task success with the run's summary, or a typed
# failure (Preflight.ChecksFailed, .NoCapacity, .Unreachable, .StepFailed, .ArtifactInvalid, .Usage,
# .TeardownUnconfirmed),
# and a heartbeat while the run lasts. On the Step Functions path the token is never in the SSM command
# (SSM keeps command text in its history): the command names a SecureString parameter
# (SFN_TASK_TOKEN_PARAMETER), which sfn_token_resolve reads and deletes; from then on the token is in
# this shell and in the environment of the helpers it starts, never on a command line.

RUN_SUMMARY=""
SFN_HEARTBEAT_PID=""

sfn_region() {
  printf '%s' "${CFG[AWS_REGION]:-${AWS_REGION:-${AWS_SSM_REGION_NAME:-us-east-1}}}"
}

sfn_py() {
  SFN_TASK_TOKEN="$FLAG_SFN_TOKEN" py_module preflight.aws "$@" --region "$(sfn_region)"
}

# sfn_token_resolve — before anything else, so that even a usage error is reported: the token from the
# parameter the state machine wrote (it lives in the controller's region, AWS_SSM_REGION_NAME).
sfn_token_resolve() {
  local name="${SFN_TASK_TOKEN_PARAMETER:-}" token
  [[ -n "$name" && -z "$FLAG_SFN_TOKEN" ]] || return 0
  if token="$(py_module preflight.aws sfn-token --parameter "$name" --region "$(sfn_region)")"; then
    FLAG_SFN_TOKEN="$token"
  else
    log "sfn: no task token: this run's outcome reaches Step Functions only through the task's timeout"
  fi
}

sfn_report() {
  local rc="$1"
  [[ -n "$FLAG_SFN_TOKEN" ]] || return 0
  sfn_heartbeat_stop
  sfn_py sfn-report --exit-code "$rc" --summary "$RUN_SUMMARY" --reason "${EXIT_REASON:-exit $rc}" \
    --run-id "${RUN_ID:-}" --mode "${MODE:-${FLAG_MODE:-}}"
}

# sfn_heartbeat_start — SendTaskHeartbeat every SFN_HEARTBEAT_SECONDS (default 60, well inside the
# state's HeartbeatSeconds) until the run ends.
sfn_heartbeat_start() {
  [[ -n "$FLAG_SFN_TOKEN" ]] || return 0
  (
    trap 'exit 0' TERM
    while sleep "${SFN_HEARTBEAT_SECONDS:-60}"; do
      sfn_py sfn-heartbeat || log "sfn: heartbeat failed"
    done
  ) &
  SFN_HEARTBEAT_PID=$!
}

sfn_heartbeat_stop() {
  [[ -n "$SFN_HEARTBEAT_PID" ]] || return 0
  kill -TERM "$SFN_HEARTBEAT_PID" 2>/dev/null || true
  wait "$SFN_HEARTBEAT_PID" 2>/dev/null || true
  SFN_HEARTBEAT_PID=""
}

# sfn_early_exit — before a run exists (usage or config error, refused gate) the state machine
# still hears why, instead of waiting for its timeout.
sfn_early_exit() {
  local rc=$?
  ((rc == 0)) || sfn_report "$rc" || log "sfn: reporting failed"
  exit "$rc"
}
