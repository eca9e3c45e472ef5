# shellcheck shell=bash
# preflight_all.sh's moving parts: one wrapper per project around its own spot_train.sh run, output
# prefixed with the project name, signals forwarded, orphans of a killed run cleaned up. Data (the
# manifest, the fleet plan, the summary) lives in preflight/fleet.

FLEET_DIR=""
STOP_SIGNAL=""
FLEET_PLAN_PID=""
F_SIGNALLED=0 # how many of F_WRAPPER were told to stop
declare -ga F_PROJECT=() F_TRANSPORT=() F_REGION=() F_CONFIG=() F_RUN=() F_WRAPPER=()

fleet_die() {
  local code="$1"
  shift
  log "preflight_all: $*"
  exit "$code"
}

fleet_python() {
  if [[ -n "${PREFLIGHT_PYTHON:-}" ]]; then
    printf '%s' "$PREFLIGHT_PYTHON"
  elif [[ -x "$ROOT/.venv/bin/python" ]]; then
    printf '%s' "$ROOT/.venv/bin/python"
  else
    printf 'python3'
  fi
}

fleet_py() {
  py_module preflight.fleet "$@"
}

fleet_now() {
  printf '%s' "${EPOCHREALTIME/,/.}"
}

fleet_elapsed() {
  awk -v a="$1" -v b="$(fleet_now)" 'BEGIN { printf "%.1f", b - a }'
}

# fleet_read_manifest TEXT — the checked configs, one tab-separated line each, into the F_* arrays.
fleet_read_manifest() {
  local project transport region config run_id
  while IFS=$'\t' read -r project transport region config run_id; do
    [[ -n "$project" ]] || continue
    F_PROJECT+=("$project") F_TRANSPORT+=("$transport") F_REGION+=("$region") F_CONFIG+=("$config")
    F_RUN+=("$run_id")
  done <<<"$1"
}

# fleet_wait_pid PID — its exit status, however many trapped signals interrupt the wait.
fleet_wait_pid() {
  local pid="$1" rc
  while :; do
    rc=0
    wait "$pid" || rc=$?
    kill -0 "$pid" 2>/dev/null || return "$rc"
  done
}

# fleet_prefix PROJECT LOG — every line of a run's output, prefixed with its project, to stderr and LOG.
# It ignores INT/TERM: it must outlive its run's cleanup, whose lines would otherwise hit a closed pipe.
fleet_prefix() {
  local project="$1" log="$2" line
  trap '' INT TERM
  while IFS= read -r line || [[ -n "$line" ]]; do
    printf '%s\n' "$line" >>"$log"
    printf '[%s] %s\n' "$project" "$line" >&2
  done
}

# fleet_drain PID — let a prefixer print what is left (a killed run's leftovers may hold its pipe: 5 s).
fleet_drain() {
  local pid="$1" tries=50
  while kill -0 "$pid" 2>/dev/null && ((tries-- > 0)); do
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# fleet_child I — the wrapper of project I: its own spot_train.sh run, output prefixed, exit code and
# wall time recorded in exits/<project>. USR1 (preflight_all stopping) becomes TERM to the run, which
# tears its host down; a TERM to the whole process group reaches the run directly, so the wrapper
# only survives it. A run that died of a signal it cannot trap left orphans: cleaned up here.
fleet_child() {
  local i="$1" pid="" stop=0 rc=0 started prefix_pid fifo
  local project="${F_PROJECT[$1]}"
  local -a flags=()
  trap 'stop=1; [[ -z "$pid" ]] || kill -TERM "$pid" 2>/dev/null || true' USR1
  trap ':' TERM
  [[ ! -e "$FLEET_DIR/stop" ]] || return 0 # told before the trap above existed (USR1 is ignored until then)
  [[ -n "$ALL_TRANSPORT" ]] && flags=(--transport "$ALL_TRANSPORT")
  fifo="$FLEET_DIR/pipes/$project"
  mkfifo "$fifo"
  fleet_prefix "$project" "$FLEET_DIR/logs/$project.log" <"$fifo" &
  prefix_pid=$!
  started="$(fleet_now)"
  "$ROOT/infra_scripts/spot_train.sh" --preflight-only --config "${F_CONFIG[$i]}" --run-id "${F_RUN[$i]}" \
    "${flags[@]}" </dev/null >"$fifo" 2>&1 &
  pid=$!
  ((stop == 0)) || kill -TERM "$pid" 2>/dev/null || true
  fleet_wait_pid "$pid" || rc=$?
  if ((rc > 128 && rc != 130 && rc != 143)); then
    fleet_orphans "$i" "$rc" || rc=7
  fi
  printf '%s\t%s\n' "$rc" "$(fleet_elapsed "$started")" >"$FLEET_DIR/exits/.$project"
  mv -f "$FLEET_DIR/exits/.$project" "$FLEET_DIR/exits/$project"
  fleet_drain "$prefix_pid"
  rm -f "$fifo"
}

# fleet_orphans I RC — a run killed by a signal it could not trap ran no teardown: terminate its
# instance by its RunId tag (ssm; the watchdog is the net under this too) or stop its sandbox's step
# (local). Fails only when a termination was not confirmed.
fleet_orphans() {
  local i="$1" rc="$2" host pgid
  log "preflight_all: ${F_PROJECT[$i]}: its run died of signal $((rc - 128)); cleaning up after it"
  if [[ "${F_TRANSPORT[$i]}" == ssm ]]; then
    py_module preflight.aws terminate --region "${F_REGION[$i]}" --run-id "${F_RUN[$i]}" \
      --deadline 180 >&2 || { log "preflight_all: ${F_PROJECT[$i]}: TERMINATION NOT CONFIRMED for run ${F_RUN[$i]}"; return 1; }
    return 0
  fi
  host="$ROOT/.preflight/runs/${F_RUN[$i]}/host"
  if [[ -f "$host/.step.pid" ]]; then
    pgid="$(<"$host/.step.pid")"
    kill -TERM -- "-$pgid" 2>/dev/null || true
    fleet_drain_group "$pgid"
  fi
  rm -rf "${host%/host}"
}

# fleet_drain_group PGID — up to 5 s for a process group to go, then KILL it.
fleet_drain_group() {
  local pgid="$1" tries=50
  while kill -0 -- "-$pgid" 2>/dev/null && ((tries-- > 0)); do
    sleep 0.1
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}

# fleet_signal SIG — stop launching; every started project's run gets TERM (once) and tears down.
fleet_signal() {
  [[ -n "$STOP_SIGNAL" ]] || log "preflight_all: SIG$1: stopping every project's run (each tears its own host down)"
  STOP_SIGNAL="${STOP_SIGNAL:-$1}"
  [[ -z "$FLEET_PLAN_PID" ]] || kill -TERM "$FLEET_PLAN_PID" 2>/dev/null || true
  fleet_stop_started
}

# fleet_stop_started — USR1 to every wrapper not yet told (a second signal tells no run twice).
fleet_stop_started() {
  : >"$FLEET_DIR/stop"
  while ((F_SIGNALLED < ${#F_WRAPPER[@]})); do
    kill -USR1 "${F_WRAPPER[$F_SIGNALLED]}" 2>/dev/null || true
    F_SIGNALLED=$((F_SIGNALLED + 1))
  done
}

# fleet_schedule CONCURRENCY — start the projects in order, at most CONCURRENCY at once, until all
# have ended or a signal stopped the launching.
fleet_schedule() {
  local limit="$1" next=0 pid
  local -a running=()
  while ((next < ${#F_PROJECT[@]})) && [[ -z "$STOP_SIGNAL" ]]; do
    if ((${#running[@]} >= limit)); then
      wait -n "${running[@]}" 2>/dev/null || true
      running=()
      for pid in "${F_WRAPPER[@]}"; do kill -0 "$pid" 2>/dev/null && running+=("$pid"); done
      continue
    fi
    fleet_child "$next" &
    F_WRAPPER+=("$!")
    running+=("$!")
    next=$((next + 1))
  done
  [[ -z "$STOP_SIGNAL" ]] || fleet_stop_started # a wrapper forked as the signal came
  fleet_wait_all
}

fleet_wait_all() {
  local pid
  for pid in "${F_WRAPPER[@]}"; do
    fleet_wait_pid "$pid" || true
  done
}
