# shellcheck shell=bash
# py_module MODULE ARGS — the tool's `python -m MODULE ARGS` on the launcher's Python ($PF_PY), with the
# tool first on sys.path and never the working directory: a training repository's own preflight.py or
# logging.py in the directory the user runs from must not replace the tool's (preflight/pyrun/run_module.py).
py_module() {
  "$PF_PY" "$ROOT/preflight/pyrun/run_module.py" "$@"
}
