#!/usr/bin/env bash
# Runs a command with the real stack up: starts what is not running, runs the command,
# then stops only what this call started, and exits with the command's status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_dir=${SEXTANT_RUN:-${SEXTANT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sextant}/run}

bash "$here/up.sh"
started=$(cat "$run_dir/started" 2>/dev/null || true)
stop_started() { [ -z "$started" ] || bash "$here/down.sh" $started; }
trap stop_started EXIT

export SEXTANT_PROMETHEUS_URL=${SEXTANT_PROMETHEUS_URL:-http://127.0.0.1:19090}
export SEXTANT_OPENSEARCH_URL=${SEXTANT_OPENSEARCH_URL:-http://127.0.0.1:19200}
export SEXTANT_JAEGER_URL=${SEXTANT_JAEGER_URL:-http://127.0.0.1:16686}
"$@"
