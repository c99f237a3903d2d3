# Shared helpers for the start/stop scripts in deploy/stack/. Sourced, not run.
# Every daemon runs in its own session (setsid), so `down` can kill its whole process group,
# and writes its pid to <workdir>/<name>.pid.
here=${here:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
. "$here/versions.sh"
REPO_ROOT=$(cd "$here/../.." && pwd)

log() { printf '[%s %(%H:%M:%S)T] %s\n' "${LOG_TAG:-stack}" -1 "$*" >&2 || true; }
die() { log "error: $*"; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_free_port PORT WHAT: fail early with a clear message instead of a confusing bind error.
require_free_port() { ! port_open "$1" || die "port 127.0.0.1:$1 ($2) is already in use; pick another (see --help)"; }

# wait_until TIMEOUT_S WHAT CMD...: polls CMD every 0.25 s.
wait_until() {
  local timeout=$1 what=$2 t0=$SECONDS; shift 2
  until "$@"; do
    (( SECONDS - t0 >= timeout )) && { log "timed out after ${timeout}s waiting for $what"; return 1; }
    sleep 0.25
  done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# start_daemon PIDFILE LOGFILE CMD...: starts CMD detached in a new session, output to LOGFILE.
start_daemon() {
  local pidfile=$1 logfile=$2; shift 2
  setsid "$@" >>"$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

# stop_pidfile PIDFILE WHAT: TERM the process group, then KILL after 10 s.
stop_pidfile() {
  local pidfile=$1 what=$2 pid
  [ -f "$pidfile" ] || { log "$what: not running (no $pidfile)"; return 0; }
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i; for i in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$what: still running after 10 s, sending KILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$what: stopped (pid $pid)"
  else
    log "$what: not running (stale pid $pid)"
  fi
  rm -f "$pidfile"
}

# render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ in TEMPLATE.
render() {
  local tpl=$1 out=$2 kv expr=(); shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$tpl" > "$out"
}
