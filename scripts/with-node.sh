#!/bin/sh
# Runs a command with the project's Node.js (24 LTS) first on PATH.
# The machine may ship an older Node; this brings the pinned one from the npm registry
# (package node-<os>-<arch>) into ~/.cache/kubetrail/node-<version> once, then reuses it.
#   scripts/with-node.sh <command> [args...]
set -eu
NODE_VERSION=${KUBETRAIL_NODE_VERSION:-24.21.0}
cache=${KUBETRAIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubetrail}
dir=$cache/node-$NODE_VERSION
if [ ! -x "$dir/bin/node" ]; then
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
  echo "[kubetrail] fetching Node.js $NODE_VERSION (npm package node-$os-$arch) into $dir" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-$os-$arch@$NODE_VERSION" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$cache"; rm -rf "$dir.tmp"; mv "$tmp/package" "$dir.tmp"; rm -rf "$tmp"
  chmod +x "$dir.tmp/bin/node"; mv "$dir.tmp" "$dir"
fi
PATH=$dir/bin:$PATH
export PATH
exec "$@"
