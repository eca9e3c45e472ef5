# shellcheck shell=bash
# deps: the project's requirements — and nothing else — into the project venv, skipped when nothing
# changed since last time. The probe's own packages are in the tool venv (bootstrap).
pf_load_step_env
# Relative paths in requirements (`-e .`, `./wheels/x.whl`) resolve against the working directory: the
# project copy, never wherever the launcher was started.
cd "$PROJECT_DIR" || exit 5
requirements="$PROJECT_DIR/$REQUIREMENTS_FILE"
[[ -f "$requirements" ]] || { echo "requirements file $requirements not found" >&2; exit 1; }
pf_lock_venv "$VIRTUAL_ENV"
want="$(sha256sum <"$requirements" | cut -d' ' -f1)"
marker="$VIRTUAL_ENV/.preflight-deps.sha256"
# An unchanged file is not enough: the venv itself may have drifted (a manual pip install, a half-done
# upgrade). The pins check, offline and in about a second, decides whether to skip: it runs in the
# tool venv and reads the project venv through the project's own interpreter.
if [[ -f "$marker" && "$(<"$marker")" == "$want" ]]; then
  if (cd "$PROJECT_DIR" && PREFLIGHT_PROJECT_PYTHON="$VIRTUAL_ENV/bin/python" \
    "$PF_TOOL_PYTHON" "$TOOL_DIR/preflight/pyrun/run_module.py" preflight.checks.pins "$requirements"); then
    echo "deps: requirements unchanged (sha256 ${want:0:12}) and installed as pinned, install skipped"
    exit 0
  fi
  echo "deps: requirements unchanged but $VIRTUAL_ENV drifted from them (above); reinstalling"
fi
if [[ -n "${PF_UV:-}" ]]; then
  echo "deps: installing $requirements into $VIRTUAL_ENV with uv"
  # --compile-bytecode: what pip does by default. Every later process (the probe's children, training)
  # then reads bytecode instead of each compiling the same modules at once on a cold host.
  "$PF_UV" pip install --quiet --compile-bytecode --python "$VIRTUAL_ENV/bin/python" -r "$requirements" || {
    echo "deps: uv could not install them (above). uv does not read pip.conf: if packages come from a private" \
      "index, pass UV_INDEX_URL / UV_EXTRA_INDEX_URL through PASS_ENV, or set DEPS_INSTALLER=pip" >&2
    exit 1
  }
else
  echo "deps: installing $requirements into $VIRTUAL_ENV with pip"
  # An old pip may not match an extra's spelling (flow_doctor vs flow-doctor) and silently skip it.
  python -m pip install --disable-pip-version-check --quiet --upgrade pip
  python -m pip install --disable-pip-version-check --quiet -r "$requirements"
fi
printf '%s\n' "$want" >"$marker"
echo "deps: installed, marker ${want:0:12}"
