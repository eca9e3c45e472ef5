#!/usr/bin/env bats
# DEPS_INSTALLER end to end on the local transport: uv and pip both build a READY venv with the same
# versions, `auto` falls back to pip in one line when uv cannot be had, `uv` then fails at bootstrap.

load helpers

setup_file() {
  # An index without uv: pip's constraint makes `pip install uv==…` impossible while the project's
  # own packages install as usual (the step sees PIP_CONSTRAINT through PASS_ENV).
  printf 'uv<0\n' >"$BATS_FILE_TMPDIR/no-uv.txt"
  # Venvs of their own in the shared image (warm caches), kept across this file's tests.
  export PROJECT_NAME="installer-test-$$"
}

teardown_file() {
  rm -rf "$SRC_ROOT/.preflight/test-image/venvs/$PROJECT_NAME"*
}

setup() {
  make_repo_copy
  seed_demo
}

freeze_without_pip() {
  "$1/bin/python" -m pip list --format=freeze --disable-pip-version-check | grep -v '^pip=='
}

# blocked_image — an image directory with no uv in it, sharing the pip cache and the venvs of the
# shared image: the pip install itself is the first test's, what is new here is the choice.
blocked_image() {
  local image="$BATS_TEST_TMPDIR/image"
  mkdir -p "$image/cache" "$PREFLIGHT_IMAGE_DIR/cache/pip" "$PREFLIGHT_IMAGE_DIR/venvs"
  ln -s "$PREFLIGHT_IMAGE_DIR/cache/pip" "$image/cache/pip"
  ln -s "$PREFLIGHT_IMAGE_DIR/venvs" "$image/venvs"
  # The local transport's PATH: a uv there would be used, and this test would prove nothing. (Not
  # `! command -v uv`: bats' set -e ignores a command negated with `!`, so that line could never fail.)
  if PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v uv; then
    echo "uv is on the system PATH: the fallback to pip cannot be tested here" >&2
    return 1
  fi
  export PREFLIGHT_IMAGE_DIR="$image" PIP_CONSTRAINT="$BATS_FILE_TMPDIR/no-uv.txt" PASS_ENV="$PASS_ENV,PIP_CONSTRAINT"
}

@test "DEPS_INSTALLER=uv and =pip both end READY with the same resolved versions" {
  # The two runs at once: each builds a venv of its own, so they share only the caches and the
  # test takes as long as the slower (pip), not both.
  DEPS_INSTALLER=uv PROJECT_NAME="$PROJECT_NAME-uv" spot --preflight-only --run-id inst-uv \
    >"$BATS_TEST_TMPDIR/uv.out" 2>&1 &
  local uv_pid=$!
  DEPS_INSTALLER=pip PROJECT_NAME="$PROJECT_NAME-pip" spot --preflight-only --run-id inst-pip \
    >"$BATS_TEST_TMPDIR/pip.out" 2>&1 &
  local pip_pid=$! uv_rc=0 pip_rc=0
  wait "$uv_pid" || uv_rc=$?
  wait "$pip_pid" || pip_rc=$?
  cat "$BATS_TEST_TMPDIR/uv.out" "$BATS_TEST_TMPDIR/pip.out" # bats shows this only if the test fails
  output="$(cat "$BATS_TEST_TMPDIR/uv.out")"
  [ "$uv_rc" -eq 0 ]
  [[ "$output" == *"deps installer uv "* ]]
  [[ "$output" == *"with uv"* ]]
  [[ "$output" == *"READY"* ]]
  output="$(cat "$BATS_TEST_TMPDIR/pip.out")"
  [ "$pip_rc" -eq 0 ]
  [[ "$output" == *"deps installer pip (DEPS_INSTALLER=pip)"* ]]
  [[ "$output" == *"with pip"* ]]
  [[ "$output" == *"READY"* ]]
  # Both are normal venvs whose activate scripts name their own path (built in place, not renamed)...
  grep -q "^VIRTUAL_ENV='$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-uv'$" "$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-uv/bin/activate"
  grep -q "VIRTUAL_ENV=\"\?$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-pip\"\?$" "$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-pip/bin/activate"
  # ...with pip in each and (pip's own upgrade aside) the same packages and versions.
  diff <(freeze_without_pip "$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-uv") \
    <(freeze_without_pip "$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-pip")
}

@test "auto without uv to be had falls back to pip in one line and ends READY" {
  blocked_image
  PROJECT_NAME="$PROJECT_NAME-pip" run spot --preflight-only --run-id inst-fallback
  [ "$status" -eq 0 ]
  [ "$(grep -c 'uv could not be had' <<<"$output")" -eq 1 ]
  [[ "$output" == *"so pip it is: pip install uv=="*"failed: ERROR:"* ]]
  [[ "$output" == *"READY"* ]]
  [ ! -e "$PREFLIGHT_IMAGE_DIR/tools/uv" ]
  # Run after the first test, the pip-built venv is there and unchanged; run alone, pip installs it.
  [[ "$output" == *"install skipped"* || "$output" == *"with pip"* ]]
}

@test "DEPS_INSTALLER=uv without uv to be had fails at bootstrap, naming the key, before any venv" {
  blocked_image
  DEPS_INSTALLER=uv run spot --preflight-only --run-id inst-strict
  [ "$status" -eq 5 ]
  [[ "$output" == *"bootstrap … failed, exit 1"* ]]
  [[ "$output" == *"DEPS_INSTALLER=uv but pip install uv=="*"set DEPS_INSTALLER=auto to fall back to pip"* ]]
  [ ! -e "$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME/bin" ]
}
