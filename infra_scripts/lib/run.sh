# shellcheck shell=bash
# The run's lifetime: its results directory, the cleanup every exit path goes through, run.json.

ARTIFACT_DIR=""
EXIT_REASON=""
RUN_STARTED=""
TRANSPORT_STARTED=""
TRANSPORT_TARGET=""
INSTANCE_SECONDS=0
ESTIMATED_COST=""
RUN_CLOCK=""
RUN_BUDGET=0
PLAN_STATE="none" # ok · skipped (--skip-plan) · none (local transport, attached instance)

# run_results_root — this project's results: artifacts/preflight/<PROJECT_NAME>/, with its own links.
run_results_root() {
  printf '%s' "$ROOT/artifacts/preflight/${CFG[PROJECT_NAME]}"
}

# run_claim DIR — create the run's results directory, or exit 2 if another run has it (mkdir is the
# atomic claim: two runs with one --run-id cannot both win).
run_claim() {
  local dir="$1" parent
  parent="$(dirname "$dir")"
  run_writable "$parent" || die 2 "results directory $parent is not writable (nothing was run)"
  mkdir -p "$parent" || die 2 "cannot create $parent"
  if ! mkdir "$dir" 2>/dev/null; then
    [[ -e "$dir" ]] && die 2 "run id $RUN_ID already has results in $dir"
    die 2 "results directory $parent is not writable: cannot create $dir (nothing was run)"
  fi
}

# run_writable DIR — DIR, or the nearest folder above it that exists, is a directory this user may write
# (access(2): false on a read-only file system, for root too).
run_writable() {
  local dir="$1"
  while [[ ! -e "$dir" && "$dir" != / ]]; do dir="$(dirname "$dir")"; done
  [[ -d "$dir" && -w "$dir" && -x "$dir" ]]
}

# run_start — the first write of a run; from here on every exit path runs run_cleanup.
run_start() {
  ARTIFACT_DIR="$(run_results_root)/$RUN_ID"
  py_module preflight.results prune "$(run_results_root)" "${CFG[RESULTS_KEEP]}" >&2 ||
    log "results: pruning old runs failed (continuing)"
  run_claim "$ARTIFACT_DIR"
  [[ -L "$ROOT/artifacts/preflight/latest" ]] &&
    log "results are per project now: $(run_results_root)/ (the old artifacts/preflight/latest links are left as they were)"
  { mkdir -p "$ARTIFACT_DIR/logs" "$ARTIFACT_DIR/scripts" && : >"$ARTIFACT_DIR/steps.tsv"; } 2>/dev/null ||
    die 2 "results directory $ARTIFACT_DIR is not writable (nothing was run)"
  RUN_STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  RUN_CLOCK="$(steps_now)"
  RUN_BUDGET="$(run_budget_seconds)"
  trap run_cleanup EXIT # replaces sfn_early_exit: from here run_cleanup reports
  trap 'EXIT_REASON="interrupted (SIGINT)"; exit 130' INT
  trap 'EXIT_REASON="interrupted (SIGTERM)"; exit 143' TERM
}

# run_budget_seconds — the whole-run budget of this mode: preflight-only runs and training runs differ.
run_budget_seconds() {
  if [[ "$MODE" == preflight-only ]]; then
    printf '%s' "${CFG[RUN_BUDGET_SECONDS]}"
  else
    printf '%s' "${CFG[TRAIN_RUN_BUDGET_SECONDS]}"
  fi
}

# run_budget_cap SECONDS — SECONDS, or what is left of the run budget if that is less (0: spent).
# The whole run must end before SSM's executionTimeout, where the agent SIGKILLs it: no trap runs.
run_budget_cap() {
  local want="$1"
  awk -v want="$want" -v budget="$RUN_BUDGET" -v t0="$RUN_CLOCK" -v now="$(steps_now)" \
    'BEGIN { left = int(budget - (now - t0)); if (left < 0) left = 0; print (want < left ? want : left) }'
}

# step_failed STEP RC — 8 when EC2 reclaimed the spot instance under the step (its own outcome, retried
# by Step Functions), else 5.
step_failed() {
  if (($2 == 8)); then
    fail 8 "spot instance ${TRANSPORT_TARGET:-?} reclaimed by EC2 during the $1 step"
  fi
  fail 5 "$1 step failed"
}

# fail CODE REASON — leave the run with a reason; cleanup still runs.
fail() {
  EXIT_REASON="$2"
  log_fail "spot_train: $2"
  exit "$1"
}

# run_cleanup — every action runs even if an earlier one fails; the original status is kept, unless
# the teardown was not confirmed: then the run exits 7 whatever else happened (an instance may be
# running and costing money, which matters more than why the run ended).
run_cleanup() {
  local rc=$? down=0
  set +e
  trap '' INT TERM
  steps_stop || log "cleanup: stopping the running step failed"
  lint_seed_stop
  if [[ -n "$TRANSPORT_STARTED" ]]; then
    transport_down || down=$?
    if ((down == 7)); then
      EXIT_REASON="teardown of ${TRANSPORT_TARGET:-the instances tagged RunId=$RUN_ID} not confirmed (the run itself ended with exit $rc${EXIT_REASON:+: $EXIT_REASON})"
      rc=7
    elif ((down)); then
      log_fail "cleanup: transport_down failed — check for a leftover sandbox"
    fi
    INSTANCE_SECONDS="$(steps_elapsed "$TRANSPORT_STARTED")"
  fi
  reports_write "$rc" || { ((rc)) || { rc=5 EXIT_REASON="a report asked for was not written (see above)"; }; }
  run_record "$rc" || { log_fail "cleanup: run.json NOT written (see above)"; ((rc)) || rc=5; }
  run_links "$rc"
  sfn_report "$rc" || log "cleanup: reporting to Step Functions failed"
  exit "$rc"
}

# run_links RC — `latest` follows every run; `latest-ready` only READY preflight-only runs, so that a
# training attempt (or its retry) never moves the artifact the training gate reads.
run_links() {
  local rc="$1" results
  results="$(run_results_root)"
  ln -sfn "$RUN_ID" "$results/latest" || log "cleanup: updating latest failed"
  if [[ "$MODE" == preflight-only && "$rc" == 0 ]]; then
    ln -sfn "$RUN_ID" "$results/latest-ready" || log "cleanup: updating latest-ready failed"
  fi
  return 0
}

run_status_word() {
  case "$1" in
    0) printf 'READY' ;;
    1) printf 'FAILED' ;;
    7) printf 'TEARDOWN_UNCONFIRMED' ;;
    130 | 143) printf 'INTERRUPTED' ;;
    *) printf 'ERROR' ;;
  esac
}

# run_record RC — write run.json and print the summary (--json); fails when run.json was not written,
# and then the summary printed is already the error object.
run_record() {
  local rc="$1" summary status written=0
  status="$(run_status_word "$rc")"
  [[ "$MODE" != preflight-only && "$rc" == 0 ]] && status=DONE
  summary="$(py_module preflight.runrecord "$ARTIFACT_DIR" \
    "run_id=$RUN_ID" "mode=$MODE" "transport=$TRANSPORT" "config=$CONFIG_FILE" \
    "config_sha256=$CONFIG_SHA" "exit_code=$rc" "status=$status" "reason=$EXIT_REASON" \
    "started_at=$RUN_STARTED" "finished_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "instance_seconds=$INSTANCE_SECONDS" "estimated_cost_usd=$ESTIMATED_COST" \
    "target=$TRANSPORT_TARGET" "artifact=$(run_artifact_path)" "tool_version=$VERSION" "plan=$PLAN_STATE")" || written=$?
  # Even a run record that crashed leaves --json one valid object (run ids are [A-Za-z0-9._-]).
  [[ -n "$summary" ]] || summary="$(printf '{"exit_code": %d, "reason": "run.json NOT written", "run_id": "%s", "status": "ERROR"}' \
    "$((rc ? rc : 5))" "$RUN_ID")"
  RUN_SUMMARY="$summary"
  ((FLAG_JSON)) && printf '%s\n' "$summary"
  ((written == 0)) || return 1
  log "$status: run $RUN_ID, exit $rc${EXIT_REASON:+ — $EXIT_REASON} · results in $ARTIFACT_DIR"
}

run_artifact_path() {
  local path="$ARTIFACT_DIR/preflight-readiness.json"
  [[ -f "$path" ]] && printf '%s' "$path"
  return 0
}
