#!/usr/bin/env bats
# The project venv is shared by every run of a project (the warm image, like a baked AMI): it is
# built under a lock, completed with a marker, and a venv without the marker is rebuilt.

load helpers

setup() {
  make_repo_copy
  seed_demo
  # A project name of its own: a new venv in the shared image (warm pip cache), removed afterwards.
  export PROJECT_NAME="venv-test-$$"
  VENV="$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME"
}

teardown() {
  rm -rf "$VENV" "$VENV".*
}

@test "a half-built venv is rebuilt and two first runs at once both end READY" {
  # What an interrupted `python -m venv` leaves: a python that exists but is not a working venv.
  mkdir -p "$VENV/bin"
  printf '#!/bin/sh\nexit 1\n' >"$VENV/bin/python"
  chmod +x "$VENV/bin/python"
  spot --preflight-only --run-id venv-a >"$BATS_TEST_TMPDIR/a.out" 2>&1 &
  local a=$!
  spot --preflight-only --run-id venv-b >"$BATS_TEST_TMPDIR/b.out" 2>&1 &
  local b=$! rc_a=0 rc_b=0
  wait "$a" || rc_a=$?
  wait "$b" || rc_b=$?
  [ "$rc_a" -eq 0 ]
  [ "$rc_b" -eq 0 ]
  grep -q "rebuilding" "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out"
  [ -f "$VENV/.preflight-venv-complete" ]

  # Issue 12 item 4: a pin that drifts in the cached venv heals although requirements.txt is unchanged.
  "$VENV/bin/python" -m pip uninstall --yes --quiet boto3
  run spot --preflight-only --run-id venv-drift
  [ "$status" -eq 0 ]
  [[ "$output" == *"drift: boto3: pinned ==1.44.5, not installed"* ]]
  [[ "$output" == *"drifted from them (above); reinstalling"* ]]
  "$VENV/bin/python" -c 'import boto3'
}

# private_image — an image of this test's own whose caches are the shared ones: breaking its tool venv
# cannot touch the runs of other bats files going on at the same time.
private_image() {
  local shared="$PREFLIGHT_IMAGE_DIR"
  export PREFLIGHT_IMAGE_DIR="$BATS_TEST_TMPDIR/image"
  mkdir -p "$PREFLIGHT_IMAGE_DIR/tools"
  ln -s "$shared/cache" "$PREFLIGHT_IMAGE_DIR/cache"
  [[ -d "$shared/tools/uv" ]] && ln -s "$shared/tools/uv" "$PREFLIGHT_IMAGE_DIR/tools/uv"
  VENV="$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME"
}

@test "a venv an older preflight filled with the probe's packages is rebuilt; so is a half-built tool venv" {
  private_image
  run spot --preflight-only --run-id venv-old
  [ "$status" -eq 0 ]
  local tool
  tool="$(sed -n 's/^.*tool venv \(.*\)$/\1/p' <<<"$output" | grep -v ' ' | tail -n 1)"
  [ -x "$tool/bin/python" ]
  # Before the two venvs: an empty marker, and the probe's packages (here one) installed beside the project's.
  : >"$VENV/.preflight-venv-complete"
  mkdir "$VENV/lib/jsonschema-4.26.0.dist-info"
  rm "$tool/.preflight-venv-complete"
  run spot --preflight-only --run-id venv-new
  [ "$status" -eq 0 ]
  [[ "$output" == *"rebuilding venv $VENV: an older preflight installed the probe's own packages into it"* ]]
  [[ "$output" == *"rebuilding tool venv $tool: an earlier build did not finish"* ]]
  [ ! -e "$VENV/lib/jsonschema-4.26.0.dist-info" ]
  [ -f "$tool/.preflight-venv-complete" ]
  # Compiled at install time: a module the probe never imports has its bytecode already.
  compgen -G "$tool/lib/python*/site-packages/boto3/dynamodb/__pycache__/conditions.*.pyc"
}
