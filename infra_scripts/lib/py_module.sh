# shellcheck shell=bash
# py_module MODULE ARGS — the tool's `python -m MODULE ARGS` on the launcher's Python ($PF_PY), with the
# tool first on sys.path and neither the working directory nor the user's PYTHONPATH: a training
# repository's own preflight.py or logging.py where the user stands must not replace the tool's
# (preflight/pyrun/run_module.py), nor reach what the tool starts.
PY_RUNNER="$ROOT/preflight/pyrun/run_module.py" # for a caller that puts setsid or timeout in front of it

py_module() {
  PYTHONPATH="$ROOT" "$PF_PY" "$PY_RUNNER" "$@"
}
