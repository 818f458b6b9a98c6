# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file
# Shared helpers for stack/install.sh, stack/up.sh and stack/down.sh. Source it; do not run it.
# Every setting below can be overridden from the environment.

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_DIR/.." && pwd)"
CONFIG_DIR="$STACK_DIR/config"

CACHE="${SEXTANT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sextant}"
RUN="${SEXTANT_RUN:-$CACHE/run}"
PYTHON="${SEXTANT_PYTHON:-$REPO_ROOT/.venv/bin/python}"

OPENSEARCH_VERSION=2.19.6
OPENSEARCH_HOME="$CACHE/opensearch-$OPENSEARCH_VERSION"
JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_VERSION=v1.75.0
JAEGER_BIN="$CACHE/bin/jaeger-${JAEGER_VERSION#v}"
SERVICE_USER="${SEXTANT_SERVICE_USER:-sextant}"
# The format of the data set: what the simulator serves and backfills into Prometheus and what
# `python -m stack.simulator load` writes. Recorded in $RUN/format (and in $RUN/loaded): a stack whose data
# came in another format, e.g. one started by an older checkout, is rebuilt as for another anchor or seed
# (otherwise a running simulator of the old code would be reused and serve the old series).
# data-v5: the scrape's `up` series in the backfilled history too.
# data-v4: a fifth of the traces kept on days older than 8 days; synthetic probes of every service.
# data-v3: data-v2 merged with main (the leak and controls scenarios; the unapproved export counted in
# audit_events_total). data-v2: traces sampled and kept in OpenSearch by Jaeger; logs, audit events and
# traces written ahead of the anchor too; audit_events_total and the on-call scenarios (stack/simulator/README.md).
DATA_FORMAT=data-v5

# The platform's size (stack/simulator/README.md, "Scale"): N times the demo's services, routes, client
# firms, SLOs, logs and trace fan-out; and how many days of history are backfilled and loaded (the model
# keeps its 30 days: fewer days only write less of it, for a big scale on a small machine). Part of the
# data set, as the anchor and seed are.
SCALE="${SEXTANT_SCALE:-1}"
HISTORY_DAYS="${SEXTANT_HISTORY_DAYS:-30}"
# Paths per route (model.use_scale's route_paths): more routes per service, for a platform of thousands.
ROUTE_PATHS="${SEXTANT_ROUTE_PATHS:-1}"
# The data set's size (scale, days, route paths) as recorded in $RUN/anchor's companions: empty for the
# demo's (1, 30, 1), so that a stack started before the scale existed is still the same data set.
dataset_size() {
  if [[ $1 == 1 && $2 == 30 && ${3:-1} == 1 ]]; then return 0; fi
  printf ' scale=%s days=%s' "$1" "$2"
  if [[ ${3:-1} != 1 ]]; then printf ' paths=%s' "$3"; fi
}
# The SLO definitions of a scale above 1: the shipped ones and their replicas' copies (up.sh writes them).
scaled_slo_dir() { printf '%s/slo_definitions' "$RUN"; }

HOST=127.0.0.1
PROMETHEUS_PORT="${SEXTANT_PROMETHEUS_PORT:-19090}"
ALERTMANAGER_PORT="${SEXTANT_ALERTMANAGER_PORT:-19093}"
OPENSEARCH_PORT="${SEXTANT_OPENSEARCH_PORT:-19200}"
OPENSEARCH_TRANSPORT_PORT="${SEXTANT_OPENSEARCH_TRANSPORT_PORT:-19300}"
JAEGER_QUERY_PORT="${SEXTANT_JAEGER_QUERY_PORT:-16686}"
JAEGER_QUERY_GRPC_PORT="${SEXTANT_JAEGER_QUERY_GRPC_PORT:-16685}"
OTLP_GRPC_PORT="${SEXTANT_OTLP_GRPC_PORT:-4317}"
OTLP_HTTP_PORT="${SEXTANT_OTLP_HTTP_PORT:-4318}"
JAEGER_HEALTH_PORT="${SEXTANT_JAEGER_HEALTH_PORT:-13133}"
JAEGER_METRICS_PORT="${SEXTANT_JAEGER_METRICS_PORT:-8888}"
SIMULATOR_PORT="${SEXTANT_SIMULATOR_PORT:-19100}"

# The addresses Sextant and the tests use, as VAR=value lines: the one place they are written (stack/env.sh
# prints them for the Makefile, with-stack.sh exports them, up.sh keeps them in $RUN/urls.env for Python).
stack_urls() {
  printf '%s\n' \
    "SEXTANT_PROMETHEUS_URL=http://$HOST:$PROMETHEUS_PORT" \
    "SEXTANT_OPENSEARCH_URL=http://$HOST:$OPENSEARCH_PORT" \
    "SEXTANT_JAEGER_URL=http://$HOST:$JAEGER_QUERY_PORT" \
    "SEXTANT_ALERTMANAGER_URL=http://$HOST:$ALERTMANAGER_PORT" \
    "SEXTANT_OTLP_URL=http://$HOST:$OTLP_HTTP_PORT/v1/traces" \
    "SEXTANT_JAEGER_METRICS_URL=http://$HOST:$JAEGER_METRICS_PORT/metrics" \
    "SEXTANT_SIMULATOR_URL=http://$HOST:$SIMULATOR_PORT"
  # the app reads the scale's SLOs (recorded by up.sh) from where up.sh wrote them
  if [[ $(cat "$RUN/scale" 2>/dev/null || echo 1) != 1 ]]; then
    printf '%s\n' "SEXTANT_SLO_DEFINITIONS=$(scaled_slo_dir)"
  fi
}

# Start order; down.sh stops in the reverse order.
SERVICES=(prometheus alertmanager opensearch jaeger simulator)

log() { printf '[%s] %s\n' "${LOG_TAG:-stack}" "$*" >&2; }
warn() { log "WARNING: $*"; }
die() { log "ERROR: $*"; exit 1; }

# Seconds since the epoch with microseconds, and the time elapsed since such a value.
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# timed LABEL CMD...: run CMD and print how long it took.
timed() {
  local label=$1 t0
  shift
  t0=$(now)
  "$@"
  log "$label: $(elapsed "$t0") s"
}

is_service() {
  local s
  for s in "${SERVICES[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}

pid_file() { printf '%s/pids/%s.pid' "$RUN" "$1"; }
log_file() {
  case $1 in
    opensearch) printf '%s/opensearch/logs/sextant.log' "$RUN" ;;
    *) printf '%s/logs/%s.log' "$RUN" "$1" ;;
  esac
}

# A string that the service's command line must contain, so that a PID reused by an unrelated
# process is never taken for (or killed as) ours.
cmdline_marker() {
  case $1 in
    prometheus) printf '%s' "--config.file=$RUN/prometheus/prometheus.yml" ;;
    alertmanager) printf '%s' "--storage.path=$RUN/alertmanager" ;;
    opensearch) printf '%s' "path.data=$RUN/opensearch/data" ;;
    jaeger) printf '%s' "--config=$RUN/jaeger/config.yaml" ;;
    simulator) printf '%s' "stack.simulator serve" ;;
    *) return 1 ;;
  esac
}

# Every service is started with SEXTANT_STACK_RUN=$RUN in its environment: with the command line, it
# tells our process from another stack's (another RUN) or from a stranger that got the PID.
STACK_ENV_MARK="SEXTANT_STACK_RUN=$RUN"

# service_pid NAME: print the PID if its PID file names a live process of that service and RUN.
service_pid() {
  local pf pid env
  pf=$(pid_file "$1")
  [[ -s $pf ]] || return 1
  pid=$(<"$pf")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(cmdline_marker "$1")" || return 1
  env=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null) || return 1
  # Processes started before the mark existed have none: the command line decides for them.
  if grep -q '^SEXTANT_STACK_RUN=' <<<"$env"; then grep -qxF -- "$STACK_ENV_MARK" <<<"$env" || return 1; fi
  printf '%s' "$pid"
}

is_running() { service_pid "$1" >/dev/null; }

# spawn NAME CMD...: start CMD in its own session, detached, with its PID file and log.
# fd 9 (the stack lock) is closed so that the daemon does not hold the lock.
spawn() {
  local name=$1
  shift
  mkdir -p "$RUN/pids" "$RUN/logs"
  setsid env "$STACK_ENV_MARK" "$@" >>"$(log_file "$name")" 2>&1 </dev/null 9>&- &
  printf '%s\n' "$!" >"$(pid_file "$name")"
}

# stop_service NAME: TERM, wait up to SEXTANT_STOP_TIMEOUT seconds, then KILL.
stop_service() {
  local name=$1 pid deadline
  if ! pid=$(service_pid "$name"); then
    rm -f "$(pid_file "$name")"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + ${SEXTANT_STOP_TIMEOUT:-30}))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name did not stop after TERM: sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$(pid_file "$name")"
}

# lock_stack: one up.sh/down.sh at a time (fd 9 stays open until the script exits).
lock_stack() {
  mkdir -p "$RUN" "$RUN/logs" "$RUN/pids"
  exec 9>"$RUN/lock"
  flock -w "${SEXTANT_LOCK_TIMEOUT:-900}" 9 || die "another stack/up.sh or down.sh holds $RUN/lock"
}

# service_ports NAME: the TCP ports the service listens on.
service_ports() {
  case $1 in
    prometheus) echo "$PROMETHEUS_PORT" ;;
    alertmanager) echo "$ALERTMANAGER_PORT" ;;
    opensearch) echo "$OPENSEARCH_PORT $OPENSEARCH_TRANSPORT_PORT" ;;
    jaeger) echo "$JAEGER_QUERY_PORT $JAEGER_QUERY_GRPC_PORT $OTLP_GRPC_PORT $OTLP_HTTP_PORT $JAEGER_HEALTH_PORT $JAEGER_METRICS_PORT" ;;
    simulator) echo "$SIMULATOR_PORT" ;;
  esac
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# check_ports_free NAME...: fail before starting anything if another process holds a port.
check_ports_free() {
  local s p
  for s in "$@"; do
    for p in $(service_ports "$s"); do
      port_busy "$p" || continue
      ss -ltnpH "sport = :$p" >&2 2>/dev/null || true
      die "port $HOST:$p ($s) is taken by a process this RUN ($RUN) did not start, e.g. a stack" \
        "with another SEXTANT_CACHE/SEXTANT_RUN: stop it, or move $s with its SEXTANT_*_PORT"
    done
  done
}

http_ok() { curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; }

tail_log() {
  local f
  for f in "$(log_file "$1")" "$RUN/logs/$1-launch.log"; do
    [[ -s $f ]] || continue
    log "--- last lines of $f ---"
    tail -n "${SEXTANT_LOG_TAIL:-40}" "$f" >&2
  done
}

# render SRC DST KEY=VALUE...: copy a template, replacing each @KEY@ with VALUE.
render() {
  local src=$1 dst=$2 kv args=()
  shift 2
  for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  mkdir -p "$(dirname "$dst")"
  sed "${args[@]}" "$src" >"$dst.tmp"
  if grep -q '@[A-Z_]*@' "$dst.tmp"; then die "unreplaced placeholder in $dst.tmp"; fi
  mv "$dst.tmp" "$dst"
}

java17_home() {
  local d
  if [[ -n ${SEXTANT_JAVA_HOME:-} ]]; then printf '%s' "$SEXTANT_JAVA_HOME"; return; fi
  for d in /usr/lib/jvm/java-17-openjdk-*; do
    [[ -x $d/bin/java ]] && { printf '%s' "$d"; return; }
  done
  return 1
}

have_simulator() { [[ -f $REPO_ROOT/stack/simulator/__main__.py ]]; }
