#!/usr/bin/env bash
# Prelude shipped in front of every step script (what runs ON the instance).
set -Eeuo pipefail
# SSM Run Command reboots the host when a script exits 194; no step may ever do that by accident.
trap 'rc=$?; if ((rc == 194)); then echo "step exited 194 (SSM reboot code); reporting 1" >&2; exit 1; fi' EXIT

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
