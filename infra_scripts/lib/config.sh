# shellcheck shell=bash
# The config, resolved by the one strict parser (preflight/config.py) and read back as NUL-separated
# KEY/VALUE pairs into CFG. Nothing is sourced or evaluated.

declare -gA CFG=()

# config_load FILE [KEY=VALUE ...] — overrides come from flags; exits 2 with the parser's message.
# With --plan (FLAG_PLAN) no project is required: the plan proves a launch and copies nothing.
config_load() {
  local file="$1" pairs
  shift
  local -a sets=()
  local item
  for item in "$@"; do sets+=(--set "$item"); done
  ((${FLAG_PLAN:-0})) && sets+=(--plan)
  pairs="$(mktemp)" || die 2 "cannot create a temporary file (TMPDIR=${TMPDIR:-/tmp}); nothing was run"
  if ! py_module preflight config --config "$file" --for-run "${sets[@]}" >"$pairs"; then
    rm -f "$pairs"
    exit 2
  fi
  config_read_pairs <"$pairs" || { rm -f "$pairs"; die 2 "config hand-off from preflight/config.py is damaged"; }
  rm -f "$pairs"
}

# config_read_pairs — fill CFG from KEY NUL VALUE NUL records; succeed only when the closing record
# counts exactly the pairs read, so a value can never be taken for a key or silently dropped.
config_read_pairs() {
  local key value count=0
  while IFS= read -r -d '' key && IFS= read -r -d '' value; do
    if [[ "$key" == __END__ ]]; then
      [[ "$value" == "$count" ]] && return 0
      return 1
    fi
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || return 1
    CFG["$key"]="$value"
    count=$((count + 1))
  done
  return 1
}

config_sha256() {
  sha256sum "$1" | cut -d' ' -f1
}

# config_step_env — KEY=VALUE words for a step's clean environment: the whole config plus PASS_ENV,
# and PREFLIGHT_LAUNCHER_SET: which variables the probe asks about are set in this shell but not
# passed (names only), so its message can say so.
config_step_env() {
  local key name unpassed=""
  local -a names=() asked=()
  for key in "${!CFG[@]}"; do printf '%s=%s\0' "$key" "${CFG[$key]}"; done
  IFS=',' read -ra names <<<"${CFG[PASS_ENV]}"
  for name in "${names[@]}"; do
    name="${name// /}"
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    if [[ -n "${!name+x}" ]]; then
      printf '%s=%s\0' "$name" "${!name}"
    else
      log "warning: PASS_ENV names $name, which is not set in this shell: the steps will not see it"
    fi
  done
  IFS=',' read -ra asked <<<"${CFG[PREFLIGHT_REQUIRED_ENV]},WANDB_API_KEY,HF_TOKEN"
  for name in "${asked[@]}"; do
    name="${name// /}"
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n "${!name:-}" && ",${CFG[PASS_ENV]// /}," != *",$name,"* ]] &&
      unpassed+="${unpassed:+,}$name"
  done
  printf 'PREFLIGHT_LAUNCHER_SET=%s\0' "$unpassed"
  printf 'PREFLIGHT_CONFIG_FILE=%s\0' "${CONFIG_FILE:-}"
}

# config_project_dir — REPO_DIR as an absolute path. preflight/config.py has already resolved a relative
# one (against the folder of the config file that sets it; from the environment or a flag, against the
# working directory), so a set REPO_DIR reaches CFG absolute; an empty one (REPO_URL, or --plan) is unused.
config_project_dir() {
  local dir="${CFG[REPO_DIR]}"
  [[ "$dir" == /* ]] || dir="$ROOT/$dir"
  printf '%s' "$dir"
}
