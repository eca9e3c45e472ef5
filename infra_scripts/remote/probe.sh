# shellcheck shell=bash
# probe: prove readiness; the artifact comes back framed in this step's output. The probe runs in its
# own tool venv; its checks that must see the project's world run on the project venv's Python.
pf_load_step_env
cd "$PROJECT_DIR" || exit 5
export PREFLIGHT_PROJECT_PYTHON="$VIRTUAL_ENV/bin/python"
# The launcher's lint facts (lib/lint_seed.sh): locally copied in, on ssm unpacked with the payload.
for seed in "$PF_HOST_DIR/lint-seed.json" "$PF_HOST_DIR/payload/lint-seed.json"; do
  if [[ -f "$seed" ]]; then
    export PREFLIGHT_LINT_SEED="$seed"
    break
  fi
done
# The tool starts from its own folder (run_module.py), never from PYTHONPATH: that is the project's.
"$PF_TOOL_PYTHON" "$TOOL_DIR/preflight/pyrun/run_module.py" preflight probe --emit-framed \
  --run-id "$PREFLIGHT_RUN_ID" --mode "$PREFLIGHT_MODE" --out "$PF_HOST_DIR/preflight-readiness.json"
