#!/usr/bin/env bash
# Builds the real test stack from the package registries (Go module proxy, Maven Central),
# one component after another, into $STACK_DIR (default ~/.cache/kubetrail/stack), keyed by version.
# A component whose binaries exist is skipped, so a warm run takes seconds.
#   deploy/stack/build.sh [kafka|etcd|kwok|jaeger|kube|helm]...   (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
# The checksum database reached through the module proxy answers 404 for some OpenTelemetry
# Collector modules that Jaeger needs (seen 2026-11-22); fetch those from the proxy without the
# sumdb lookup. Everything else is still verified.
export GONOSUMDB=${GONOSUMDB:-go.opentelemetry.io/collector,github.com/open-telemetry/opentelemetry-collector-contrib}
mkdir -p "$STACK_BIN"

log() { printf '[stack %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
need() { command -v "$1" >/dev/null || { log "error: $1 is needed to build $2 (not on PATH)"; exit 1; }; }
timed() { # name, function; records the time only of a real (not cached) build
  local name=$1 t0=$SECONDS; shift
  built=0
  "$@"
  [ "$built" = 1 ] || return 0
  log "built $name in $((SECONDS - t0))s"
  printf '%s\t%s\t%ss\n' "$(date -u +%FT%TZ)" "$name" "$((SECONDS - t0))" >> "$STACK_DIR/build-times.tsv"
}

build_kafka() {
  local out=$STACK_DIR/kafka-$KAFKA_VERSION
  [ -f "$out/.complete" ] && { log "kafka $KAFKA_VERSION: cached"; return; }
  need mvn Kafka; need java Kafka
  built=1; log "building Kafka ..."
  local w=$STACK_DIR/work/kafka-$KAFKA_VERSION; rm -rf "$w" "$out"; mkdir -p "$w"
  cat > "$w/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.kubetrail</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  mvn -B -q -f "$w/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
    -DoutputDirectory="$out/libs" -DincludeScope=runtime
  touch "$out/.complete"
}

build_etcd() {
  local out=$STACK_BIN/etcd-$ETCD_VERSION
  [ -x "$out/etcd" ] && { log "etcd $ETCD_VERSION: cached"; return; }
  need go etcd
  built=1; log "building etcd ..."
  local w=$STACK_DIR/work/etcd-$ETCD_VERSION; rm -rf "$w"; mkdir -p "$w" "$out.tmp"; cd "$w"
  go mod init local/etcdbuild >/dev/null 2>&1
  go mod edit -go=1.26 -require=go.etcd.io/etcd/server/v3@v$ETCD_VERSION
  go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_kwok() {
  local out=$STACK_BIN/kwok-$KWOK_VERSION
  [ -x "$out/kwok" ] && [ -x "$out/kwokctl" ] && { log "kwok $KWOK_VERSION: cached"; return; }
  need go kwok
  built=1; log "building kwok ..."
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  GOBIN=$out.tmp go install -trimpath -ldflags "-s -w" \
    sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION sigs.k8s.io/kwok/cmd/kwokctl@v$KWOK_VERSION
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_jaeger() {
  local out=$STACK_BIN/jaeger-$JAEGER_VERSION
  [ -x "$out/jaeger" ] && { log "jaeger $JAEGER_VERSION: cached"; return; }
  need go Jaeger
  built=1; log "building Jaeger ..."
  local w=$STACK_DIR/work/jaeger-$JAEGER_VERSION; rm -rf "$w"; mkdir -p "$w" "$out.tmp"; cd "$w"
  go mod init local/jaegerbuild >/dev/null 2>&1
  go mod edit -go=1.26 -require=github.com/jaegertracing/jaeger@v$JAEGER_VERSION \
    -replace=github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0
  go build -trimpath -ldflags "-s -w" -o "$out.tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_kube() {
  local kv=$KUBE_VERSION out=$STACK_BIN/k8s-$KUBE_VERSION
  [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/kube-scheduler" ] \
    && { log "kubernetes $kv: cached"; return; }
  need go Kubernetes
  built=1; log "building Kubernetes ..."
  local sv=0.${kv#1.} minor; minor=$(echo "$kv" | cut -d. -f2)
  local w=$STACK_DIR/work/k8s-$kv; rm -rf "$w"; mkdir -p "$w" "$out.tmp"; cd "$w"
  go mod init local/k8sbuild >/dev/null 2>&1; go mod edit -go=1.26
  local mod; mod=$(go mod download -json "k8s.io/kubernetes@v$kv" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  # one replace per staging module (every k8s.io/* module upstream requires at v0.0.0)
  for m in $(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$mod" | sort -u); do
    go mod edit -replace="$m=$m@v$sv"
  done
  grep -E '^godebug [a-z]' "$mod" >> go.mod || true
  go mod edit -require="k8s.io/kubernetes@v$kv"
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=v$kv -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  go build -trimpath -ldflags "$ldf" -o "$out.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  rm -rf "$out"; mv "$out.tmp" "$out"
}

build_helm() {
  local out=$STACK_BIN/helm-$HELM_VERSION
  [ -x "$out/helm" ] && { log "helm $HELM_VERSION: cached"; return; }
  need go Helm
  built=1; log "building Helm ..."
  rm -rf "$out.tmp"; mkdir -p "$out.tmp"
  # like helm's Makefile: the version `helm version` prints, and the Kubernetes version that
  # `helm template`/`helm lint` assume (that of its client-go; otherwise a placeholder 1.20)
  local mod kminor; mod=$(go mod download -json "helm.sh/helm/v3@v$HELM_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
  kminor=$(awk '$1 == "k8s.io/client-go" {split($2, v, "."); print v[2]; exit}' "$mod")
  local p ldf="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldf="$ldf -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$kminor"
  done
  GOBIN=$out.tmp go install -trimpath -ldflags "$ldf" helm.sh/helm/v3/cmd/helm@v$HELM_VERSION
  rm -rf "$out"; mv "$out.tmp" "$out"
}

parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(kafka etcd kwok jaeger kube helm)
for p in "${parts[@]}"; do
  case $p in
    kafka) timed "kafka $KAFKA_VERSION" build_kafka ;;
    etcd) timed "etcd $ETCD_VERSION" build_etcd ;;
    kwok) timed "kwok $KWOK_VERSION" build_kwok ;;
    jaeger) timed "jaeger $JAEGER_VERSION" build_jaeger ;;
    kube) timed "kubernetes $KUBE_VERSION" build_kube ;;
    helm) timed "helm $HELM_VERSION" build_helm ;;
    *) echo "unknown component: $p (kafka|etcd|kwok|jaeger|kube|helm)" >&2; exit 2 ;;
  esac
done
log "stack ready in $STACK_DIR"
