# shellcheck shell=bash
# Step Functions callback (.waitForTaskToken): success with the summary, or a typed failure.

RUN_SUMMARY=""

sfn_report() {
  local rc="$1"
  [[ -n "$FLAG_SFN_TOKEN" ]] || return 0
  PYTHONPATH="$ROOT" "$PF_PY" -m preflight.aws sfn-report --exit-code "$rc" --summary "$RUN_SUMMARY" \
    --token-env SFN_TASK_TOKEN
}
