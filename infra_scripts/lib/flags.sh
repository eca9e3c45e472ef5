# shellcheck shell=bash
# Flag parsing. Sets the FLAG_* globals; exits 2 naming the bad flag. Nothing is written here.

FLAG_MODE=""
FLAG_PREFLIGHT_ONLY=0
FLAG_TRANSPORT=""
FLAG_CONFIG=""
FLAG_RUN_ID=""
FLAG_KEEP=0
FLAG_JSON=0
FLAG_INSTANCE_ID=""
FLAG_SFN_TOKEN="${SFN_TASK_TOKEN:-}"
FLAG_REQUIRE_PREFLIGHT=""
FLAG_PLAN=0
FLAG_SKIP_PLAN=0
FLAG_JUNIT=""
FLAG_SARIF=""
FLAG_FORMAT="" # text · github; empty: github when GITHUB_ACTIONS=true

flags_usage() {
  cat <<'USAGE'
usage: spot_train.sh [--preflight-only | --smoke-only | --full-only] [options]

  --preflight-only        boot, bootstrap, deps, probe; bring back the readiness artifact; never train
  --smoke-only            run the smoke step after the probe, not full training
  --full-only             run full training without the smoke step
                          (no mode flag: smoke, then full training)
  --transport local|ssm   where steps run (default: TRANSPORT in the config)
  --config FILE           the project's config (default: workflow.env at the repo root, the reference,
                          which names no project; make preflight uses examples/predictor/workflow.env)
  --run-id ID             run id (default: generated)
  --instance-id ID        ssm: attach to this running instance; never launch or terminate it
  --require-preflight P   refuse to train unless artifact P verifies (exit 6)
  --plan                  ssm: prove the launch with read-only calls and DryRun, launch nothing
                          (exit 0 it would proceed, 1 it would not); every ssm run does this first
  --skip-plan             ssm: launch without the plan (emergencies; recorded in run.json)
  --sfn-task-token TOKEN  report the outcome to Step Functions (also SFN_TASK_TOKEN)
  --keep                  leave the sandbox / instance for debugging
  --json                  print the final summary as JSON on stdout
  --junit PATH            write the steps and checks as JUnit XML to PATH (on this machine)
  --sarif PATH            write the lint findings as SARIF 2.1.0 to PATH (on this machine)
  --format text|github    github: failures and lint findings as workflow commands, a table in
                          $GITHUB_STEP_SUMMARY (default github when GITHUB_ACTIONS=true)
  -h, --help              this help

exit codes: 0 ready · 1 checks failed · 2 usage/config · 3 no spot capacity · 4 unreachable
            5 step failed or timed out · 6 artifact missing or corrupt · 7 teardown not confirmed
            8 spot instance reclaimed · 130/143 interrupted
USAGE
}

# flags_value NAME "$@" — the value of --name VALUE or --name=VALUE; exits 2 if missing.
flags_value() {
  local name="$1" arg="$2" next="${3-}" has_next="$4"
  if [[ "$arg" == *=* ]]; then
    printf '%s' "${arg#*=}"
  elif [[ "$has_next" == 1 && "$next" != --* && -n "$next" ]]; then
    printf '%s' "$next"
  else
    die 2 "missing value for $name (see --help)"
  fi
}

FLAG_CONFLICT=""

# flags_mode MODE — conflicts are judged after all flags are read: with --preflight-only anywhere on
# the line, the other mode flags are irrelevant whatever their order.
flags_mode() {
  local mode="$1"
  if [[ "$mode" == preflight-only ]]; then
    FLAG_PREFLIGHT_ONLY=1
    return 0
  fi
  [[ -n "$FLAG_MODE" && "$FLAG_MODE" != "$mode" ]] && FLAG_CONFLICT="--$mode conflicts with --$FLAG_MODE"
  FLAG_MODE="$mode"
}

flags_parse() {
  local arg name value has_next
  while (($#)); do
    arg="$1" name="${1%%=*}" has_next=0
    (($# > 1)) && has_next=1
    case "$name" in
      -h | --help) flags_usage; exit 0 ;;
      --preflight-only | --smoke-only | --full-only) [[ "$arg" == "$name" ]] || die 2 "$name takes no value"
        flags_mode "${name#--}" ;;
      --keep) FLAG_KEEP=1 ;;
      --plan) FLAG_PLAN=1 ;;
      --skip-plan) FLAG_SKIP_PLAN=1 ;;
      --json) FLAG_JSON=1 ;;
      --transport | --config | --run-id | --instance-id | --sfn-task-token | --require-preflight | --junit | --sarif | \
        --format)
        value="$(flags_value "$name" "$arg" "${2-}" "$has_next")" || exit 2
        [[ "$arg" == *=* ]] || shift
        flags_set "$name" "$value" ;;
      *) die 2 "unknown flag: $arg (see --help)" ;;
    esac
    shift
  done
  # Preflight-only is sticky: whatever else was said, the mode stays preflight-only.
  if ((FLAG_PREFLIGHT_ONLY)); then
    FLAG_MODE=preflight-only
  elif [[ -n "$FLAG_CONFLICT" ]]; then
    die 2 "$FLAG_CONFLICT"
  fi
  FLAG_MODE="${FLAG_MODE:-full}"
}

flags_set() {
  local name="$1" value="$2"
  case "$name" in
    --transport) [[ "$value" == local || "$value" == ssm ]] || die 2 "--transport: expected local or ssm, got '$value'"
      FLAG_TRANSPORT="$value" ;;
    --config) FLAG_CONFIG="$value" ;;
    --run-id) [[ "$value" =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$ ]] ||
        die 2 "--run-id: use 1-64 of A-Z a-z 0-9 . _ -, not starting with - or ."
      [[ "$value" != latest && "$value" != latest-ready ]] || die 2 "--run-id: '$value' is reserved (a results link)"
      FLAG_RUN_ID="$value" ;;
    --instance-id) FLAG_INSTANCE_ID="$value" ;;
    --sfn-task-token) FLAG_SFN_TOKEN="$value" ;;
    --require-preflight) FLAG_REQUIRE_PREFLIGHT="$value" ;;
    --junit) FLAG_JUNIT="$(flags_absolute "$value")" ;;
    --sarif) FLAG_SARIF="$(flags_absolute "$value")" ;;
    --format) [[ "$value" == text || "$value" == github ]] || die 2 "--format: expected text or github, got '$value'"
      FLAG_FORMAT="$value" ;;
  esac
}

# flags_absolute PATH — a report path the user named, relative to where they ran the command.
flags_absolute() {
  if [[ "$1" == /* ]]; then printf '%s' "$1"; else printf '%s/%s' "$PWD" "$1"; fi
}
