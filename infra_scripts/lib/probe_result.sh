# shellcheck shell=bash
# After the probe step: cut the framed artifact out of its output and turn it into the exit code.

# probe_result RC — 0 READY, 1 FAILED, 5 the step itself failed, 6 artifact missing or corrupt.
probe_result() {
  local rc="$1" log="$ARTIFACT_DIR/logs/probe.log" status
  if ((rc == 124)); then
    fail 5 "probe step timed out after ${CFG[PROBE_TIMEOUT_SECONDS]}s"
  fi
  ((rc == 8)) && step_failed probe 8
  if ! status="$(probe_unframe "$log")"; then
    log "probe: $(<"$ARTIFACT_DIR/logs/unframe.err"); fetching the artifact file from the host"
    local fetched=0
    transport_fetch_artifact >"$ARTIFACT_DIR/logs/fetch.log" 2>"$ARTIFACT_DIR/logs/fetch.err" || fetched=$?
    ((fetched == 8)) && { cat "$ARTIFACT_DIR/logs/fetch.err" >&2; step_failed "probe's artifact fetch" 8; }
    if ((fetched != 0)) || ! status="$(probe_unframe "$ARTIFACT_DIR/logs/fetch.log")"; then
      log_tail "$log"
      fail 6 "readiness artifact missing or corrupt: $(<"$ARTIFACT_DIR/logs/unframe.err") (probe exit $rc)"
    fi
  fi
  [[ -s "$ARTIFACT_DIR/logs/unframe.err" ]] || rm -f "$ARTIFACT_DIR/logs/unframe.err"
  if ((rc != 0 && rc != 1)); then
    fail 5 "probe step exited $rc"
  fi
  case "$status" in
    READY) log_ok "READY" "— readiness artifact: $ARTIFACT_DIR/preflight-readiness.json" ;;
    *) EXIT_REASON="checks failed"
      log_fail "FAILED" "— readiness artifact: $ARTIFACT_DIR/preflight-readiness.json"
      return 1 ;;
  esac
}

# probe_unframe FILE — the artifact's status; the artifact itself lands in the results directory.
probe_unframe() {
  py_module preflight unframe "$1" --out "$ARTIFACT_DIR/preflight-readiness.json" \
    2>"$ARTIFACT_DIR/logs/unframe.err"
}
