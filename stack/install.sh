#!/usr/bin/env bash
# Install whatever the local stack needs and is missing; reuse the cache otherwise (idempotent).
#   Debian packages: prometheus, prometheus-alertmanager, chromium, JDK 17, unzip, curl, acl, poppler-utils
#   OpenSearch 2.19.6 (Maven Central zip) unzipped once into $CACHE/opensearch-2.19.6
#   Jaeger v2 built once from the Go module (v1.75.0, the approved release) into $CACHE/bin/jaeger-1.75.0
#   the system user that runs OpenSearch (it refuses to run as root)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=install

# Packages installed without their recommended packages (keeps the node exporter and friends out).
# poppler-utils: pdftotext, which reads the weekly review's PDF back in its tests.
APT_PACKAGES=(prometheus prometheus-alertmanager openjdk-17-jre-headless unzip curl acl poppler-utils)
# Chromium gets its recommends (fonts among them): the browser tests need them.
APT_PACKAGES_WITH_RECOMMENDS=(chromium)

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing_packages() {
  local p
  for p in "$@"; do pkg_installed "$p" || printf '%s\n' "$p"; done
}

# apt_install [--no-install-recommends] PKG...: install the packages that are missing.
apt_install() {
  local opts=() missing
  if [[ ${1:-} == --no-install-recommends ]]; then opts=("$1"); shift; fi
  mapfile -t missing < <(missing_packages "$@")
  ((${#missing[@]})) || return 0
  [[ $EUID -eq 0 ]] || die "missing Debian packages (${missing[*]}): run as root or install them"
  if [[ -z ${APT_UPDATED:-} ]]; then
    log "apt-get update (missing: ${missing[*]})"
    apt-get update -q >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${opts[@]}" "${missing[@]}" >/dev/null
}

ensure_packages() {
  apt_install --no-install-recommends "${APT_PACKAGES[@]}"
  apt_install "${APT_PACKAGES_WITH_RECOMMENDS[@]}"
  java17_home >/dev/null || die "no JDK 17 under /usr/lib/jvm (set SEXTANT_JAVA_HOME)"
}

ensure_user() {
  id -u "$SERVICE_USER" >/dev/null 2>&1 && return 0
  [[ $EUID -eq 0 ]] || die "user $SERVICE_USER is missing: run as root once"
  log "creating system user $SERVICE_USER"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$SERVICE_USER"
}

opensearch_zip() {
  local m2="${SEXTANT_M2_REPO:-$HOME/.m2/repository}"
  printf '%s/org/opensearch/distribution/integ-test-zip/opensearch/%s/opensearch-%s.zip' \
    "$m2" "$OPENSEARCH_VERSION" "$OPENSEARCH_VERSION"
}

ensure_opensearch() {
  local zip tmp
  [[ -x $OPENSEARCH_HOME/bin/opensearch ]] && return 0
  zip=$(opensearch_zip)
  if [[ ! -s $zip ]]; then
    command -v mvn >/dev/null || apt_install --no-install-recommends maven
    log "mvn dependency:get opensearch $OPENSEARCH_VERSION"
    mvn -q -B dependency:get \
      -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip"
  fi
  log "unzipping OpenSearch into $OPENSEARCH_HOME"
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/.opensearch-unzip.XXXXXX")
  unzip -q "$zip" -d "$tmp"
  chmod -R a+rX "$tmp/opensearch-$OPENSEARCH_VERSION"
  mv "$tmp/opensearch-$OPENSEARCH_VERSION" "$OPENSEARCH_HOME"
  rm -rf "$tmp"
}

go_env() {
  export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" CGO_ENABLED=0
  # -modcacherw: the module cache stays deletable with rm -rf.
  export GOFLAGS="-modcacherw -buildvcs=false"
}

ensure_jaeger() {
  local dir src
  [[ -x $JAEGER_BIN ]] && return 0
  command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
  command -v go >/dev/null || die "Go is missing (Jaeger $JAEGER_VERSION needs Go >= 1.24)"
  go_env
  log "building Jaeger $JAEGER_VERSION (cold: downloads modules and compiles, a few minutes)"
  src=$(go mod download -json "$JAEGER_MODULE@$JAEGER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d $src ]] || die "go mod download gave no module directory for $JAEGER_MODULE@$JAEGER_VERSION"
  mkdir -p "$CACHE/bin"
  dir=$(mktemp -d "$CACHE/.jaeger-src.XXXXXX")
  # shellcheck disable=SC2064  # expand now: $dir is local
  trap "rm -rf '$dir'" EXIT
  cp -R "$src/." "$dir/"
  chmod -R u+w "$dir"
  mkdir -p "$CACHE/logs"
  if ! (cd "$dir" && go build -trimpath -o "$JAEGER_BIN.tmp" ./cmd/jaeger) >"$CACHE/logs/jaeger-build.log" 2>&1; then
    tail -n 40 "$CACHE/logs/jaeger-build.log" >&2
    die "Jaeger build failed (full log: $CACHE/logs/jaeger-build.log)"
  fi
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
  rm -rf "$dir"
  trap - EXIT
}

main() {
  local t0
  t0=$(now)
  timed "packages" ensure_packages
  timed "user $SERVICE_USER" ensure_user
  timed "opensearch $OPENSEARCH_VERSION" ensure_opensearch
  timed "jaeger $JAEGER_VERSION" ensure_jaeger
  log "install total: $(elapsed "$t0") s (cache: $CACHE)"
}

main "$@"
