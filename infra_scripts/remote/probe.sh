# shellcheck shell=bash
# probe: prove readiness; the artifact comes back framed in this step's output.
pf_load_step_env
cd "$PROJECT_DIR" || exit 5
export PYTHONPATH="$TOOL_DIR${PYTHONPATH:+:$PYTHONPATH}"
python -m preflight probe --emit-framed --run-id "$PREFLIGHT_RUN_ID" --mode "$PREFLIGHT_MODE" \
  --out "$PF_HOST_DIR/preflight-readiness.json"
