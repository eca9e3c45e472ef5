# shellcheck shell=bash
# bootstrap: work dir, the training project, the two venvs — the probe's own tool venv and the
# project's — and the environment every later step gets.
work="$PF_HOST_DIR/work"
project="$work/project"
venv="$PF_IMAGE_DIR/venvs/$PROJECT_NAME"
mkdir -p "$work" "$PF_HOST_DIR/home" "$PF_IMAGE_DIR/cache"
rm -rf "$project" "$work/tool"
if [[ -n "${REPO_URL:-}" ]]; then
  echo "cloning $REPO_URL at $REPO_REF"
  git clone --quiet --depth 1 --branch "$REPO_REF" "$REPO_URL" "$project"
else
  echo "copying project from $PF_PROJECT_SRC"
  cp -a "$PF_PROJECT_SRC" "$project"
fi
mkdir -p "$work/tool"
cp -a "$PF_TOOL_SRC/preflight" "$work/tool/preflight"
python_bin="${PF_PYTHON:-$PYTHON}"
# Both venvs use this interpreter: Python 3.9 is the oldest the probe supports (Amazon Linux 2023's python3).
py_version="$("$python_bin" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" ||
  { echo "bootstrap: PYTHON=$python_bin does not run on this host" >&2; exit 1; }
echo "bootstrap: interpreter $(command -v "$python_bin" || printf '%s' "$python_bin"), Python $py_version"
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  { echo "bootstrap: Python $py_version is below 3.9, the oldest the probe supports; set PYTHON to a newer interpreter" >&2; exit 1; }
python_exe="$("$python_bin" -c 'import os, sys; print(os.path.realpath(sys.executable))')"
# Caches live in the image directory, so a warm image (a baked AMI) skips downloads. uv uses its own
# bundled CA roots unless told otherwise; the system store is what a TLS-inspecting proxy adds its CA
# to, as pip's does (UV_NATIVE_TLS is the older uv's name for it).
# Every later step gets the same settings through step.env.
installer_env=("PIP_CACHE_DIR=$PF_IMAGE_DIR/cache/pip" "UV_CACHE_DIR=$PF_IMAGE_DIR/cache/uv" UV_SYSTEM_CERTS=1
  UV_NATIVE_TLS=1 UV_PYTHON_DOWNLOADS=never)
export "${installer_env[@]}"
installer="$("$python_bin" "$work/tool/preflight/pyrun/run_module.py" preflight.installer --choice "${DEPS_INSTALLER:-auto}" \
  --image "$PF_IMAGE_DIR" --python "$python_bin")" || exit 1
uv=""
if [[ "$installer" == "uv "* ]]; then
  uv="${installer#uv }"
  echo "bootstrap: deps installer uv $("$uv" --version | cut -d' ' -f2) at $uv"
else
  echo "bootstrap: deps installer pip (${installer#pip })"
fi

# make_venv DIR SEED — an empty venv at DIR with the chosen installer, built in its final place (its
# scripts and activate files name that path; a venv built elsewhere and renamed would send
# `source bin/activate` to a directory that is gone). SEED=1: with exactly what `python -m venv` puts
# there (the interpreter's bundled pip and, below 3.12, setuptools), so a uv-built venv is the same
# normal venv and every remediation's `python -m pip` works. uv compiles bytecode at install, as pip does.
make_venv() {
  local dir="$1" seed="$2" wheels
  rm -rf "$dir"
  if [[ -z "$uv" ]]; then
    "$python_bin" -m venv "$dir"
    return
  fi
  "$uv" venv --quiet --python "$python_exe" "$dir"
  ((seed)) || return 0
  # By uv in a fraction of ensurepip's time; ensurepip itself where the interpreter bundles no wheels
  # (Debian's python3 keeps them elsewhere).
  wheels=("$("$dir/bin/python" -c 'import ensurepip, os; print(os.path.dirname(ensurepip.__file__))')"/_bundled/*.whl)
  if [[ -f "${wheels[0]}" ]]; then
    "$uv" pip install --quiet --compile-bytecode --python "$dir/bin/python" "${wheels[@]}"
  else
    "$dir/bin/python" -m ensurepip --default-pip >/dev/null
  fi
}

# tool_venv — the probe's own venv (preflight/probe-requirements.txt: boto3, arcticdb, jsonschema …),
# so that nothing of ours lands in the project venv. Cached in the image per requirements and
# interpreter, built in place under its lock and usable only once its marker exists.
tool_venv() {
  local requirements="$work/tool/preflight/probe-requirements.txt" key dir
  key="$({ cat "$requirements"; "$python_bin" -c 'import sys; print(sys.version)'; echo "$python_exe"; } |
    sha256sum | cut -c1-16)"
  dir="$PF_IMAGE_DIR/tools/probe-$key"
  pf_lock_venv "$dir"
  if [[ -f "$dir/.preflight-venv-complete" ]]; then
    echo "reusing tool venv $dir"
  else
    [[ -e "$dir" ]] && echo "rebuilding tool venv $dir: an earlier build did not finish"
    echo "creating tool venv $dir (the probe's own packages) with $python_bin"
    make_venv "$dir" 0
    if [[ -n "$uv" ]]; then
      "$uv" pip install --quiet --compile-bytecode --python "$dir/bin/python" -r "$requirements"
    else
      "$dir/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
    fi || { echo "bootstrap: the probe's own requirements did not install into $dir (above)" >&2; exit 1; }
    touch "$dir/.preflight-venv-complete"
  fi
  pf_unlock_venv
  tool_python="$dir/bin/python"
}

# project_venv — the project's venv, empty until deps fills it with REQUIREMENTS_FILE and nothing else.
# Its marker says so; a venv from before the two venvs also holds the probe's packages: rebuilt.
project_venv() {
  local marker="$venv/.preflight-venv-complete" layout="project requirements only"
  pf_lock_venv "$venv"
  if [[ -f "$marker" && "$(<"$marker")" == "$layout" ]]; then
    echo "reusing venv $venv"
    return
  fi
  if [[ -f "$marker" ]]; then
    echo "rebuilding venv $venv: an older preflight installed the probe's own packages into it"
  elif [[ -e "$venv" ]]; then
    echo "rebuilding venv $venv: an earlier build did not finish"
  fi
  echo "creating venv $venv with $python_bin"
  make_venv "$venv" 1
  printf '%s\n' "$layout" >"$marker"
}

tool_venv
project_venv
pythonpath=""
IFS=':' read -ra parts <<<"$PROJECT_PYTHONPATH"
for part in "${parts[@]}"; do pythonpath="${pythonpath:+$pythonpath:}$project/$part"; done
rm -f "$work/step.env"
(umask 077 && : >"$work/step.env") # it may hold SECRETS: the owner's alone
cat >>"$work/step.env" <<ENV
HOME=$PF_HOST_DIR/home
XDG_CACHE_HOME=$PF_IMAGE_DIR/cache
PF_UV=$uv
PF_TOOL_PYTHON=$tool_python
AWS_REGION=$AWS_REGION
AWS_DEFAULT_REGION=$AWS_REGION
VIRTUAL_ENV=$venv
PATH=$venv/bin:$PATH
PROJECT_DIR=$project
TOOL_DIR=$work/tool
PYTHONPATH=$pythonpath
ENV
printf '%s\n' "${installer_env[@]}" >>"$work/step.env"
# On ssm a credential never travels in the command: SECRETS names where it is, the host reads it with
# the instance role, and a PASS_ENV NAME_FILE names a file on this host. (Locally the launcher resolved
# both into the step environment already.)
passed="${PASS_ENV:-}"
if [[ "${TRANSPORT:-}" == ssm && ( -n "${SECRETS:-}" || ",${passed// /}," == *_FILE,* ) ]]; then
  "$tool_python" "$work/tool/preflight/pyrun/run_module.py" preflight.secrets --spec "${SECRETS:-}" --pass-env "${PASS_ENV:-}" \
    --required "${PREFLIGHT_REQUIRED_ENV:-}" --region "$AWS_REGION" --out "$work/step.env" --format lines --on-host ||
    { echo "bootstrap: SECRETS could not be read (above)" >&2; exit 1; }
fi
echo "bootstrap done: project $project, venv $venv, tool venv ${tool_python%/bin/python}"
