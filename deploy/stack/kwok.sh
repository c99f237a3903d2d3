#!/usr/bin/env bash
# A KWOK cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok controller)
# as local processes on loopback, from the binaries deploy/stack/build.sh made. kwokctl downloads nothing.
#   deploy/stack/kwok.sh up   [--name kt] [--nodes 3] [--webhook-port 8080] [--webhook-path /audit/<name>]
#                             [--apiserver-port PORT] [--workdir DIR] [--extra-config FILE] [--audit-policy FILE]
#                             [-- more kwokctl create cluster flags]
#   deploy/stack/kwok.sh down [--name kt] [--workdir DIR]
#   deploy/stack/kwok.sh env  [--name kt] [--workdir DIR]     (prints KUBECONFIG=... AUDIT_LOG=...)
# Workdir: KWOK_WORKDIR, default $STACK_DIR/kwok; the cluster lives in <workdir>/clusters/<name>/
# (kubeconfig.yaml, logs/audit.log, logs/<component>.log, pids/). The audit webhook target need not
# be listening: kube-apiserver retries a refused batch a few times (1 s backoff) and then drops it.
# --extra-config appends YAML documents to the kwokctl configuration, e.g. kwok Stages (giving any
# Stage replaces all of kwok's default stages: bench/diagnose-corpus/kwok-stages.yaml gives them all).
# --audit-policy replaces deploy/kwok/audit-policy.yaml (e.g. one that drops a class of requests).
# Flags after -- go to `kwokctl create cluster` (e.g. --heartbeat-factor 10, as bench/kwok-scale.ts does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
LOG_TAG=kwok; . "$here/lib.sh"

cmd=${1:-}; shift || true
name=kt nodes=3 webhook_port=8080 webhook_path= apiserver_port= extra_config= audit_policy=$REPO_ROOT/deploy/kwok/audit-policy.yaml
workdir=${KWOK_WORKDIR:-$STACK_DIR/kwok}
kwokctl_flags=()
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --webhook-port) webhook_port=$2; shift 2 ;;
    --webhook-path) webhook_path=$2; shift 2 ;;
    --apiserver-port) apiserver_port=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --extra-config) extra_config=$2; shift 2 ;;
    --audit-policy) audit_policy=$2; shift 2 ;;
    --) shift; kwokctl_flags=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
webhook_path=${webhook_path:-/audit/$name}
export KWOK_WORKDIR=$workdir
cluster_dir=$workdir/clusters/$name
conf_dir=$workdir/config/$name
kubeconfig=$cluster_dir/kubeconfig.yaml
audit_log=$cluster_dir/logs/audit.log
kube_bin=$STACK_BIN/k8s-$KUBE_VERSION etcd_bin=$STACK_BIN/etcd-$ETCD_VERSION kwok_bin=$STACK_BIN/kwok-$KWOK_VERSION
kwokctl=$kwok_bin/kwokctl
# kwokctl finds kubectl on PATH (for its readiness check); prefer a 1.33 client where the image has one
if [ -z "${KUBECTL:-}" ]; then
  KUBECTL=kubectl
  k=/usr/lib/google-cloud-sdk/bin/kubectl.$(echo "$KUBE_VERSION" | cut -d. -f1-2); [ -x "$k" ] && KUBECTL=$k
  KUBECTL=$(command -v "$KUBECTL" || true); [ -n "$KUBECTL" ] || die "kubectl not found on PATH (set KUBECTL=/path/to/kubectl)"
fi
mkdir -p "$STACK_DIR/kubectl-path"; ln -sf "$KUBECTL" "$STACK_DIR/kubectl-path/kubectl"
export PATH=$STACK_DIR/kubectl-path:$PATH
kc() { kubectl --kubeconfig "$kubeconfig" "$@"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || { local p; while p=$((20000 + RANDOM % 12000)); port_open "$p"; do :; done; echo "$p"; }
}

up() {
  local b; for b in "$kube_bin/kube-apiserver" "$kube_bin/kube-controller-manager" "$kube_bin/kube-scheduler" \
      "$etcd_bin/etcd" "$kwok_bin/kwok" "$kwokctl"; do
    [ -x "$b" ] || die "$b is missing; run deploy/stack/build.sh"
  done
  if [ -f "$cluster_dir/kwok.yaml" ]; then
    if kc get --raw /readyz >/dev/null 2>&1; then
      log "cluster $name is already running"; print_env; return
    fi
    log "cluster $name exists but does not answer; removing it first"; down
  fi
  apiserver_port=${apiserver_port:-$(free_port)}
  require_free_port "$apiserver_port" "kube-apiserver"
  local ports=() p
  while [ ${#ports[@]} -lt 5 ]; do
    p=$(free_port); [[ " ${ports[*]} $apiserver_port " == *" $p "* ]] || ports+=("$p")
  done
  local t0=$SECONDS token
  mkdir -p "$conf_dir"
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf '%s,system:kube-scheduler,uid-kube-scheduler\n' "$token" > "$conf_dir/tokens.csv"
  chmod 600 "$conf_dir/tokens.csv"
  render "$REPO_ROOT/deploy/kwok/scheduler.kubeconfig" "$conf_dir/scheduler.kubeconfig" \
    SERVER="https://127.0.0.1:$apiserver_port" CA_FILE="$cluster_dir/pki/ca.crt" TOKEN="$token"
  render "$REPO_ROOT/deploy/kwok/audit-webhook.kubeconfig" "$conf_dir/audit-webhook.kubeconfig" \
    WEBHOOK_URL="http://127.0.0.1:$webhook_port$webhook_path"
  [ -f "$audit_policy" ] || die "--audit-policy $audit_policy: no such file"
  cp "$audit_policy" "$conf_dir/audit-policy.yaml"
  render "$REPO_ROOT/deploy/kwok/cluster.yaml" "$conf_dir/cluster.yaml" \
    APISERVER_PORT="$apiserver_port" ETCD_PORT="${ports[0]}" ETCD_PEER_PORT="${ports[1]}" KCM_PORT="${ports[2]}" \
    SCHEDULER_PORT="${ports[3]}" KWOK_CONTROLLER_PORT="${ports[4]}" KUBE_BIN="$kube_bin" KWOK_BIN="$kwok_bin" ETCD_BIN="$etcd_bin" \
    AUDIT_POLICY="$conf_dir/audit-policy.yaml" WEBHOOK_KUBECONFIG="$conf_dir/audit-webhook.kubeconfig" \
    TOKEN_FILE="$conf_dir/tokens.csv" SCHEDULER_KUBECONFIG="$conf_dir/scheduler.kubeconfig"
  if [ -n "$extra_config" ]; then
    [ -f "$extra_config" ] || die "--extra-config $extra_config: no such file"
    { printf -- '---\n'; cat "$extra_config"; } >> "$conf_dir/cluster.yaml"
  fi
  log "creating cluster $name (Kubernetes $KUBE_VERSION, apiserver 127.0.0.1:$apiserver_port," \
      "audit webhook http://127.0.0.1:$webhook_port$webhook_path)"
  # --kubeconfig '': leave ~/.kube/config alone; the cluster has its own kubeconfig.yaml
  "$kwokctl" create cluster --name "$name" --config "$conf_dir/cluster.yaml" --kubeconfig '' --wait 120s \
    ${kwokctl_flags[@]+"${kwokctl_flags[@]}"} \
    >"$conf_dir/kwokctl-create.log" 2>&1 \
    || { cat "$conf_dir/kwokctl-create.log" >&2; tail -5 "$cluster_dir"/logs/*.log >&2 2>/dev/null; die "kwokctl create cluster failed"; }
  log "control plane ready in $((SECONDS - t0))s"
  add_nodes
  # pods need the default ServiceAccount, which kube-controller-manager creates shortly after start
  wait_until 60 "the default ServiceAccount" kc get serviceaccount default -n default -o name >/dev/null 2>&1 \
    < /dev/null || die "no default ServiceAccount"
  log "cluster $name ready in $((SECONDS - t0))s"
  print_env
}

add_nodes() {
  [ "$nodes" -gt 0 ] || return 0
  local i docs=
  for i in $(seq 0 $((nodes - 1))); do
    docs+=$(render "$REPO_ROOT/deploy/kwok/node.yaml" /dev/stdout NAME="kwok-node-$i")$'\n---\n'
  done
  printf '%s' "$docs" | kc apply -f - >/dev/null
  nodes_ready() { [ "$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -ge "$nodes" ]; }
  wait_until 60 "$nodes fake nodes to be Ready" nodes_ready || die "fake nodes did not become Ready"
  log "$nodes fake nodes Ready (kwok-node-0..kwok-node-$((nodes - 1)))"
}

print_env() {
  echo "KUBECONFIG=$kubeconfig"
  echo "AUDIT_LOG=$audit_log"
  echo "CLUSTER_DIR=$cluster_dir"
  echo "KUBECTL=$KUBECTL"
}

down() {
  if [ -d "$cluster_dir" ]; then
    # (no --kubeconfig '': delete refuses an empty path; it only removes a kwok-<name> context)
    "$kwokctl" delete cluster --name "$name" >/dev/null 2>&1 || log "kwokctl delete failed; killing by pid files"
  fi
  # whatever kwokctl left behind (a broken state, an interrupted create): its pid files,
  # all at once (each TERM, then KILL after 10 s)
  local f; for f in "$cluster_dir"/pids/*.pid; do
    [ -f "$f" ] && stop_pidfile "$f" "$(basename "$f" .pid)" &
  done
  wait
  rm -rf "$cluster_dir" "$conf_dir"
  log "cluster $name removed"
}

case $cmd in
  up) up ;;
  down) down ;;
  env) print_env ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
