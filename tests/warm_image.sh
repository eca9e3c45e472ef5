#!/usr/bin/env bash
# tests/warm_image.sh — one preflight run of the example project on the suites' shared image
# (.preflight/test-image) before they start, as a baked AMI would be warm. On a cold image every suite's
# first run queued on the same venv locks and then probed at the same moment: a burst of a dozen probes on
# two cores. Runs in a copy of the tool; writes nothing in the checkout outside .preflight/test-image.
set -Eeuo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${1:?usage: tests/warm_image.sh PYTHON}"
work="$(mktemp -d "${TMPDIR:-/tmp}/warm-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp -a "$root/infra_scripts" "$root/preflight" "$root/examples" "$root/workflow.env" "$work/"
config="$work/examples/predictor/workflow.env"
(cd "$work" && PYTHONPATH="$work" "$python" -m preflight demo-seed --config "$config" >/dev/null)
# Not a CI job's own report: the summary and annotations are the suites' (as tests/bats/helpers.bash does).
unset GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_WORKSPACE
echo "warming the test image: the example project's preflight run on $root/.preflight/test-image …"
started=$SECONDS
if ! PREFLIGHT_IMAGE_DIR="$root/.preflight/test-image" PREFLIGHT_PYTHON="$python" NO_COLOR=1 \
  "$work/infra_scripts/spot_train.sh" --preflight-only --config "$config" --run-id warm-image \
  </dev/null >"$work/run.log" 2>&1; then
  echo "tests/warm_image.sh: the example project's preflight run failed on the test image; its last lines:" >&2
  tail -n 30 "$work/run.log" >&2
  exit 1
fi
echo "test image warm: the example project READY on $root/.preflight/test-image in $((SECONDS - started))s"
