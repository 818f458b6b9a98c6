#!/usr/bin/env bash
# The stack's own backend processes, for `make chaos` (bench/chaos.py). Only this RUN's processes, found
# through their PID files as down.sh finds them (command line and SEXTANT_STACK_RUN checked), never by name.
#
#   control.sh address SERVICE   host:port of its HTTP API (prometheus, opensearch or jaeger)
#   control.sh pid SERVICE       its PID; fails when it does not run
#   control.sh healthy SERVICE   succeeds when it answers its health check
#   control.sh kill SERVICE      SIGKILL, and wait until it is gone
#   control.sh pause SERVICE     SIGSTOP: it keeps its port, connections are accepted and never answered
#   control.sh resume SERVICE    SIGCONT
#   control.sh restart SERVICE   start it again after it was killed, on its data as it is, and wait until it
#                                is healthy; Jaeger keeps its traces in OpenSearch and finds them again
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../up.sh
source "$(dirname "${BASH_SOURCE[0]}")/../up.sh"
LOG_TAG=chaos

address() {
  case $1 in
    prometheus) printf '%s:%s\n' "$HOST" "$PROMETHEUS_PORT" ;;
    opensearch) printf '%s:%s\n' "$HOST" "$OPENSEARCH_PORT" ;;
    jaeger) printf '%s:%s\n' "$HOST" "$JAEGER_QUERY_PORT" ;;
    *) die "not a backend: $1" ;;
  esac
}

signal() {
  local pid
  pid=$(service_pid "$2") || die "$2 does not run (no live process in $(pid_file "$2"))"
  kill "-$1" "$pid"
  printf '%s\n' "$pid"
}

kill_service() {
  local pid
  # The simulator's loader relaxes the translog's durability while loading: a node killed before it
  # syncs its translog comes back with empty indices. A flush commits them, so the kill loses nothing.
  if [[ $1 == opensearch ]]; then
    curl -fsS -X POST --max-time 60 "http://$HOST:$OPENSEARCH_PORT/_flush" >/dev/null ||
      warn "OpenSearch did not flush before the kill"
  fi
  pid=$(signal KILL "$1")
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

restart() {
  local service=$1
  lock_stack
  is_running "$service" && die "$service still runs (pid $(service_pid "$service")): not restarting it"
  case $service in
    prometheus) start_prometheus ;;
    opensearch) launch_opensearch ;;
    jaeger) start_jaeger ;;
    *) die "not a backend: $service" ;;
  esac
  # Until the new process has exec'd, its PID file names a launcher that service_pid may not recognise.
  for _ in {1..50}; do is_running "$service" && break; sleep 0.1; done
  wait_healthy "$service"
}

case ${1:-} in
  address) address "$2" ;;
  pid) service_pid "$2" && echo ;;
  healthy) healthy "$2" ;;
  kill) kill_service "$2" ;;
  pause) signal STOP "$2" >/dev/null ;;
  resume) signal CONT "$2" >/dev/null ;;
  restart) restart "$2" ;;
  *) die "usage: control.sh address|pid|healthy|kill|pause|resume|restart SERVICE" ;;
esac
