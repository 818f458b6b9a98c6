#!/usr/bin/env bash
# Start the local observability stack (Prometheus, Alertmanager, OpenSearch, Jaeger and the platform
# simulator), reusing whatever already runs healthy for the same data set. See stack/README.md.
#
# Reuse rule: the data set is (anchor, seed, format). A running, healthy service is reused when the data
# set recorded in $RUN/anchor, $RUN/seed and $RUN/format is the one asked for; when it differs, Prometheus,
# the simulator exporter, OpenSearch and Jaeger are restarted from empty stores (Prometheus with a fresh
# backfill). Prometheus is always backfilled anew and OpenSearch starts with an empty data dir. Jaeger
# keeps its traces in OpenSearch: it may restart alone and finds them again; when OpenSearch is down or
# the data set was not loaded yet (load not skipped), both restart and are loaded.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=up

SKIP_LOAD="${SEXTANT_STACK_SKIP_LOAD:-0}"
HEALTH_TIMEOUT="${SEXTANT_STACK_TIMEOUT:-180}"
TO_START=()

wants_load() { have_simulator && [[ $SKIP_LOAD != 1 ]]; }
planned() { [[ " ${TO_START[*]} " == *" $1 "* ]]; }
record_started() { printf '%s\n' "$1" >>"$RUN/started"; }

# ---- health ---------------------------------------------------------------------------------
healthy() {
  case $1 in
    prometheus) http_ok "http://$HOST:$PROMETHEUS_PORT/-/ready" ;;
    alertmanager) http_ok "http://$HOST:$ALERTMANAGER_PORT/-/ready" ;;
    opensearch)
      http_ok "http://$HOST:$OPENSEARCH_PORT/" &&
        http_ok "http://$HOST:$OPENSEARCH_PORT/_cluster/health?wait_for_status=yellow&timeout=1s"
      ;;
    jaeger)
      http_ok "http://$HOST:$JAEGER_QUERY_PORT/api/services" &&
        http_ok "http://$HOST:$JAEGER_HEALTH_PORT/status"
      ;;
    simulator) http_ok "http://$HOST:$SIMULATOR_PORT/metrics" ;;
  esac
}

endpoint() {
  case $1 in
    prometheus) printf 'http://%s:%s/-/ready' "$HOST" "$PROMETHEUS_PORT" ;;
    alertmanager) printf 'http://%s:%s/-/ready' "$HOST" "$ALERTMANAGER_PORT" ;;
    opensearch) printf 'http://%s:%s/ and /_cluster/health' "$HOST" "$OPENSEARCH_PORT" ;;
    jaeger) printf 'http://%s:%s/api/services and :%s/status' "$HOST" "$JAEGER_QUERY_PORT" "$JAEGER_HEALTH_PORT" ;;
    simulator) printf 'http://%s:%s/metrics' "$HOST" "$SIMULATOR_PORT" ;;
  esac
}

up_and_healthy() { is_running "$1" && healthy "$1"; }

fail_service() {
  tail_log "$1"
  die "$1 $2 ($(endpoint "$1")); logs: $(log_file "$1")"
}

# wait_healthy SERVICE...: poll until all are healthy; fail on the first that dies or times out.
wait_healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) pending=("$@") left s t0
  t0=$(now)
  while ((${#pending[@]})); do
    left=()
    for s in "${pending[@]}"; do
      if ! is_running "$s"; then
        fail_service "$s" "exited during start-up"
      elif healthy "$s"; then
        log "$s healthy after $(elapsed "$t0") s"
      else
        left+=("$s")
      fi
    done
    pending=("${left[@]+"${left[@]}"}")
    ((${#pending[@]})) || break
    ((SECONDS < deadline)) || fail_service "${pending[0]}" "not healthy after ${HEALTH_TIMEOUT}s"
    sleep 0.5
  done
}

# ---- step 2: data set and plan --------------------------------------------------------------
decide_dataset() {
  local previous
  ANCHOR="${SEXTANT_ANCHOR:-}"
  # keep: the recorded anchor, so that a running stack is not rebuilt when the hour turns.
  if [[ $ANCHOR == keep ]]; then ANCHOR=$(cat "$RUN/anchor" 2>/dev/null || true); fi
  ANCHOR="${ANCHOR:-$(date -u +%Y-%m-%dT%H:00:00Z)}"
  SEED="${SEXTANT_SEED:-7}"
  date -u -d "$ANCHOR" +%s >/dev/null 2>&1 || die "SEXTANT_ANCHOR is not a date: $ANCHOR"
  [[ $SCALE =~ ^[1-9][0-9]*$ ]] || die "SEXTANT_SCALE is not a whole number from 1: $SCALE"
  [[ $HISTORY_DAYS =~ ^[1-9][0-9]*$ ]] && ((HISTORY_DAYS <= 30)) ||
    die "SEXTANT_HISTORY_DAYS is not a number of days from 1 to 30: $HISTORY_DAYS"
  [[ $ROUTE_PATHS =~ ^[1-9][0-9]*$ ]] || die "SEXTANT_ROUTE_PATHS is not a whole number from 1: $ROUTE_PATHS"
  previous="$(cat "$RUN/anchor" 2>/dev/null || true) $(cat "$RUN/seed" 2>/dev/null || true)"
  previous="$previous $(cat "$RUN/format" 2>/dev/null || echo "no format")"
  previous="$previous$(dataset_size "$(cat "$RUN/scale" 2>/dev/null || echo 1)" \
    "$(cat "$RUN/history_days" 2>/dev/null || echo 30)" "$(cat "$RUN/route_paths" 2>/dev/null || echo 1)")"
  if [[ $previous != "$ANCHOR $SEED $DATA_FORMAT$(dataset_size "$SCALE" "$HISTORY_DAYS" "$ROUTE_PATHS")" ]]; then
    log "data set is now anchor=$ANCHOR seed=$SEED format=$DATA_FORMAT$(dataset_size "$SCALE" "$HISTORY_DAYS" "$ROUTE_PATHS")" \
      "(was: ${previous# }): fresh data stores"
    stop_service simulator
    stop_service jaeger
    stop_service opensearch
    stop_service prometheus
    # Silences and notifications of the old data set's alerts (and of the tests that used it) go too: a
    # recording of the demo would show them.
    stop_service alertmanager
    rm -rf "$RUN/alertmanager/silences" "$RUN/alertmanager/nflog"
    rm -f "$RUN/loaded"
  fi
  printf '%s\n' "$ANCHOR" >"$RUN/anchor"
  printf '%s\n' "$SEED" >"$RUN/seed"
  printf '%s\n' "$DATA_FORMAT" >"$RUN/format"
  printf '%s\n' "$SCALE" >"$RUN/scale"
  printf '%s\n' "$HISTORY_DAYS" >"$RUN/history_days"
  printf '%s\n' "$ROUTE_PATHS" >"$RUN/route_paths"
  stack_urls >"$RUN/urls.env"
  log "anchor=$ANCHOR seed=$SEED format=$DATA_FORMAT scale=$SCALE history=${HISTORY_DAYS}d route paths=$ROUTE_PATHS"
}

# reuse_or_plan SERVICE: plan a (re)start unless it runs healthy.
reuse_or_plan() {
  if up_and_healthy "$1"; then
    log "$1: reusing pid $(service_pid "$1")"
    return 0
  fi
  if is_running "$1"; then
    warn "$1 runs but is not healthy: restarting it"
    stop_service "$1"
  fi
  TO_START+=("$1")
}

# What $RUN/loaded holds once this data set is in OpenSearch and Jaeger: its anchor, seed and format.
loaded_mark() { printf '%s %s %s%s' "$ANCHOR" "$SEED" "$DATA_FORMAT" "$(dataset_size "$SCALE" "$HISTORY_DAYS" "$ROUTE_PATHS")"; }
is_loaded() { [[ "$(cat "$RUN/loaded" 2>/dev/null || true)" == "$(loaded_mark)" ]]; }

plan() {
  reuse_or_plan prometheus
  reuse_or_plan alertmanager
  # Jaeger keeps its traces in OpenSearch: with OpenSearch up and loaded, Jaeger alone may restart and
  # finds every trace again; otherwise both start from empty and are loaded.
  if up_and_healthy opensearch && { ! wants_load || is_loaded; }; then
    log "opensearch: reusing (data set already loaded or load skipped)"
    reuse_or_plan jaeger
  else
    stop_service jaeger
    stop_service opensearch
    rm -f "$RUN/loaded"
    TO_START+=(opensearch jaeger)
  fi
  if have_simulator; then reuse_or_plan simulator; fi
  log "to start: ${TO_START[*]:-nothing}"
  check_ports_free "${TO_START[@]}"
}

# ---- step 3: backfill -----------------------------------------------------------------------
backfill() {
  local data="$RUN/prometheus/data" logf="$RUN/logs/backfill.log"
  planned prometheus || { log "prometheus reused: no backfill"; return 0; }
  rm -rf "$data"
  mkdir -p "$data"
  have_simulator || { log "no stack/simulator/__main__.py: no backfill"; return 0; }
  log "backfill into $data (log: $logf)"
  # --instance: the backfilled series carry the label that the live scrapes will have.
  if ! "$PYTHON" -m stack.simulator backfill --anchor "$ANCHOR" --seed "$SEED" --out "$data" \
    --scale "$SCALE" --route-paths "$ROUTE_PATHS" --days "$HISTORY_DAYS" --instance "$HOST:$SIMULATOR_PORT" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    die "simulator backfill failed (log: $logf)"
  fi
}

# ---- step 4: SLO rules ----------------------------------------------------------------------
slo_rules() {
  local dir="$RUN/prometheus/rules" tmp="$RUN/prometheus/rules.new" logf="$RUN/logs/slo-rules.log"
  mkdir -p "$dir"
  [[ -f $REPO_ROOT/app/slo/__main__.py ]] || { log "no app/slo/__main__.py: no SLO rules"; return 0; }
  rm -rf "$tmp" && mkdir -p "$tmp"
  local definitions=()
  if ((SCALE > 1)); then
    "$PYTHON" -m stack.simulator slos --scale "$SCALE" --out "$(scaled_slo_dir)" >"$logf" 2>&1 ||
      die "the SLO definitions of scale $SCALE were not written (log: $logf)"
    definitions=(--definitions "$(scaled_slo_dir)")
  fi
  if "$PYTHON" -m app.slo rules "${definitions[@]}" --output "$tmp/slo.yml" >>"$logf" 2>&1 &&
    promtool check rules "$tmp/slo.yml" >>"$logf" 2>&1; then
    mv "$tmp/slo.yml" "$dir/slo.yml"
    log "SLO rules: $dir/slo.yml"
  else
    rm -f "$dir/slo.yml"
    warn "SLO rules not generated or invalid: Prometheus runs without them (log: $logf)"
    tail -n 5 "$logf" >&2 || true
  fi
  rm -rf "$tmp"
}

# ---- step 8b: SLO tiles and records ---------------------------------------------------------
# The generated rules read each SLO's period from hourly tiles once they cover it (app/slo/promql.py);
# a fresh Prometheus has evaluated none, so the tiles of the backfilled history are written as blocks
# (python -m app.slo backfill) while logs and traces load, and moved into the data directory, where
# Prometheus loads them within a minute. Until then the status reads those periods from the raw series.
# With them, the records of every whole hour of the last 30 days: a board of a past hour (the overview's
# week ago, the weekly review) then reads one query per window instead of one per SLO (app/slo/backfill.py).
# Only the hours before Prometheus started: its own rules take over from there. A reused Prometheus
# gets the tiles of the SLOs that have none yet (new or changed SLI queries), up to now.
PROMETHEUS_STARTED_AT=""
TILES_PID=""
start_tiles() {
  local out="$RUN/prometheus/tiles.new" logf="$RUN/logs/slo-tiles.log" args
  [[ -f $RUN/prometheus/rules/slo.yml ]] || return 0
  if [[ -n $PROMETHEUS_STARTED_AT ]]; then
    args=(--before "$(date -u -d "@$PROMETHEUS_STARTED_AT" +%Y-%m-%dT%H:%M:%SZ)")
  else
    args=(--only-missing)
  fi
  ((SCALE > 1)) && args+=(--definitions "$(scaled_slo_dir)")  # the SLOs the rules were generated from
  rm -rf "$out"
  "$PYTHON" -m app.slo backfill --prometheus-url "http://$HOST:$PROMETHEUS_PORT" --output "$out" \
    "${args[@]}" >"$logf" 2>&1 9>&- &
  TILES_PID=$!
}

finish_tiles() {
  local out="$RUN/prometheus/tiles.new" block
  [[ -n $TILES_PID ]] || return 0
  if wait "$TILES_PID"; then
    for block in "$out"/*/; do [[ -d $block ]] && mv "$block" "$RUN/prometheus/data/"; done
    log "SLO tiles: $(tail -n 1 "$RUN/logs/slo-tiles.log")"
  else
    warn "SLO tiles not written: the status reads the SLOs' periods from raw series (log: $RUN/logs/slo-tiles.log)"
  fi
  rm -rf "$out"
}

# ---- step 4b: the other alert rules -----------------------------------------------------------
# The security rules generated from slo_definitions/security.yaml and the shipped alert_rules/*.yml, each
# checked with promtool; one that fails is left out with a warning (Prometheus runs without it).
other_alert_rules() {
  local dir="$RUN/prometheus/rules" logf="$RUN/logs/alert-rules.log" f
  mkdir -p "$dir"
  : >"$logf"
  if [[ -f $REPO_ROOT/app/alerting/__main__.py ]]; then
    if "$PYTHON" -m app.alerting rules --output "$dir/security.yml.new" >>"$logf" 2>&1 &&
      promtool check rules "$dir/security.yml.new" >>"$logf" 2>&1; then
      mv "$dir/security.yml.new" "$dir/security.yml"
      log "security rules: $dir/security.yml"
    else
      rm -f "$dir/security.yml.new" "$dir/security.yml"
      warn "security rules not generated or invalid: Prometheus runs without them (log: $logf)"
    fi
  fi
  for f in "$REPO_ROOT"/alert_rules/*.yml; do
    [[ -f $f ]] || continue
    if promtool check rules "$f" >>"$logf" 2>&1; then
      cp "$f" "$dir/$(basename "$f")"
      log "alert rules: $dir/$(basename "$f")"
    else
      rm -f "$dir/$(basename "$f")"
      warn "$f is invalid: Prometheus runs without it (log: $logf)"
    fi
  done
  if ! planned prometheus; then
    curl -fsS -X POST --max-time 10 "http://$HOST:$PROMETHEUS_PORT/-/reload" >/dev/null ||
      warn "Prometheus did not reload its rules"
  fi
}

# ---- step 5/6: start ------------------------------------------------------------------------
rotate_log() { if [[ -f $1 ]]; then mv -f "$1" "$1.1"; fi; }

start_prometheus() {
  local dir="$RUN/prometheus"
  render "$CONFIG_DIR/prometheus.yml.tmpl" "$dir/prometheus.yml" RUN="$RUN" HOST="$HOST" \
    PROMETHEUS_PORT="$PROMETHEUS_PORT" ALERTMANAGER_PORT="$ALERTMANAGER_PORT" SIMULATOR_PORT="$SIMULATOR_PORT"
  mkdir -p "$dir/data" "$dir/rules"
  promtool check config "$dir/prometheus.yml" >"$RUN/logs/prometheus-check.log" 2>&1 ||
    { cat "$RUN/logs/prometheus-check.log" >&2; die "invalid $dir/prometheus.yml"; }
  rotate_log "$(log_file prometheus)"
  PROMETHEUS_STARTED_AT=$(date +%s)
  spawn prometheus prometheus \
    --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=60d \
    --web.listen-address="$HOST:$PROMETHEUS_PORT" \
    --web.enable-lifecycle \
    --web.enable-admin-api
}

# A running Alertmanager (always reused: it holds no data set) gets the current configuration.
alertmanager_config() {
  local dir="$RUN/alertmanager"
  planned alertmanager && return 0
  cmp -s "$CONFIG_DIR/alertmanager.yml" "$dir/alertmanager.yml" && return 0
  cp "$CONFIG_DIR/alertmanager.yml" "$dir/alertmanager.yml"
  curl -fsS -X POST --max-time 10 "http://$HOST:$ALERTMANAGER_PORT/-/reload" >/dev/null ||
    warn "Alertmanager did not reload its configuration"
}

start_alertmanager() {
  local dir="$RUN/alertmanager"
  mkdir -p "$dir"
  cp "$CONFIG_DIR/alertmanager.yml" "$dir/alertmanager.yml"
  rotate_log "$(log_file alertmanager)"
  spawn alertmanager prometheus-alertmanager \
    --config.file="$dir/alertmanager.yml" \
    --storage.path="$dir" \
    --web.listen-address="$HOST:$ALERTMANAGER_PORT" \
    --cluster.listen-address=
}

# grant_traverse PATH: let the service user reach PATH (x on each ancestor that it cannot cross).
grant_traverse() {
  local d="" part parts
  IFS=/ read -ra parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    d="$d/$part"
    runuser -u "$SERVICE_USER" -- test -x "$d" && continue
    log "granting $SERVICE_USER traverse (x) on $d"
    if command -v setfacl >/dev/null; then setfacl -m "u:$SERVICE_USER:x" "$d"; else chmod o+x "$d"; fi
  done
}

prepare_opensearch() {
  local dir="$RUN/opensearch"
  rm -rf "$dir"
  mkdir -p "$dir/data" "$dir/logs" "$dir/config/jvm.options.d" "$dir/tmp"
  cp "$OPENSEARCH_HOME/config/log4j2.properties" "$dir/config/"
  cp "$CONFIG_DIR/opensearch/opensearch.yml" "$dir/config/opensearch.yml"
  render "$CONFIG_DIR/opensearch/jvm.options.tmpl" "$dir/config/jvm.options" OS_RUN="$dir"
  chown -R "$SERVICE_USER:" "$dir"
  grant_traverse "$dir"
  grant_traverse "$OPENSEARCH_HOME/bin"
}

start_opensearch() {
  prepare_opensearch
  launch_opensearch
}

# launch_opensearch: start OpenSearch on the data dir as it is (stack/chaos/control.sh restarts a killed
# node this way, keeping its indices).
launch_opensearch() {
  local dir="$RUN/opensearch" java launch="$RUN/logs/opensearch-launch.log" i
  java=$(java17_home) || die "no JDK 17 found (set SEXTANT_JAVA_HOME)"
  rm -f "$dir/opensearch.pid"
  mkdir -p "$RUN/logs" "$RUN/pids"
  ln -sfn "$dir/logs/sextant.log" "$RUN/logs/opensearch.log"
  # -d daemonizes; OpenSearch writes its own PID file, copied into $RUN/pids below.
  if ! setsid runuser -u "$SERVICE_USER" -- env "$STACK_ENV_MARK" \
    JAVA_HOME="$java" OPENSEARCH_JAVA_HOME="$java" \
    OPENSEARCH_PATH_CONF="$dir/config" OPENSEARCH_TMPDIR="$dir/tmp" \
    OPENSEARCH_JAVA_OPTS="-Xms512m -Xmx512m" \
    "$OPENSEARCH_HOME/bin/opensearch" -d -p "$dir/opensearch.pid" \
    -E discovery.type=single-node \
    -E network.host="$HOST" \
    -E http.port="$OPENSEARCH_PORT" \
    -E transport.port="$OPENSEARCH_TRANSPORT_PORT" \
    -E path.data="$dir/data" \
    -E path.logs="$dir/logs" \
    -E cluster.routing.allocation.disk.threshold_enabled=false \
    >"$launch" 2>&1 </dev/null 9>&-; then
    fail_service opensearch "failed to launch"
  fi
  for ((i = 0; i < 600; i++)); do
    [[ -s $dir/opensearch.pid ]] && break
    sleep 0.1
  done
  [[ -s $dir/opensearch.pid ]] || fail_service opensearch "wrote no PID file in 60 s"
  cp "$dir/opensearch.pid" "$(pid_file opensearch)"
}

start_jaeger() {
  local dir="$RUN/jaeger"
  render "$CONFIG_DIR/jaeger.yaml.tmpl" "$dir/config.yaml" HOST="$HOST" \
    JAEGER_HEALTH_PORT="$JAEGER_HEALTH_PORT" JAEGER_QUERY_PORT="$JAEGER_QUERY_PORT" \
    JAEGER_QUERY_GRPC_PORT="$JAEGER_QUERY_GRPC_PORT" OTLP_GRPC_PORT="$OTLP_GRPC_PORT" \
    OTLP_HTTP_PORT="$OTLP_HTTP_PORT" JAEGER_METRICS_PORT="$JAEGER_METRICS_PORT" \
    OPENSEARCH_PORT="$OPENSEARCH_PORT"
  rotate_log "$(log_file jaeger)"
  spawn jaeger "$JAEGER_BIN" --config="$dir/config.yaml"
}

start_simulator() {
  rotate_log "$(log_file simulator)"
  mkdir -p "$RUN/simulator"
  rm -f "$RUN/simulator/planted.prom"  # series a test planted die with the simulator that served them
  spawn simulator "$PYTHON" -m stack.simulator serve \
    --anchor "$ANCHOR" --seed "$SEED" --scale "$SCALE" --route-paths "$ROUTE_PATHS" --port "$SIMULATOR_PORT" \
    --planted "$RUN/simulator/planted.prom"
}

# Jaeger checks its storage when it starts and exits when OpenSearch does not answer.
start_jaeger_on_opensearch() {
  planned jaeger || return 0
  wait_healthy opensearch
  start_services jaeger
}

start_services() {
  local s
  for s in "$@"; do
    planned "$s" || continue
    log "starting $s"
    "start_$s"
    record_started "$s"
  done
}

# ---- step 8: logs and traces ----------------------------------------------------------------
load_data() {
  local logf="$RUN/logs/load.log"
  if ! wants_load; then log "load skipped"; return 0; fi
  if is_loaded; then
    log "logs and traces already loaded for this data set"
    return 0
  fi
  log "loading logs and traces (log: $logf)"
  if ! "$PYTHON" -m stack.simulator load --anchor "$ANCHOR" --seed "$SEED" \
    --scale "$SCALE" --route-paths "$ROUTE_PATHS" --days "$HISTORY_DAYS" \
    --opensearch-url "http://$HOST:$OPENSEARCH_PORT" \
    --otlp-url "http://$HOST:$OTLP_HTTP_PORT/v1/traces" \
    --jaeger-url "http://$HOST:$JAEGER_QUERY_PORT" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    die "simulator load failed (log: $logf)"
  fi
  printf '%s\n' "$(loaded_mark)" >"$RUN/loaded"
}

# ---- step 7b and 9: live data flowing --------------------------------------------------------
# The backfill ends at the anchor; live samples start at Prometheus's first scrape of the simulator.
# Pages evaluate at "now" floored to the minute, so the stack is ready once that floored minute is
# after the first scrape: before, every instant query at "now" would find nothing newer than the anchor.
FIRST_SCRAPE_AT=0
wait_first_scrape() {
  have_simulator || return 0
  grep -qx prometheus "$RUN/started" 2>/dev/null || return 0 # a running Prometheus has scraped long since
  local query="http://$HOST:$PROMETHEUS_PORT/api/v1/query?query=up%7Bjob%3D%22simulator%22%7D%3D%3D1"
  local deadline=$((SECONDS + 90))
  until curl -fsS --max-time 3 "$query" 2>/dev/null | grep -q '"value"'; do
    ((SECONDS < deadline)) || die "Prometheus has not scraped the simulator within 90 s"
    sleep 1
  done
  FIRST_SCRAPE_AT=$(date +%s)
}

wait_minute_after_first_scrape() {
  local now
  ((FIRST_SCRAPE_AT > 0)) || return 0
  now=$(date +%s)
  if ((now / 60 == FIRST_SCRAPE_AT / 60)); then
    sleep $((60 - now % 60 + 1))
  fi
}

check_python() {
  have_simulator || [[ -f $REPO_ROOT/app/slo/__main__.py ]] || return 0
  [[ -x $PYTHON ]] || die "no Python at $PYTHON (create the venv first, or set SEXTANT_PYTHON)"
}

dataset_and_plan() {
  decide_dataset
  plan
}

main() {
  local t0
  t0=$(now)
  cd "$REPO_ROOT"
  timed "1 install" bash "$STACK_DIR/install.sh"
  lock_stack
  : >"$RUN/started"
  check_python
  timed "2 data set and plan" dataset_and_plan
  timed "3 backfill" backfill
  timed "4 SLO rules" slo_rules
  timed "4b security and infrastructure alert rules" other_alert_rules
  timed "5 start prometheus, alertmanager, opensearch" start_services prometheus alertmanager opensearch
  timed "5b start jaeger once opensearch (its storage) answers" start_jaeger_on_opensearch
  timed "6 start simulator" start_services simulator
  local check=(prometheus alertmanager opensearch jaeger)
  if have_simulator; then check+=(simulator); fi
  timed "7 health checks" wait_healthy "${check[@]}"
  timed "7a alertmanager configuration" alertmanager_config
  timed "7b first live scrape" wait_first_scrape
  start_tiles
  timed "8 load logs and traces" load_data
  timed "8b SLO tiles and records of the backfilled history" finish_tiles
  timed "9 a whole minute of live data" wait_minute_after_first_scrape
  log "started by this run: $(paste -sd' ' "$RUN/started" | grep . || echo nothing) (see $RUN/started)"
  log "stack up in $(elapsed "$t0") s: prometheus :$PROMETHEUS_PORT alertmanager :$ALERTMANAGER_PORT" \
    "opensearch :$OPENSEARCH_PORT jaeger :$JAEGER_QUERY_PORT otlp :$OTLP_GRPC_PORT/:$OTLP_HTTP_PORT"
}

# Sourced (by stack/chaos/control.sh) it only defines the functions above.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
