#!/bin/sh
# `npm start`: install dependencies, replay the recorded KWOK scenario (examples/kwok-scenario/)
# into the embedded store and serve the UI and the Jaeger-compatible API. Prints the URL.
# Extra arguments go to `kubetrail demo`, e.g. `npm start -- --port 8686`.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec node src/cli.ts demo "$@"
