# shellcheck shell=bash
# SSM transport: a one-time EC2 spot instance, steps over SSM Run Command, guaranteed teardown.
# All AWS calls are boto3 helpers in preflight/aws (no AWS CLI). `--instance-id` attaches to an
# existing instance: nothing is launched and nothing is terminated.

TS_INSTANCE=""
TS_ATTACHED=0
TS_PAIRS=""
TS_PLAN=""
TS_LAUNCH="none" # none · pending (RunInstances may have started an instance we have no id of) · done
TS_LINT_SEED=""
# The lint seed (lib/lint_seed.sh) travels in bootstrap's payload: no command of its own.
TRANSPORT_SEED_STEP=bootstrap
transport_seed() {
  TS_LINT_SEED="$1"
}

transport_ssm_py() {
  py_module preflight.aws "$@"
}

# transport_ssm_pairs — the step environment (config plus PASS_ENV values, which may be secret) in a
# private temp file, removed at teardown.
transport_ssm_pairs() {
  TS_PAIRS="$(umask 077 && mktemp)"
  config_step_env >"$TS_PAIRS"
}

# transport_ssm_plan_to OUT — the launch plan for this run's mode, written to OUT; returns its exit code.
transport_ssm_plan_to() {
  transport_ssm_py plan --env-file "$TS_PAIRS" --run-id "$RUN_ID" --mode "$MODE" \
    --budget-seconds "$(run_budget_seconds)" --out "$1"
}

# transport_check — before anything is written or launched: every step's command must fit SSM's
# 64 KB limit, which only the whole step environment decides; then the launch plan.
transport_check() {
  transport_ssm_pairs
  transport_ssm_py command-size --env-file "$TS_PAIRS" --scripts "$ROOT/infra_scripts/remote" \
    --tool-root "$ROOT" --project-dir "$(config_project_dir)" ||
    { rm -f "$TS_PAIRS"; die 2 "what the steps would send does not fit SSM commands (nothing launched)"; }
  [[ -z "$FLAG_INSTANCE_ID" ]] || return 0
  if ((FLAG_SKIP_PLAN)); then
    PLAN_STATE="skipped"
    log "transport ssm: --skip-plan: launching without proving the launch first"
    return 0
  fi
  transport_ssm_plan
}

# transport_plan — --plan: the launch plan alone, kept in the run's results; nothing is launched.
transport_plan() {
  local dir rc=0
  dir="$(run_results_root)/$RUN_ID"
  run_claim "$dir"
  transport_ssm_pairs
  transport_ssm_plan_to "$dir/plan.json" || rc=$?
  rm -f "$TS_PAIRS"
  log "plan: $dir/plan.json"
  ((rc == 0))
}

# transport_ssm_plan — the launch plan, before anything is written: a failure exits 2 (configuration:
# what no retry fixes) or 3 (only the spot price is in the way) with every reason printed.
transport_ssm_plan() {
  local rc=0
  TS_PLAN="$(mktemp)"
  transport_ssm_plan_to "$TS_PLAN" || rc=$?
  ((rc == 0)) && { PLAN_STATE="ok"; return 0; }
  rm -f "$TS_PAIRS" "$TS_PLAN"
  ((rc == 3)) || rc=2
  die "$rc" "the launch plan failed (see above; nothing launched)"
}

transport_up() {
  local rc=0
  if [[ -n "$FLAG_INSTANCE_ID" ]]; then
    TS_INSTANCE="$FLAG_INSTANCE_ID" TS_ATTACHED=1
    log "transport ssm: attaching to $TS_INSTANCE (it will not be terminated)"
  else
    local -a plan=()
    if [[ -n "$TS_PLAN" ]]; then
      mv "$TS_PLAN" "$ARTIFACT_DIR/plan.json"
      plan=(--plan "$ARTIFACT_DIR/plan.json")
    fi
    TS_LAUNCH="pending"
    TS_INSTANCE="$(PYTHONPATH="$ROOT" timeout "$(run_budget_cap "$RUN_BUDGET")" \
      "$PF_PY" "$PY_RUNNER" preflight.aws launch --env-file "$TS_PAIRS" --run-id "$RUN_ID" --mode "$MODE" "${plan[@]}")" ||
      rc=$?
    # 0: the id is known; 2, 3, 5: every RunInstances answered an error. Anything else (a crash, a
    # timeout) may have launched an instance whose id never came back: teardown looks for it by tag.
    ((rc == 0 || rc == 2 || rc == 3 || rc == 5)) && TS_LAUNCH="done"
    ((rc == 0 || rc == 2 || rc == 3)) || rc=5
    ((rc == 0)) || fail "$rc" "could not launch a spot instance (see above)"
  fi
  TRANSPORT_TARGET="$TS_INSTANCE"
  transport_ssm_py wait-online --region "${CFG[AWS_REGION]}" --instance-id "$TS_INSTANCE" \
    --timeout "$(run_budget_cap "${CFG[SSM_ONLINE_TIMEOUT_SECONDS]}")" || rc=$?
  case "$rc" in
    0) ;;
    8) fail 8 "spot instance $TS_INSTANCE reclaimed by EC2 before SSM came online" ;;
    3 | 5) fail "$rc" "instance $TS_INSTANCE ended before SSM came online (see above)" ;;
    *) fail 4 "instance $TS_INSTANCE never reachable over SSM" ;;
  esac
}

# transport_run STEP SCRIPT TIMEOUT — prints the step's output, returns its exit code (124: timeout).
transport_run() {
  local step="$1" script="$2" timeout="$3"
  local -a seed=()
  [[ "$step" == bootstrap && -n "$TS_LINT_SEED" ]] && seed=(--lint-seed "$TS_LINT_SEED")
  transport_ssm_py run-step --instance-id "$TS_INSTANCE" --env-file "$TS_PAIRS" --script "$script" \
    --step "$step" --run-id "$RUN_ID" --mode "$MODE" --timeout "$timeout" --tool-root "$ROOT" \
    --project-dir "$(config_project_dir)" "${seed[@]}"
}

# transport_fetch_artifact — a short second command that prints the artifact file (under 16 KB,
# so it fits SSM's 24,000-character output even when the probe's own output was cut).
transport_fetch_artifact() {
  transport_run fetch "$ROOT/infra_scripts/remote/fetch.sh" 60
}

# transport_down — terminate every instance of this run (by id and by RunId tag) and confirm it with a
# describe; 7 when that confirmation never came (the caller exits 7).
transport_down() {
  local -a ids=()
  [[ -n "$TS_PAIRS" ]] && rm -f "$TS_PAIRS"
  [[ -n "$TS_PLAN" && -f "$TS_PLAN" ]] && rm -f "$TS_PLAN"
  [[ -n "$TS_INSTANCE" ]] && ids=(--instance-id "$TS_INSTANCE")
  if ((TS_ATTACHED)); then
    log "transport ssm: leaving attached instance $TS_INSTANCE running"
  elif ((FLAG_KEEP)) && [[ -n "$TS_INSTANCE" ]]; then
    log "transport ssm: kept $TS_INSTANCE; terminate it with:"
    log "  PYTHONPATH=$ROOT $PF_PY $PY_RUNNER preflight.aws terminate --region ${CFG[AWS_REGION]} --run-id $RUN_ID --instance-id $TS_INSTANCE"
  else
    transport_ssm_terminate "${ids[@]}" || return 7
  fi
  transport_ssm_cost
}

# transport_ssm_terminate [--instance-id ID] — teardown by id and by RunId tag; when the launch may have
# started an instance without its id coming back, the tag lookup repeats for 60 s (eventual consistency).
transport_ssm_terminate() {
  local settle=0
  [[ "$TS_LAUNCH" == pending ]] && settle=60
  transport_ssm_py terminate --region "${CFG[AWS_REGION]}" --run-id "$RUN_ID" "$@" \
    --deadline "${CFG[TEARDOWN_TIMEOUT_SECONDS]}" --settle-seconds "$settle" && return 0
  log_fail "transport ssm: TERMINATION NOT CONFIRMED for run $RUN_ID ${TS_INSTANCE}"
  log "  aws ec2 describe-instances --region ${CFG[AWS_REGION]} --filters Name=tag:RunId,Values=$RUN_ID" \
    "--query 'Reservations[].Instances[].[InstanceId,State.Name]'  # then terminate-instances each live one"
  return 1
}

transport_ssm_cost() {
  local line
  [[ -n "$TS_INSTANCE" ]] || return 0
  line="$(transport_ssm_py cost --region "${CFG[AWS_REGION]}" --instance-id "$TS_INSTANCE" \
    --seconds "$(steps_elapsed "$TRANSPORT_STARTED")")" || return 0
  ESTIMATED_COST="${line%%$'\t'*}"
  log "transport ssm: ${line#*$'\t'}"
}
