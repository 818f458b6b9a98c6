#!/usr/bin/env bash
# Runs a command with the real stack up: starts what is not running, runs the command,
# then stops only what this call started, and exits with the command's status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

bash "$here/up.sh"
started=$(cat "$RUN/started" 2>/dev/null || true)
stop_started() { [ -z "$started" ] || bash "$here/down.sh" $started; }
trap stop_started EXIT

while IFS='=' read -r name value; do
  export "$name=${!name:-$value}"  # an address already set wins
done < <(stack_urls)
"$@"
