#!/usr/bin/env bash
# Records the demo scenario on a fresh, real KWOK cluster (deploy/stack/kwok.sh, 3 fake nodes):
# a Deployment's life (create, scale up, new image, scale down, delete), a Service and its
# EndpointSlice, a Secret mounted by a pod, a StatefulSet, a Job that completes, and a node
# removed while pods run on it. Saves the cluster's audit log and its Events:
#   examples/kwok-scenario/audit.log (audit.log.gz when > 2 MB), events.json, timeline.tsv
# Usage: examples/record-scenario.sh [--out DIR] [--pause SECONDS]
# Needs the stack binaries (deploy/stack/build.sh). Takes about 3-4 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=$here/kwok-scenario pause=3
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --pause) pause=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
name=kwok ns=demo      # `kubetrail demo` replays with --cluster kwok by default
workdir=$(mktemp -d "${TMPDIR:-/tmp}/kubetrail-record-XXXXXX")
cleanup() { "$root/deploy/stack/kwok.sh" down --name "$name" --workdir "$workdir" || true; rm -rf "$workdir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# nobody listens on the webhook port: the recording is the audit log file
envout=$("$root/deploy/stack/kwok.sh" up --name "$name" --nodes 3 --workdir "$workdir" \
  --webhook-port "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')")
eval "$(echo "$envout" | grep -E '^(KUBECONFIG|AUDIT_LOG|KUBECTL)=')"
export KUBECONFIG
k() { "$KUBECTL" "$@"; }

mkdir -p "$out"; rm -f "$out"/audit.log "$out"/audit.log.gz "$out"/events.json
timeline=$out/timeline.tsv
printf 'time\tstep\n' > "$timeline"
step() { local t; t=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ); printf '%s\t%s\n' "$t" "$*" >> "$timeline"; echo "[record $t] $*" >&2; }
breathe() { sleep "$pause"; }
ready_pods() { k get pods -n "$ns" -l "$1" -o jsonpath='{range .items[*]}{.status.phase}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' | grep -c '^Running $' || true; }
wait_pods() { # selector count
  local i; for i in $(seq 240); do [ "$(ready_pods "$1")" = "$2" ] && [ "$(k get pods -n "$ns" -l "$1" --no-headers 2>/dev/null | wc -l)" = "$2" ] && return; sleep 0.5; done
  echo "timed out waiting for $2 pods $1" >&2; k get pods -n "$ns" -o wide >&2; exit 1
}

step "create namespace $ns"
k create namespace "$ns" >/dev/null
until k get serviceaccount default -n "$ns" >/dev/null 2>&1; do sleep 0.5; done
breathe

step "create Service demo (ClusterIP, selector app=demo, port 80)"
k create service clusterip demo --tcp=80:80 -n "$ns" >/dev/null
breathe

step "create Deployment demo (nginx:1.25, 2 replicas)"
k create deployment demo --image=nginx:1.25 --replicas=2 --port=80 -n "$ns" >/dev/null
wait_pods app=demo 2; k rollout status deployment/demo -n "$ns" --timeout=120s >/dev/null
step "Deployment demo: 2 pods Running"
breathe

step "scale Deployment demo to 4"
k scale deployment/demo --replicas=4 -n "$ns" >/dev/null
wait_pods app=demo 4
step "Deployment demo: 4 pods Running"
breathe

step "set image of Deployment demo to nginx:1.26"
k set image deployment/demo nginx=nginx:1.26 -n "$ns" >/dev/null
k rollout status deployment/demo -n "$ns" --timeout=120s >/dev/null; wait_pods app=demo 4
step "Deployment demo: rollout to nginx:1.26 complete"
breathe

step "scale Deployment demo to 2"
k scale deployment/demo --replicas=2 -n "$ns" >/dev/null
wait_pods app=demo 2
step "Deployment demo: 2 pods Running"
breathe

step "create Secret demo-credentials and Pod secret-reader mounting it"
k create secret generic demo-credentials --from-literal=username=demo --from-literal=password=s3cr3t-demo-value -n "$ns" >/dev/null
k apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: secret-reader
  labels: {app: secret-reader}
spec:
  containers:
  - name: reader
    image: busybox:1.36
    command: [sh, -c, "cat /etc/demo/password; sleep 3600"]
    volumeMounts:
    - {name: credentials, mountPath: /etc/demo, readOnly: true}
  volumes:
  - name: credentials
    secret: {secretName: demo-credentials}
YAML
wait_pods app=secret-reader 1
step "Pod secret-reader Running"
breathe

step "create headless Service web and StatefulSet web (2 replicas)"
k apply -n "$ns" -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{name: http, containerPort: 80}]
YAML
wait_pods app=web 2
step "StatefulSet web: web-0 and web-1 Running"
breathe

step "create Job pi (1 completion)"
k create job pi --image=perl:5.34 -n "$ns" -- perl -Mbignum=bpi -wle 'print bpi(100)' >/dev/null
k wait --for=condition=complete job/pi -n "$ns" --timeout=120s >/dev/null
step "Job pi complete (pod Succeeded via kwok's pod-complete stage)"
breathe

# the node running most of our pods
victim=$(k get pods -n "$ns" -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
on_victim=$(k get pods -n "$ns" --field-selector "spec.nodeName=$victim,status.phase=Running" -o jsonpath='{.items[*].metadata.name}')
step "delete Node $victim while pods run on it: $on_victim"
k delete node "$victim" >/dev/null
# pod GC removes pods bound to a node that no longer exists (checks every 20 s, 40 s quarantine);
# the ReplicaSet and the StatefulSet then recreate them on the remaining nodes
for i in $(seq 240); do
  [ -z "$(k get pods -n "$ns" --field-selector "spec.nodeName=$victim" -o name)" ] && break; sleep 0.5
done
wait_pods app=demo 2; wait_pods app=web 2
step "pods of $victim garbage-collected and recreated on the remaining nodes"
breathe

step "delete Deployment demo"
k delete deployment demo -n "$ns" --wait=true >/dev/null
for i in $(seq 120); do [ -z "$(k get pods -n "$ns" -l app=demo -o name)" ] && break; sleep 0.5; done
step "Deployment demo, its ReplicaSets and pods gone"
sleep 5   # let the last writes reach the log

k get events -A -o json > "$out/events.json"
cp "$AUDIT_LOG" "$out/audit.log"
size=$(stat -c %s "$out/audit.log")
if [ "$size" -gt $((2 * 1024 * 1024)) ]; then gzip -9 -n "$out/audit.log"; fi
echo "[record] $(wc -l < "$AUDIT_LOG") audit events ($((size / 1024)) KiB), $(grep -c '"kind": "Event"' "$out/events.json" || true) Events -> $out" >&2
ls -la "$out" >&2
