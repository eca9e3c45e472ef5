# shellcheck shell=bash
# train: the real training run.
pf_load_step_env
cd "$PROJECT_DIR" || exit 5
pf_run_cmd "$TRAIN_CMD"
