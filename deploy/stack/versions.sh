# Pinned versions of the real test stack. Sourced by the other scripts in deploy/stack/.
# Change a version here and the next build puts it beside the old one (the cache is keyed by version).
KUBE_VERSION=${KUBE_VERSION:-1.33.13}     # kube-apiserver, kube-controller-manager, kube-scheduler
ETCD_VERSION=${ETCD_VERSION:-3.5.35}      # etcd client in k8s 1.33 supports etcd 3.4/3.5
KWOK_VERSION=${KWOK_VERSION:-0.7.0}       # kwok + kwokctl
JAEGER_VERSION=${JAEGER_VERSION:-1.76.0}  # = Jaeger v2.13.0 (cmd/jaeger is the v2 collector+query)
KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}     # stay on 3.x for kafkajs
SLF4J_VERSION=${SLF4J_VERSION:-1.7.36}
HELM_VERSION=${HELM_VERSION:-3.21.4}     # helm CLI (deploy/helm chart tests)

KUBETRAIL_CACHE=${KUBETRAIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail}
STACK_DIR=${STACK_DIR:-$KUBETRAIL_CACHE/stack}
STACK_BIN=$STACK_DIR/bin
