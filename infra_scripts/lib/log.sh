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
  EXIT_REASON="$*" # what Step Functions hears, even before a run exists
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
# A bash read loop, not awk: Debian's default mawk reads a pipe in blocks, holding a running step's
# lines back until it ends, and `read` takes one line as soon as it arrives.
log_unframed() {
  local line skip=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" == "-----BEGIN PREFLIGHT READINESS-----" ]]; then
      skip=1
    elif ((skip)) && [[ "$line" == "-----END PREFLIGHT READINESS"* ]]; then
      skip=0
      printf '%s\n' "(readiness artifact received)"
    elif ((!skip)); then
      printf '%s\n' "$line"
    fi
  done
}
