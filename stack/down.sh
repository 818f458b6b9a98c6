#!/usr/bin/env bash
# Stop the local stack by PID file (TERM, wait, then KILL); never by process name.
#   down.sh                  stop every service
#   down.sh NAME...          stop only those (prometheus alertmanager opensearch jaeger simulator)
#   down.sh --started        stop only what the last stack/up.sh started (listed in $RUN/started)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=down

selected() {
  local s
  if [[ ${1:-} == --started ]]; then
    [[ -f $RUN/started ]] && cat "$RUN/started"
    return 0
  fi
  if (($# == 0)); then
    printf '%s\n' "${SERVICES[@]}"
    return 0
  fi
  for s in "$@"; do
    is_service "$s" || die "unknown service '$s' (known: ${SERVICES[*]})"
    printf '%s\n' "$s"
  done
}

# forget SERVICE...: drop them from $RUN/started, and the loaded marker with the stores.
forget() {
  local s
  for s in "$@"; do
    if [[ -f $RUN/started ]]; then
      grep -vxF "$s" "$RUN/started" >"$RUN/started.tmp" || true
      mv "$RUN/started.tmp" "$RUN/started"
    fi
    case $s in opensearch | jaeger) rm -f "$RUN/loaded" ;; esac
  done
}

main() {
  local wanted=() stopped=() i s
  lock_stack
  mapfile -t wanted < <(selected "$@")
  # Reverse start order: the simulator first, Prometheus last.
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    s=${SERVICES[i]}
    [[ " ${wanted[*]} " == *" $s "* ]] || continue
    stop_service "$s"
    stopped+=("$s")
  done
  ((${#stopped[@]})) || { log "nothing to stop"; return 0; }
  forget "${stopped[@]}"
  log "stopped: ${stopped[*]}"
}

main "$@"
