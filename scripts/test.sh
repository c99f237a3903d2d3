#!/bin/sh
# The whole test suite (`npm test`, also what .ci/run runs): installs dependencies, builds the real
# test stack from the package registries (cached by version under ~/.cache/kubetrail/stack; a cold
# build takes tens of minutes, a warm one seconds), typechecks, then runs every vitest project.
# Extra arguments go to vitest, e.g. `npm test -- --project unit`.
set -eu
cd "$(dirname "$0")/.."
t0=$(date +%s)
sh scripts/check-prereqs.sh
sh scripts/install.sh
if ! command -v chromium >/dev/null 2>&1; then
  echo "[test] installing Debian's chromium for the browser tests" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "[test] installing Debian's prometheus (prometheus + promtool) for the deploy/ tests" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq prometheus >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq prometheus >/dev/null; fi
fi
echo "[test] building the real test stack (skips what is cached)" >&2
bash deploy/stack/build.sh
echo "[test] typecheck" >&2
npx tsc --noEmit -p .
echo "[test] type check of the built-in UI's browser modules (frontend-plugin/tsconfig.ui.json)" >&2
npx tsc -p frontend-plugin/tsconfig.ui.json
echo "[test] lint and format check (biome.json)" >&2
npx biome check .
echo "[test] vitest ($(($(date +%s) - t0))s so far)" >&2
npx vitest run "$@"
