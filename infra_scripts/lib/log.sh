# shellcheck shell=bash
# People read stderr; with --json, stdout carries only the final JSON summary.

log_color_on() {
  [[ -t 2 && -z "${NO_COLOR+x}" && "${TERM:-}" != dumb ]]
}

log_paint() {
  local code="$1" text="$2"
  if log_color_on; then printf '\033[%sm%s\033[0m' "$code" "$text"; else printf '%s' "$text"; fi
}

log() {
  printf '%s\n' "$*" >&2
}

log_ok() {
  log "$(log_paint 32 "$1")${2:+ $2}"
}

log_fail() {
  log "$(log_paint 31 "$1")${2:+ $2}"
}

# die CODE MESSAGE — for usage and config errors, before anything exists to clean up.
die() {
  local code="$1"
  shift
  log "spot_train: $*"
  exit "$code"
}

# log_tail FILE — the last 40 lines of a step log, indented.
log_tail() {
  local file="$1"
  [[ -f "$file" ]] || return 0
  log "  --- last 40 lines of $file ---"
  tail -n 40 "$file" | log_unframed | sed 's/^/  | /' >&2
}

# log_unframed — step output for people: the framed artifact is machine data, shown as one line.
log_unframed() {
  awk '/^-----BEGIN PREFLIGHT READINESS-----$/ { skip = 1; next }
       skip && /^-----END PREFLIGHT READINESS/ { skip = 0; print "(readiness artifact received)"; next }
       !skip { print; fflush() }'
}
