#!/bin/sh
# `npm run bench`: installs dependencies, then runs every benchmark (bench/run-all.ts) and writes
# bench/results/latest.json. The audit stream is generated once under .kubetrail/bench/ and reused.
# `npm run bench -- --small` (or BENCH_SMALL=1) runs the quick preset (bench/results/latest-small.json);
# `--only replay,read-path` picks benchmarks (`--only diagnose-quality`: diagnosis quality on the
# labeled corpus, bench/diagnose-corpus, docs/diagnose.md). The webhook benchmark needs the Jaeger binary of the
# test stack (deploy/stack/build.sh jaeger). See docs/performance.md.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec node bench/run-all.ts "$@"
