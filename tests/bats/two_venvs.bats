#!/usr/bin/env bats
# Two venvs on the host (issue 20 item 4, issue 23 item 5): after a preflight run the project venv
# holds exactly what a plain install of the project's requirements gives a fresh venv with the same
# installer; the probe's own packages live in the tool venv. Fixtures are shaped like training repos.

load helpers

setup_file() {
  # Venvs of their own in the shared image (warm caches), removed at the end.
  export PROJECT_NAME="two-venvs-$$"
  # The in-house library grpc-trainer pins to a git tag: a local repository stands in for the git server.
  export FIXTURE_GIT_ROOT="$BATS_FILE_TMPDIR/git"
  local lib="$FIXTURE_GIT_ROOT/flowlib"
  mkdir -p "$lib"
  cp -a "$SRC_ROOT/tests/fixtures/flowlib/." "$lib/"
  git -C "$lib" init --quiet
  git -C "$lib" add --all
  git -C "$lib" -c user.name=fixture -c user.email=fixture@example.invalid commit --quiet -m "flowlib 0.3.1"
  git -C "$lib" tag v0.3.1
}

teardown_file() {
  rm -rf "$SRC_ROOT/.preflight/test-image/venvs/$PROJECT_NAME"*
}

setup() {
  make_repo_copy
  seed_demo
  export PASS_ENV="$PASS_ENV,FIXTURE_GIT_ROOT"
}

# fixture_project NAME MODULE — point the run at tests/fixtures/projects/NAME, importing MODULE.
fixture_project() {
  export REPO_DIR="$SRC_ROOT/tests/fixtures/projects/$1" PREFLIGHT_IMPORTS="$2" PREFLIGHT_IMPORT_NAMES=""
  export PREFLIGHT_PROJECT_CHECKS="" TRAIN_CMD="" SMOKE_CMD=""  # these fixtures are about venvs, not an entry
}

freeze_without_pip() {
  "$1/bin/python" -m pip list --format=freeze --disable-pip-version-check | grep -v '^pip=='
}

# plain_freeze INSTALLER REQUIREMENTS — a plain install of REQUIREMENTS into a fresh venv with the
# same installer, interpreter and caches as the deps step, in as clean an environment; its freeze.
plain_freeze() {
  local venv="$BATS_TEST_TMPDIR/plain-$1" image="$PREFLIGHT_IMAGE_DIR" uv
  local -a clean=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$BATS_TEST_TMPDIR"
    PIP_CACHE_DIR="$image/cache/pip" UV_CACHE_DIR="$image/cache/uv" UV_SYSTEM_CERTS=1 UV_NATIVE_TLS=1
    UV_PYTHON_DOWNLOADS=never FIXTURE_GIT_ROOT="$FIXTURE_GIT_ROOT")
  rm -rf "$venv"
  "$PREFLIGHT_PYTHON" -m venv "$venv"
  if [[ "$1" == uv ]]; then
    uv="$(PYTHONPATH="$SRC_ROOT" "$PREFLIGHT_PYTHON" -m preflight.installer --choice uv --image "$image")"
    "${clean[@]}" "${uv#uv }" pip install --quiet --python "$venv/bin/python" -r "$2" >&2
  else  # the deps step's pip: upgraded first
    "${clean[@]}" "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip >&2
    "${clean[@]}" "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$2" >&2
  fi
  freeze_without_pip "$venv"
}

# same_as_plain PROJECT INSTALLER REQUIREMENTS — PROJECT's venv against a plain install, shown on failure.
same_as_plain() {
  freeze_without_pip "$PREFLIGHT_IMAGE_DIR/venvs/$1" >"$BATS_TEST_TMPDIR/project.txt"
  plain_freeze "$2" "$3" >"$BATS_TEST_TMPDIR/plain.txt"
  diff "$BATS_TEST_TMPDIR/plain.txt" "$BATS_TEST_TMPDIR/project.txt"
}

@test "example project, uv: the project venv is exactly a plain install of its requirements" {
  DEPS_INSTALLER=uv PROJECT_NAME="$PROJECT_NAME-example" run spot --preflight-only --run-id tv-example
  [ "$status" -eq 0 ]
  [[ "$output" == *"READY"* ]]
  same_as_plain "$PROJECT_NAME-example" uv "$REPO/examples/predictor/requirements.txt"
  # Compiled at install time, as pip does: a module nothing in the run imports has its bytecode already.
  compgen -G "$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-example/lib/python*/site-packages/boto3/dynamodb/__pycache__/conditions.*.pyc"
  # The probe's own packages are not in it (nothing the example asks for pulls jsonschema in).
  run grep -Eiq '^jsonschema==' "$BATS_TEST_TMPDIR/project.txt"
  [ "$status" -eq 1 ]
}

@test "a protobuf pin outside arcticdb's range stays as pinned (pip); unpinned names are a warning" {
  fixture_project grpc-trainer grpc_trainer
  DEPS_INSTALLER=pip PROJECT_NAME="$PROJECT_NAME-grpc" run spot --preflight-only --run-id tv-grpc
  [ "$status" -eq 0 ]
  [[ "$output" == *"PASS imports"* ]]
  [[ "$output" == *"WARN pins"*"3 of 5 requirements are unpinned: requests, tqdm, PyYAML"* ]]
  [[ "$output" == *"PASS pins.consistency"* ]]
  same_as_plain "$PROJECT_NAME-grpc" pip "$REPO_DIR/requirements.txt"
  grep -qx 'protobuf==7.36.2' "$BATS_TEST_TMPDIR/project.txt"
  grep -qx 'flowlib==0.3.1' "$BATS_TEST_TMPDIR/project.txt"
}

@test "hash-pinned requirements: pip and uv both install them; a downgrade is caught and healed" {
  fixture_project hash-pinned hashed_trainer
  local kind venv="$PREFLIGHT_IMAGE_DIR/venvs/$PROJECT_NAME-hash-uv"
  for kind in pip uv; do
    DEPS_INSTALLER="$kind" PROJECT_NAME="$PROJECT_NAME-hash-$kind" run spot --preflight-only --run-id "tv-hash-$kind"
    [ "$status" -eq 0 ]
    [[ "$output" == *"PASS pins "*"9 pins match installed versions"* ]]
  done
  same_as_plain "$PROJECT_NAME-hash-uv" uv "$REPO_DIR/requirements.txt"
  # What a manual fix-up leaves behind: the file unchanged, the venv not.
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --no-deps six==1.16.0
  DEPS_INSTALLER=uv PROJECT_NAME="$PROJECT_NAME-hash-uv" run spot --preflight-only --run-id tv-hash-drift
  [ "$status" -eq 0 ]
  [[ "$output" == *"drift: six: pinned ==1.17.0, installed 1.16.0"* ]]
  [[ "$output" == *"drifted from them (above); reinstalling"* ]]
  [ "$("$venv/bin/python" -c 'import six; print(six.__version__)')" = "1.17.0" ]
}
