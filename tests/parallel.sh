#!/usr/bin/env bash
# tests/parallel.sh JOBS COMMAND... — run each COMMAND (one bash command line) in the background, at most
# JOBS at a time (0: all at once). Each one's output goes to a file of its own and is printed whole,
# under a header with its exit status and wall time, as soon as it ends: outputs never mix. Exits 0
# when every command did, else 1 after naming each that failed and printing the end of its output
# again, last: a CI log cut to its head and tail still shows why. Needs only bash, flock and mktemp
# (no GNU parallel: `make test` runs on a machine that has only python3, make and git to begin with).
set -Eeuo pipefail

usage() {
  echo "usage: tests/parallel.sh JOBS COMMAND..." >&2
  exit 2
}
(($# >= 2)) && [[ "$1" =~ ^[0-9]+$ ]] || usage
max_jobs="$1"
shift
((max_jobs > 0)) || max_jobs=$#

out="$(mktemp -d "${TMPDIR:-/tmp}/parallel.XXXXXX")"
# Each command in a process group of its own (job control), so that stopping this script (Ctrl-C,
# a CI timeout's SIGTERM) stops every process the commands started, not only the commands.
set -m
cleanup() {
  local pid
  for pid in $(jobs -pr); do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_one N COMMAND — COMMAND's output into $out/N.log, its status into $out/N.rc, then the log printed
# whole while holding the print lock.
run_one() {
  local n="$1" command="$2" started=$SECONDS rc=0 verdict
  bash -c "$command" </dev/null >"$out/$n.log" 2>&1 || rc=$?
  printf '%s %s\n' "$rc" $((SECONDS - started)) >"$out/$n.rc"
  verdict="ok"
  ((rc == 0)) || verdict="FAILED (exit $rc)"
  {
    flock 9
    printf '\n==== %s: %s in %ss ====\n' "$command" "$verdict" $((SECONDS - started))
    cat "$out/$n.log"
  } 9>"$out/print.lock"
}

commands=("$@")
for n in "${!commands[@]}"; do
  while (($(jobs -pr | wc -l) >= max_jobs)); do
    wait -n || true
  done
  run_one "$n" "${commands[$n]}" &
done
wait

failed=()
TAIL_LINES=60
printf '\n==== %s commands, each one'"'"'s wall time:\n' "${#commands[@]}"
for n in "${!commands[@]}"; do
  rc=1 secs="?"
  [[ -f "$out/$n.rc" ]] && read -r rc secs <"$out/$n.rc"
  if ((rc == 0)); then
    printf '  ok         %5ss  %s\n' "$secs" "${commands[$n]}"
  else
    printf '  FAILED %3s %5ss  %s\n' "$rc" "$secs" "${commands[$n]}"
    failed+=("$n")
  fi
done
for n in ${failed[@]+"${failed[@]}"}; do # bash 4.3 calls an empty array unbound under set -u
  printf '\n==== the last %s lines of %s (FAILED):\n' "$TAIL_LINES" "${commands[$n]}"
  tail -n "$TAIL_LINES" "$out/$n.log" 2>/dev/null || true
done
((${#failed[@]} == 0)) || exit 1
