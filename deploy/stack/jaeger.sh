#!/usr/bin/env bash
# Jaeger v2 on loopback with in-memory storage (config: deploy/jaeger/config.yaml), or badger.
#   deploy/stack/jaeger.sh up   [--workdir DIR] [--storage mem|badger]
#   deploy/stack/jaeger.sh down [--workdir DIR]
# Ports (env, defaults): JAEGER_OTLP_GRPC_PORT=4317 JAEGER_OTLP_HTTP_PORT=4318
#   JAEGER_QUERY_HTTP_PORT=16686 JAEGER_QUERY_GRPC_PORT=16685 JAEGER_HEALTH_PORT=13133
# Workdir (pid, log, badger data): JAEGER_WORKDIR, default $STACK_DIR/run/jaeger.
# Storage: JAEGER_STORAGE or --storage (default mem); badger adds deploy/jaeger/badger.yaml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LOG_TAG=jaeger; . "$here/lib.sh"

cmd=${1:-}; shift || true
workdir=${JAEGER_WORKDIR:-$STACK_DIR/run/jaeger}
storage=${JAEGER_STORAGE:-mem}
while [ $# -gt 0 ]; do
  case $1 in
    --workdir) workdir=$2; shift 2 ;;
    --storage) storage=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
export JAEGER_OTLP_GRPC_PORT=${JAEGER_OTLP_GRPC_PORT:-4317} JAEGER_OTLP_HTTP_PORT=${JAEGER_OTLP_HTTP_PORT:-4318}
export JAEGER_QUERY_HTTP_PORT=${JAEGER_QUERY_HTTP_PORT:-16686} JAEGER_QUERY_GRPC_PORT=${JAEGER_QUERY_GRPC_PORT:-16685}
export JAEGER_HEALTH_PORT=${JAEGER_HEALTH_PORT:-13133}
bin=$STACK_BIN/jaeger-$JAEGER_VERSION/jaeger
pidfile=$workdir/jaeger.pid logfile=$workdir/jaeger.log

healthy() {
  pid_alive "$pidfile" || { tail -20 "$logfile" >&2; die "Jaeger exited during start"; }
  curl -fsS "http://127.0.0.1:$JAEGER_HEALTH_PORT/status" 2>/dev/null | grep -q '"StatusOK"' \
    && curl -fsS -o /dev/null "http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT/api/services" 2>/dev/null
}

up() {
  [ -x "$bin" ] || die "Jaeger $JAEGER_VERSION is not built; run deploy/stack/build.sh jaeger"
  pid_alive "$pidfile" && { log "already running (pid $(cat "$pidfile"))"; return; }
  local p; for p in OTLP_GRPC OTLP_HTTP QUERY_HTTP QUERY_GRPC HEALTH; do
    local v="JAEGER_${p}_PORT"; require_free_port "${!v}" "Jaeger $v"
  done
  local configs=(--config "$REPO_ROOT/deploy/jaeger/config.yaml")
  case $storage in
    mem) ;;
    badger) configs+=(--config "$REPO_ROOT/deploy/jaeger/badger.yaml"); export JAEGER_BADGER_DIR=$workdir/badger ;;
    *) die "--storage: mem or badger, got '$storage'" ;;
  esac
  mkdir -p "$workdir"; local t0=$SECONDS
  log "starting Jaeger $JAEGER_VERSION with $storage storage (log: $logfile)"
  start_daemon "$pidfile" "$logfile" "$bin" "${configs[@]}"
  wait_until 60 "Jaeger to become healthy" healthy || { tail -20 "$logfile" >&2; exit 1; }
  log "ready in $((SECONDS - t0))s: OTLP gRPC 127.0.0.1:$JAEGER_OTLP_GRPC_PORT, OTLP HTTP 127.0.0.1:$JAEGER_OTLP_HTTP_PORT," \
      "query http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT, pid $(cat "$pidfile")"
}

case $cmd in
  up) up ;;
  down) stop_pidfile "$pidfile" "Jaeger" ;;
  status) pid_alive "$pidfile" && echo "running pid $(cat "$pidfile")" || { echo "stopped"; exit 1; } ;;
  *) sed -n '2,9p' "$0"; exit 2 ;;
esac
