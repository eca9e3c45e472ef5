# shellcheck shell=bash
# smoke: a short real run of the training code.
pf_load_step_env
cd "$PROJECT_DIR" || exit 5
pf_run_cmd "$SMOKE_CMD"
