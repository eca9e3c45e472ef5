#!/usr/bin/env bats
# Issue 23 class 1: the deps step installs from the project copy only. `-e .` (and every other relative
# path in the requirements) resolves against the working directory: it must be the project copy, never
# the directory spot_train.sh was started from.

REMOTE="$BATS_TEST_DIRNAME/../../infra_scripts/remote"

@test "deps installs with the project copy as its working directory" {
  local host="$BATS_TEST_TMPDIR/host" venv="$BATS_TEST_TMPDIR/venv" project="$BATS_TEST_TMPDIR/host/work/project"
  mkdir -p "$host/work/tool/preflight" "$project" "$venv/bin" "$BATS_TEST_TMPDIR/caller"
  printf -- '-e .\n' >"$project/requirements.txt"
  : >"$host/work/tool/preflight/probe-requirements.txt"
  # The venv's python records where pip was asked to install from, and installs nothing.
  # shellcheck disable=SC2016  # $PWD is the fake python's own
  printf '#!/bin/sh\nprintf "%%s\\n" "$PWD" >>"%s/cwd"\n' "$BATS_TEST_TMPDIR" >"$venv/bin/python"
  chmod +x "$venv/bin/python"
  printf '%s\n' "PROJECT_DIR=$project" "TOOL_DIR=$host/work/tool" "VIRTUAL_ENV=$venv" "PATH=$venv/bin:/usr/bin:/bin" \
    "PF_UV=" >"$host/work/step.env"
  cat "$REMOTE/prelude.sh" "$REMOTE/deps.sh" >"$BATS_TEST_TMPDIR/deps.sh"
  cd "$BATS_TEST_TMPDIR/caller"
  run env -i PATH=/usr/bin:/bin PF_HOST_DIR="$host" REQUIREMENTS_FILE=requirements.txt bash "$BATS_TEST_TMPDIR/deps.sh"
  [ "$status" -eq 0 ]
  [ -s "$BATS_TEST_TMPDIR/cwd" ]
  run grep -vxF "$project" "$BATS_TEST_TMPDIR/cwd"  # every install ran in the project copy
  [ "$status" -eq 1 ]
}
