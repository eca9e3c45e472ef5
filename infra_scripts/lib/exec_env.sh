#!/usr/bin/env bash
# exec_env.sh FILE COMMAND... — export the NUL-separated KEY=VALUE items of FILE, then exec COMMAND.
# The local transport hands a step its config and PASS_ENV values this way, never as argv: any user
# can read every process's argv (ps), only the owner can read its environment or a 0600 file.
set -Eeuo pipefail
file="$1"
shift
while IFS= read -r -d '' item; do
  [[ "${item%%=*}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && export "${item?}"
done <"$file"
exec "$@"
