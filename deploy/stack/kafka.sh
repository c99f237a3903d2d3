#!/usr/bin/env bash
# Single-node Kafka (KRaft) on loopback from the jars deploy/stack/build.sh fetched.
#   deploy/stack/kafka.sh up   [--port 9092] [--controller-port 9093] [--workdir DIR]
#   deploy/stack/kafka.sh down [--workdir DIR]
# Env equivalents: KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_WORKDIR, KAFKA_HEAP (default 384m).
# The data dir is formatted once and kept, so topics survive a restart; `down --wipe` removes it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LOG_TAG=kafka; . "$here/lib.sh"

cmd=${1:-}; shift || true
port=${KAFKA_PORT:-9092} cport=${KAFKA_CONTROLLER_PORT:-9093}
workdir=${KAFKA_WORKDIR:-$STACK_DIR/run/kafka} wipe=0
while [ $# -gt 0 ]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --controller-port) cport=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --wipe) wipe=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
home=$STACK_DIR/kafka-$KAFKA_VERSION
pidfile=$workdir/kafka.pid logfile=$workdir/kafka.log

java_opts() {
  echo "-Xms64m -Xmx${KAFKA_HEAP:-384m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true" \
       "-Djava.net.preferIPv4Stack=true -Dlog4j.configuration=file:$workdir/log4j.properties"
}

up() {
  [ -f "$home/.complete" ] || die "Kafka $KAFKA_VERSION is not built; run deploy/stack/build.sh kafka"
  pid_alive "$pidfile" && { log "already running (pid $(cat "$pidfile")), broker 127.0.0.1:$port"; return; }
  require_free_port "$port" "Kafka broker"; require_free_port "$cport" "Kafka controller"
  mkdir -p "$workdir/data"
  render "$REPO_ROOT/deploy/kafka/server.properties" "$workdir/server.properties" \
    BROKER_PORT="$port" CONTROLLER_PORT="$cport" DATA_DIR="$workdir/data"
  cp "$REPO_ROOT/deploy/kafka/log4j.properties" "$workdir/log4j.properties"
  local t0=$SECONDS
  if [ ! -f "$workdir/data/meta.properties" ]; then
    log "formatting $workdir/data"
    # shellcheck disable=SC2046
    java $(java_opts) -cp "$home/libs/*" kafka.tools.StorageTool format \
      -t "$(java $(java_opts) -cp "$home/libs/*" kafka.tools.StorageTool random-uuid)" \
      -c "$workdir/server.properties" --ignore-formatted >>"$logfile" 2>&1
  fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$port (log: $logfile)"
  local mark; mark=$(stat -c %s "$logfile" 2>/dev/null || echo 0)   # only this start's lines count
  # shellcheck disable=SC2046
  start_daemon "$pidfile" "$logfile" java $(java_opts) -cp "$home/libs/*" kafka.Kafka "$workdir/server.properties"
  started() {
    pid_alive "$pidfile" || { tail -20 "$logfile" >&2; die "Kafka exited during start"; }
    tail -c +"$((mark + 1))" "$logfile" | grep -q 'Kafka Server started' && port_open "$port"
  }
  wait_until 120 "Kafka to start" started || { tail -20 "$logfile" >&2; exit 1; }
  log "ready in $((SECONDS - t0))s: broker 127.0.0.1:$port, pid $(cat "$pidfile")"
}

case $cmd in
  up) up ;;
  down) stop_pidfile "$pidfile" "Kafka"; [ $wipe = 1 ] && rm -rf "$workdir/data" && log "wiped $workdir/data"; true ;;
  status) pid_alive "$pidfile" && echo "running pid $(cat "$pidfile")" || { echo "stopped"; exit 1; } ;;
  *) sed -n '2,6p' "$0"; exit 2 ;;
esac
