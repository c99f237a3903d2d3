#!/usr/bin/env bash
# One command: a kwokctl cluster whose kube-apiserver sends its audit events to a running kubetrail
# (audit policy, audit webhook kubeconfig, batch settings). For KWOK users; copy it as it is.
#   deploy/kwok/kwokctl-kubetrail.sh [--name kwok] [--runtime binary|docker] [--webhook-url URL]
#                                    [--token-file FILE --ca-file FILE] [--dir DIR] [-- more kwokctl create cluster flags]
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
#   --dir          where the audit files are written (default ~/.kwok/kubetrail/<name>)
# Environment: KWOKCTL (default kwokctl on PATH), KUBETRAIL_AUDIT_POLICY (default the policy beside
# this script). Then start kubetrail with what the script prints.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=kwok runtime=binary url= token_file= ca_file= dir=
while [ $# -gt 0 ]; do
  case $1 in
    --name) name=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --webhook-url) url=$2; shift 2 ;;
    --token-file) token_file=$2; shift 2 ;;
    --ca-file) ca_file=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
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
kwokctl=${KWOKCTL:-kwokctl}
command -v "$kwokctl" >/dev/null || { echo "kwokctl-kubetrail: kwokctl not found (set KWOKCTL=/path/to/kwokctl)" >&2; exit 1; }
dir=${dir:-$HOME/.kwok/kubetrail/$name}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

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

# 3. kwokctl: audit policy, webhook, batch settings (a batch a second, quick retries, no throttle)
{
  cat <<YAML
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: $runtime
  kubeAuditPolicy: $dir/audit-policy.yaml
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
YAML
  if [ "$runtime" != binary ]; then
    cat <<YAML
  extraVolumes:
  - name: kubetrail-audit
    hostPath: $dir
    mountPath: /etc/kubetrail
    readOnly: true
    pathType: Directory
YAML
  fi
} > "$dir/kwokctl.yaml"

echo "[kwokctl-kubetrail] creating cluster $name ($runtime runtime), audit events to $url" >&2
"$kwokctl" create cluster --name "$name" --config "$dir/kwokctl.yaml" "$@"

kubeconfig=${KWOK_WORKDIR:-$HOME/.kwok}/clusters/$name/kubeconfig.yaml
port=$(printf '%s' "$url" | sed -E 's#^[a-z]+://[^/]*:([0-9]+)(/.*)?$#\1#; t; s#^https.*#443#; s#^http:.*#80#')
cat <<TXT
cluster $name is up; its kube-apiserver POSTs audit batches to $url every second.
Run kubetrail (it answers 200 once the spans are durable; kube-apiserver retries 429/503):
  kubetrail serve --cluster $name --kubeconfig $kubeconfig --webhook-port $port${token_file:+ --webhook-token-file $token_file --tls-cert <cert> --tls-key <key>}
TXT
