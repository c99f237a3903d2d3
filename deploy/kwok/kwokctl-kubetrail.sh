#!/usr/bin/env bash
# One command: a kwokctl cluster whose kube-apiserver sends its audit events to a running kubetrail
# (audit policy, audit webhook kubeconfig, batch settings), and whose audit events name who did what:
# each controller of kube-controller-manager as its own service account, kube-scheduler as
# system:kube-scheduler (kwokctl alone gives all of them its one admin certificate, kwok-admin).
# For KWOK users; copy this directory (the script, audit-policy.yaml, scheduler.kubeconfig).
#   deploy/kwok/kwokctl-kubetrail.sh [--name kwok] [--runtime binary|docker] [--webhook-url URL]
#                                    [--token-file FILE --ca-file FILE] [--dir DIR] [--bind-address ADDR]
#                                    [-- more kwokctl create cluster flags]
#   --name         kwokctl cluster name, also kubetrail's --cluster (default kwok)
#   --runtime      binary (processes on this host) or docker (containers); default binary
#   --webhook-url  where kubetrail's webhook listens; default http://127.0.0.1:8080/audit/<name>
#                  (binary) or http://host.docker.internal:8080/audit/<name> (docker: the
#                  kube-apiserver container must reach the host; on Linux pass the address of the
#                  docker network's gateway and let kubetrail listen there, with a token)
#   --token-file   file with kubetrail's --webhook-token (the audit kubeconfig then sends it). Needs
#                  an https:// --webhook-url: kube-apiserver (client-go) attaches credentials only
#                  to TLS connections, over http:// it sends no token at all
#   --ca-file      CA of kubetrail's --tls-cert (certificate-authority of the audit kubeconfig)
#   --dir          where the recipe's files are written (default ~/.kwok/kubetrail/<name>)
#   --bind-address where the components listen with the binary runtime: 127.0.0.1 (default, this
#                  host only) or 0.0.0.0 (all interfaces, kwokctl's own default)
# ~/.kube/config is left alone (the cluster's kubeconfig is <workdir>/clusters/<name>/kubeconfig.yaml)
# unless a --kubeconfig FILE after -- asks kwokctl to add a context there. The cluster starts with
# no nodes: the script prints the `kwokctl scale node` command that adds fake ones.
# Environment: KWOKCTL (default kwokctl on PATH), KWOK_WORKDIR (kwokctl's, default ~/.kwok),
# KUBETRAIL_AUDIT_POLICY (default the policy beside this script); kwokctl's own KWOK_* variables and
# flags (e.g. --kube-apiserver-binary for local binaries) pass through. Then start kubetrail with
# what the script prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=kwok runtime=binary url= token_file= ca_file= dir= bind=127.0.0.1
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --webhook-url) url=$2; shift 2 ;;
    --token-file) token_file=$2; shift 2 ;;
    --ca-file) ca_file=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --bind-address) bind=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "kwokctl-kubetrail: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $runtime in
  binary) url=${url:-http://127.0.0.1:8080/audit/$name} ;;
  docker|podman|nerdctl) url=${url:-http://host.docker.internal:8080/audit/$name} ;;
  *) echo "kwokctl-kubetrail: --runtime binary or docker (podman, nerdctl work like docker)" >&2; exit 2 ;;
esac
if [ -n "$token_file" ] && [ "${url#https://}" = "$url" ]; then
  echo "kwokctl-kubetrail: --token-file needs an https:// --webhook-url (kube-apiserver sends credentials only over TLS); run kubetrail with --tls-cert/--tls-key and pass --ca-file" >&2
  exit 2
fi
[ -z "$token_file" ] || token_file=$(cd "$(dirname "$token_file")" && pwd)/$(basename "$token_file")
kwokctl=${KWOKCTL:-kwokctl}
command -v "$kwokctl" >/dev/null || { echo "kwokctl-kubetrail: kwokctl not found (set KWOKCTL=/path/to/kwokctl)" >&2; exit 1; }
dir=${dir:-$HOME/.kwok/kubetrail/$name}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
workdir=${KWOK_WORKDIR:-$HOME/.kwok}
cluster_dir=$workdir/clusters/$name
kubeconfig=$cluster_dir/kubeconfig.yaml

# flag_value FLAG ARGS...: the value of the last FLAG (--flag V or --flag=V) among the kwokctl flags
flag_value() {
  local flag=$1 v= found=1; shift
  while [ $# -gt 0 ]; do
    case $1 in
      "$flag") v=${2-}; found=0; shift ;;
      "$flag"=*) v=${1#*=}; found=0 ;;
    esac
    shift
  done
  printf '%s' "$v"; return $found
}

# volume NAME HOSTPATH MOUNTPATH TYPE: a read-only extraVolumes entry of a component (container runtimes)
volume() { printf '  extraVolumes:\n  - name: %s\n    hostPath: %s\n    mountPath: %s\n    readOnly: true\n    pathType: %s\n' "$@"; }

# 1. the audit policy: writes with request and response bodies (kubetrail diffs them), reads as metadata
cp "${KUBETRAIL_AUDIT_POLICY:-$here/audit-policy.yaml}" "$dir/audit-policy.yaml"

# 2. the audit webhook kubeconfig; in a container the files are mounted at /etc/kubetrail
files=$dir; [ "$runtime" = binary ] || files=/etc/kubetrail
{
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: kubetrail\n  cluster:\n    server: "%s"\n' "$url"
  if [ -n "$ca_file" ]; then
    printf '    certificate-authority-data: %s\n' "$(base64 -w0 < "$ca_file")"
  fi
  if [ -n "$token_file" ]; then
    printf 'users:\n- name: kube-apiserver\n  user:\n    token: "%s"\n' "$(tr -d ' \r\n' < "$token_file")"
    printf 'contexts:\n- name: kubetrail\n  context:\n    cluster: kubetrail\n    user: kube-apiserver\n'
  else
    printf 'contexts:\n- name: kubetrail\n  context:\n    cluster: kubetrail\n'
  fi
  printf 'current-context: kubetrail\n'
} > "$dir/audit-webhook.kubeconfig.tmp"
chmod 600 "$dir/audit-webhook.kubeconfig.tmp"   # it may hold the token
mv "$dir/audit-webhook.kubeconfig.tmp" "$dir/audit-webhook.kubeconfig"

# 3. kube-scheduler's own identity: a static token of system:kube-scheduler (bootstrap RBAC gives it
# what it needs) and a kubeconfig using it, so pods/binding events name the scheduler. The server is
# the kube-apiserver as the scheduler reaches it: this host's loopback and the apiserver port
# (a --kube-apiserver-port after --, KWOK_KUBE_APISERVER_PORT, or a free one picked here), or in a
# container network the kube-apiserver container. The CA is the one kwokctl makes for the cluster.
if [ "$runtime" = binary ]; then
  port=$(flag_value --kube-apiserver-port "$@") || port=${KWOK_KUBE_APISERVER_PORT:-0}
  if [ "$port" = 0 ]; then
    while port=$((20000 + RANDOM % 12000)); (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do :; done
  fi
  server=https://127.0.0.1:$port ca=$cluster_dir/pki/ca.crt
else
  server=https://kwok-$name-kube-apiserver:6443 ca=/etc/kubernetes/pki/ca.crt
fi
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
( umask 077
  printf '%s,system:kube-scheduler,uid-kube-scheduler\n' "$token" > "$dir/tokens.csv"
  sed -e "s|@SERVER@|$server|; s|@CA_FILE@|$ca|; s|@TOKEN@|$token|" "$here/scheduler.kubeconfig" > "$dir/scheduler.kubeconfig" )

# 4. kwokctl: audit policy, webhook, batch settings (a batch a second, quick retries, no throttle),
# the controllers' and the scheduler's identities
{
  cat <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: $runtime
  kubeAuditPolicy: $dir/audit-policy.yaml
YAML
  [ "$runtime" != binary ] || printf '  bindAddress: %s\n  kubeApiserverPort: %s\n' "$bind" "$port"
  cat <<YAML
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: audit-webhook-config-file
    value: $files/audit-webhook.kubeconfig
  - key: audit-webhook-batch-max-wait
    value: 1s
  - key: audit-webhook-batch-max-size
    value: "400"
  - key: audit-webhook-initial-backoff
    value: 1s
  - key: audit-webhook-batch-throttle-enable
    value: "false"
  - key: token-auth-file
    value: $files/tokens.csv
YAML
  [ "$runtime" = binary ] || volume kubetrail-files "$dir" /etc/kubetrail Directory
  cat <<YAML
- name: kube-controller-manager
  extraArgs:
  # each controller its own service account (system:serviceaccount:kube-system:replicaset-controller)
  - key: use-service-account-credentials
    value: "true"
  # one instance: no leader-election lease renewals every 2 s in the audit log
  - key: leader-elect
    value: "false"
- name: kube-scheduler
  extraArgs:
  - key: kubeconfig
    value: $files/scheduler.kubeconfig
    override: true
  - key: leader-elect
    value: "false"
YAML
  # the scheduler container sees only its kubeconfig, not kubetrail's token
  [ "$runtime" = binary ] || volume kubetrail-scheduler "$dir/scheduler.kubeconfig" /etc/kubetrail/scheduler.kubeconfig File
} > "$dir/kwokctl.yaml"

echo "[kwokctl-kubetrail] creating cluster $name ($runtime runtime), audit events to $url" >&2
# --kubeconfig '' first: a --kubeconfig among the user's flags wins, otherwise ~/.kube/config stays untouched
"$kwokctl" create cluster --name "$name" --config "$dir/kwokctl.yaml" --kubeconfig '' "$@"

# the commands to print: kwokctl as it was called here (with KWOK_WORKDIR when it is not the default),
# kubetrail as installed and from this checkout
kw=$kwokctl; [ -z "${KWOK_WORKDIR:-}" ] || kw="KWOK_WORKDIR=$KWOK_WORKDIR $kwokctl"
delete_kubeconfig=$(flag_value --kubeconfig "$@") || delete_kubeconfig=
serve="serve --cluster $name --kubeconfig $kubeconfig --webhook-port $(printf '%s' "$url" | sed -E 's#^[a-z]+://[^/]*:([0-9]+)(/.*)?$#\1#; t; s#^https.*#443#; s#^http:.*#80#')${token_file:+ --webhook-token-file $token_file --tls-cert <cert> --tls-key <key>}"
checkout=$(cd "$here/../.." && pwd)
grep -qs '"name": "kubetrail"' "$checkout/package.json" || checkout=
cat <<TXT
cluster $name is up; its kube-apiserver POSTs audit batches to $url every second.
Run kubetrail (it answers 200 once the spans are durable; kube-apiserver retries 429/503):
  kubetrail $serve
${checkout:+  or from this kubetrail checkout: npm --prefix $checkout run kubetrail -- $serve
}Add fake nodes (the cluster has none; pods stay Pending without them):
  $kw scale node --name $name --replicas 3
Use the cluster:
  kubectl --kubeconfig $kubeconfig get nodes
Delete it:
  $kw delete cluster --name $name --kubeconfig ${delete_kubeconfig:-$kubeconfig}
TXT
