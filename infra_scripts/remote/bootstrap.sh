# shellcheck shell=bash
# bootstrap: work dir, the training project, its venv, and the environment every later step gets.
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
# The probe runs in this venv: Python 3.9 is the oldest it supports (Amazon Linux 2023's python3).
py_version="$("$python_bin" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" ||
  { echo "bootstrap: PYTHON=$python_bin does not run on this host" >&2; exit 1; }
echo "bootstrap: interpreter $(command -v "$python_bin" || printf '%s' "$python_bin"), Python $py_version"
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
  { echo "bootstrap: Python $py_version is below 3.9, the oldest the probe supports; set PYTHON to a newer interpreter" >&2; exit 1; }
pf_lock_venv "$venv"
# Caches live in the image directory, so a warm image (a baked AMI) skips downloads. uv uses its own
# bundled CA roots unless told otherwise; the system store is what a TLS-inspecting proxy adds its CA
# to, as pip's does (UV_NATIVE_TLS is the older uv's name for it).
# Every later step gets the same settings through step.env.
installer_env=("PIP_CACHE_DIR=$PF_IMAGE_DIR/cache/pip" "UV_CACHE_DIR=$PF_IMAGE_DIR/cache/uv" UV_SYSTEM_CERTS=1
  UV_NATIVE_TLS=1 UV_PYTHON_DOWNLOADS=never)
export "${installer_env[@]}"
installer="$(PYTHONPATH="$work/tool" "$python_bin" -m preflight.installer --choice "${DEPS_INSTALLER:-auto}" \
  --image "$PF_IMAGE_DIR" --python "$python_bin")" || exit 1
uv=""
if [[ "$installer" == "uv "* ]]; then
  uv="${installer#uv }"
  echo "bootstrap: deps installer uv $("$uv" --version | cut -d' ' -f2) at $uv"
else
  echo "bootstrap: deps installer pip (${installer#pip })"
fi
# A venv is usable only once its marker exists; anything else is what an interrupted build left.
# It is built in its final place (its scripts and activate files name that path; a venv built
# elsewhere and renamed would send `source bin/activate` to a directory that is gone). A uv-built
# venv is seeded like one from `python -m venv`, so it is the same normal venv and every
# remediation's `python -m pip` works.
if [[ ! -f "$venv/.preflight-venv-complete" ]]; then
  [[ -e "$venv" ]] && echo "rebuilding venv $venv: an earlier build did not finish"
  echo "creating venv $venv with $python_bin"
  rm -rf "$venv"
  if [[ -n "$uv" ]]; then
    "$uv" venv --quiet --python "$("$python_bin" -c 'import sys; print(sys.executable)')" "$venv"
    # Exactly what ensurepip installs (the interpreter's bundled pip and, below 3.12, setuptools with
    # pkg_resources), by uv in a fraction of ensurepip's time; ensurepip itself where the
    # interpreter bundles no wheels (Debian's python3 keeps them elsewhere).
    wheels=("$("$venv/bin/python" -c 'import ensurepip, os; print(os.path.dirname(ensurepip.__file__))')"/_bundled/*.whl)
    if [[ -f "${wheels[0]}" ]]; then
      "$uv" pip install --quiet --python "$venv/bin/python" "${wheels[@]}"
    else
      "$venv/bin/python" -m ensurepip --default-pip >/dev/null
    fi
  else
    "$python_bin" -m venv "$venv"
  fi
  touch "$venv/.preflight-venv-complete"
else
  echo "reusing venv $venv"
fi
pythonpath=""
IFS=':' read -ra parts <<<"$PROJECT_PYTHONPATH"
for part in "${parts[@]}"; do pythonpath="${pythonpath:+$pythonpath:}$project/$part"; done
cat >"$work/step.env" <<ENV
HOME=$PF_HOST_DIR/home
XDG_CACHE_HOME=$PF_IMAGE_DIR/cache
PF_UV=$uv
AWS_REGION=$AWS_REGION
AWS_DEFAULT_REGION=$AWS_REGION
VIRTUAL_ENV=$venv
PATH=$venv/bin:$PATH
PROJECT_DIR=$project
TOOL_DIR=$work/tool
PYTHONPATH=$pythonpath
ENV
printf '%s\n' "${installer_env[@]}" >>"$work/step.env"
echo "bootstrap done: project $project, venv $venv"
