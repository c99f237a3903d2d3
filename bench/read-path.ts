// Read-path benchmark: one Deployment of 1,000 pods whose life crosses a window boundary (so every
// object has two raw traces), replayed through the pipeline into the embedded store, then
// GET /api/traces/<id> in `tracing` + full tree (mode 21000000) through createQueryServer, over HTTP
// on loopback. Reports p50/p99 over --requests requests after a few warm-up requests.
//   node bench/read-path.ts [--backend store|jaeger] [--pods 1000] [--requests 30] [--workdir .kubetrail/bench]
// With --backend jaeger the same stream is replayed over OTLP into a fresh Jaeger (deploy/stack/jaeger.sh)
// and the query server reads it through Jaeger's query HTTP API (frontend-plugin/backend/jaeger.ts).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { keyHash } from '../src/core/ids.ts';
import { objectKey } from '../src/core/model.ts';
import { SqliteBackend } from '../frontend-plugin/backend/sqlite.ts';
import { createQueryServer } from '../frontend-plugin/server.ts';
import { encodeDisplayId } from '../frontend-plugin/trace-id.ts';
import { fullSize, generateStream, type StreamOptions } from './generate-kwok-stream.ts';
import { REPO_ROOT, ownPeakRssMb, percentile, round, runNodeJson, startJaeger } from './lib.ts';
import { JaegerBackend } from '../frontend-plugin/backend/jaeger.ts';
import type { TraceBackend } from '../frontend-plugin/backend/backend.ts';
import type { PhaseResult } from './replay.ts';

export interface ReadPathResult {
  backend: 'store' | 'jaeger';
  pods: number;
  storeEvents: number;
  storeSpans: number;
  traceId: string;
  windows: number;
  requests: number;
  spansInTrace: number;
  objectsInTrace: number;
  responseBytes: number;
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  firstMs: number;
  serverPeakRssMb: number;
}

const WINDOW_SEC = 1800; // the default window (src/core/config.ts)
const CLUSTER = 'kwok-bench';

export async function readPathBench(pods: number, requests: number, workdir: string, backendKind: 'store' | 'jaeger' = 'store'): Promise<ReadPathResult> {
  mkdirSync(workdir, { recursive: true });
  // 100 nodes, 1 Deployment; starts 60 s before the 00:30 boundary, scales down after it.
  const opts: StreamOptions = {
    ...fullSize,
    nodes: 100,
    pods,
    deployments: 1,
    namespaces: 1,
    podRate: 50,
    holdSec: 60,
    startSec: Date.UTC(2026, 0, 1, 0, 29, 0) / 1000,
  };
  const file = join(workdir, `read-path-${pods}p.jsonl`);
  if (!existsSync(file)) generateStream(opts, file);
  const storePath = join(workdir, `read-path-${pods}p.sqlite`);
  const jaeger = backendKind === 'jaeger' ? await startJaeger(join(workdir, 'jaeger-read-path')) : undefined;
  const replayArgs = ['replay', '--file', file, '--store', storePath, '--cluster', CLUSTER];
  if (jaeger) replayArgs.push('--otlp-endpoint', jaeger.otlpGrpcEndpoint);
  let replayed: PhaseResult;
  try {
    replayed = await runNodeJson<PhaseResult>(join(REPO_ROOT, 'bench/replay.ts'), replayArgs);
  } catch (e) {
    await jaeger?.stop();
    throw e;
  }
  const backend: TraceBackend = jaeger ? new JaegerBackend({ url: jaeger.queryUrl, windowSec: WINDOW_SEC }) : new SqliteBackend(storePath);
  const app = await createQueryServer({ backend, windowSec: WINDOW_SEC, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  try {
    const deployment = { cluster: CLUSTER, group: 'apps', resource: 'deployments', namespace: 'kwok-scale-0', name: 'web-0' };
    const firstWindow = Math.floor(opts.startSec / WINDOW_SEC) * WINDOW_SEC;
    const traceId = encodeDisplayId({
      display: 'tracing',
      scope: 'full',
      keyHash: keyHash(objectKey(deployment)),
      windowStart: firstWindow,
      windowCount: 2,
    });
    if (traceId.slice(2, 10) !== '21000000') throw new Error(`unexpected mode digits in ${traceId}`);
    const get = async () => {
      const t0 = performance.now();
      const res = await fetch(`${base}/api/traces/${traceId}`);
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET /api/traces/${traceId}: HTTP ${res.status}: ${body.slice(0, 300)}`);
      return { ms, body };
    };
    const first = await get();
    const trace = (JSON.parse(first.body) as { data: Array<{ spans: unknown[]; processes: Record<string, unknown> }> }).data[0]!;
    const spans = trace.spans as Array<{ spanID: string; references?: unknown[]; logs?: unknown[] }>;
    for (let i = 0; i < 3; i++) await get(); // warm-up: JIT, SQLite page cache
    const times: number[] = [];
    for (let i = 0; i < requests; i++) times.push((await get()).ms);
    times.sort((a, b) => a - b);
    return {
      backend: backendKind,
      pods,
      storeEvents: replayed.events,
      storeSpans: Number(replayed.spansWritten ?? 0),
      traceId,
      windows: 2,
      requests,
      spansInTrace: spans.length,
      objectsInTrace: spans.length, // tracing mode: one span per object
      responseBytes: first.body.length,
      p50Ms: round(percentile(times, 50)),
      p99Ms: round(percentile(times, 99)),
      minMs: round(times[0]!),
      maxMs: round(times[times.length - 1]!),
      firstMs: round(first.ms),
      serverPeakRssMb: ownPeakRssMb(),
    };
  } finally {
    await app.close();
    await backend.close();
    await jaeger?.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { pods: { type: 'string' }, requests: { type: 'string' }, workdir: { type: 'string' }, backend: { type: 'string' } },
  });
  const kind = values.backend ?? 'store';
  if (kind !== 'store' && kind !== 'jaeger') throw new Error(`--backend is store or jaeger, got ${kind}`);
  const r = await readPathBench(Number(values.pods ?? 1000), Number(values.requests ?? 30), values.workdir ?? join(REPO_ROOT, '.kubetrail/bench'), kind);
  process.stdout.write(JSON.stringify(r) + '\n');
}
