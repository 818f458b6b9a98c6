#!/usr/bin/env bash
# Runs a command with the real stack up: starts what is not running, runs the command,
# then stops only what this call started, and exits with the command's status.
# With STACK_MEANWHILE set, that command (one that needs no stack) runs while the stack starts; its output
# comes first, the stack's start-up after it, and the main command runs only when both succeeded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

if [ -n "${STACK_MEANWHILE:-}" ]; then
  up_log=$(mktemp)
  bash "$here/up.sh" >"$up_log" 2>&1 &
  up_pid=$!
  meanwhile=0
  bash -c "$STACK_MEANWHILE" || meanwhile=$?
  up=0
  wait "$up_pid" || up=$?
  cat "$up_log"
  rm -f "$up_log"
else
  meanwhile=0
  up=0
  bash "$here/up.sh" || up=$?
fi
[ "$up" -eq 0 ] || { echo "with-stack: the stack did not start (exit $up)" >&2; exit "$up"; }
started=$(cat "$RUN/started" 2>/dev/null || true)
stop_started() { [ -z "$started" ] || bash "$here/down.sh" $started; }
trap stop_started EXIT
[ "$meanwhile" -eq 0 ] || exit "$meanwhile"

while IFS='=' read -r name value; do
  export "$name=${!name:-$value}"  # an address already set wins
done < <(stack_urls)
"$@"
