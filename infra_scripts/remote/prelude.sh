#!/usr/bin/env bash
# Prelude shipped in front of every step script (what runs ON the instance).
set -Eeuo pipefail
# Nothing outlives the step: it runs as the child of reaper.py, the subreaper of everything it starts,
# which kills what is left when it ends (a daemon that setsid'd away too) and says so in the step's output.
# Its interpreter is the launcher's own (local) or the host's python3 (ssm), never the project's PYTHON.
if [[ -z "${PF_REAPER:-}" && -f "${PF_TOOL_SRC:-}/preflight/reaper.py" ]] &&
  command -v "${PF_REAPER_PYTHON:-python3}" >/dev/null 2>&1; then
  export PF_REAPER=1
  exec "${PF_REAPER_PYTHON:-python3}" -I -S "$PF_TOOL_SRC/preflight/reaper.py" --step "${PF_STEP:-step}" -- \
    bash "$0" "$@"
fi
# The SSM agent reads some exit codes as its own (agent/plugins/pluginutil/pluginutil_unix.go,
# runpluginutil.go): 194 reboots the host, 168 means Success, 137 means "I killed it at
# executionTimeout" (TimedOut). A step's own 137 is a SIGKILLed child, most often the OOM killer:
# report it as 86 so it reads as a kill, not a timeout. 8 is the run's "spot instance reclaimed".
pf_exit_code() {
  local rc="$1"
  case "$rc" in
    194 | 168) echo "step exited $rc (an SSM agent control code); reporting 1" >&2; exit 1 ;;
    8) echo "step exited 8 (reserved: the spot instance was reclaimed); reporting 1" >&2; exit 1 ;;
    137) echo "step exited 137: a process was killed by SIGKILL (out of memory?); reporting 86" >&2; exit 86 ;;
  esac
}
trap 'pf_exit_code "$?"' EXIT

# The variables bootstrap exported for every later step: KEY=VALUE lines, read as data.
pf_load_step_env() {
  local file="$PF_HOST_DIR/work/step.env" key value
  [[ -f "$file" ]] || { echo "bootstrap has not run: $file missing" >&2; exit 5; }
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$key=$value"
  done <"$file"
}

# pf_run_cmd CMD — a configured command, split into words; no shell evaluation of config values.
pf_run_cmd() {
  local -a argv=()
  read -ra argv <<<"$1"
  ((${#argv[@]})) || { echo "empty command" >&2; exit 2; }
  "${argv[@]}"
}

# pf_lock_venv VENV — hold VENV's lock until this step ends or pf_unlock_venv. Every run of a project
# shares its venv, and every run on one interpreter the tool venv (the warm image); building or
# installing into one is one run at a time. One venv lock at a time.
pf_lock_venv() {
  local lock="$1.lock"
  mkdir -p "$(dirname "$1")"
  exec 9>"$lock"
  if ! flock -n 9; then
    echo "waiting for another run that holds $lock"
    flock 9
  fi
}

pf_unlock_venv() {
  exec 9>&-
}
