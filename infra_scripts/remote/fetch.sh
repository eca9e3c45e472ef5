#!/usr/bin/env bash
# fetch: print the readiness artifact the probe wrote (used when the probe's output was cut).
set -Eeuo pipefail
cat "$PF_HOST_DIR/preflight-readiness.json"
