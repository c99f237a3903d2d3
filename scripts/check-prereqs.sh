#!/bin/sh
# What `npm test` needs besides npm, checked before anything is installed or built, with one
# message per missing tool (so a missing Maven is found in a second, not after a 20-minute Go build):
#   - Go >= 1.26 to build the Kubernetes control plane, etcd, kwok and Jaeger (only when not cached)
#   - Java (runs Kafka) and Maven (fetches Kafka from Maven Central, only when not cached)
#   - Chromium for the browser tests, or root/sudo with apt-get to install Debian's package
# Exit 0 when everything is there, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../deploy/stack/versions.sh"
missing=0
say() { echo "[test] missing prerequisite: $*" >&2; missing=$((missing + 1)); }
have() { command -v "$1" >/dev/null 2>&1; }

need_go=0
[ -x "$STACK_BIN/etcd-$ETCD_VERSION/etcd" ] || need_go=1
[ -x "$STACK_BIN/kwok-$KWOK_VERSION/kwok" ] && [ -x "$STACK_BIN/kwok-$KWOK_VERSION/kwokctl" ] || need_go=1
[ -x "$STACK_BIN/jaeger-$JAEGER_VERSION/jaeger" ] || need_go=1
k8s=$STACK_BIN/k8s-$KUBE_VERSION
[ -x "$k8s/kube-apiserver" ] && [ -x "$k8s/kube-controller-manager" ] && [ -x "$k8s/kube-scheduler" ] || need_go=1
if [ "$need_go" = 1 ]; then
  if ! have go; then
    say "go (Go >= 1.26) builds the Kubernetes control plane, etcd, kwok and Jaeger from the Go module proxy (not cached yet in $STACK_BIN); install it from https://go.dev/dl/ or your package manager"
  else
    v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
    major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
    case "$major.$minor" in
      *[!0-9.]*|.) say "go: cannot tell its version ('$v'); Go >= 1.26 is needed" ;;
      *) if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 26 ]; }; then
           say "go $v is too old: Go >= 1.26 builds the stack (GOTOOLCHAIN=local, no toolchain download)"
         fi ;;
    esac
  fi
fi
have java || say "java (a JRE >= 17) runs Kafka for the Kafka tests; e.g. apt-get install default-jre-headless"
if [ ! -f "$STACK_DIR/kafka-$KAFKA_VERSION/.complete" ] && ! have mvn; then
  say "mvn (Maven) fetches Kafka $KAFKA_VERSION from Maven Central (not cached yet in $STACK_DIR); e.g. apt-get install maven"
fi
if ! have chromium && [ ! -x /usr/bin/chromium ]; then
  if ! have apt-get; then
    say "chromium for the browser tests (/usr/bin/chromium), and no apt-get to install it"
  elif [ "$(id -u 2>/dev/null)" != 0 ] && ! have sudo; then
    say "chromium for the browser tests: installing Debian's package needs root or sudo (or install chromium yourself)"
  fi
fi
if [ "$missing" -gt 0 ]; then
  echo "[test] $missing prerequisite(s) missing, see above (npm test needs them besides npm; README.md, Quick start)" >&2
  exit 1
fi
exit 0
