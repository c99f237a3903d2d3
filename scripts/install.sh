#!/bin/sh
# Installs the npm dependencies when package-lock.json (or the Node version) changed since the last install.
set -eu
cd "$(dirname "$0")/.."
stamp="$(node --version) $(sha256sum package-lock.json | cut -c1-64)"
if [ ! -f node_modules/.kubetrail-install ] || [ "$(cat node_modules/.kubetrail-install)" != "$stamp" ]; then
  echo "[kubetrail] installing npm dependencies (node $(node --version))" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$stamp" > node_modules/.kubetrail-install
fi
