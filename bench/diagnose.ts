// Diagnosis benchmark: `kubetrail diagnose` (every detector + the pod startup report) over the
// benchmark store — the 12,100-node / 100,000-pod KWOK stream (bench/generate-kwok-stream.ts)
// replayed into the embedded store. Reuses the store `bench/run-all.ts` replays
// (.kubetrail/bench/replay-<preset>.sqlite); builds it when missing by running the simulated
// events straight through the pipeline into a store (the same spans as replaying the file, without
// writing the multi-GB log). The measured run is a child process so its peak RSS is its own.
//   node bench/diagnose.ts [--small] [--store FILE] [--spans]  → one JSON line
//   node bench/diagnose.ts run --store FILE [--spans]          (the measured child)
// By default the diagnosis reads the store's facts (format 4); --spans reads the spans as before
// facts existed. `reportSha256` is the hash of the report's JSON: the same for both.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { SqliteStore } from '../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../frontend-plugin/backend/sqlite.ts';
import { loadSpans } from '../frontend-plugin/diagnose/loader.ts';
import { buildReport } from '../frontend-plugin/diagnose/report.ts';
import type { SpanRecord } from '../src/core/model.ts';
import type { SpanScan } from '../frontend-plugin/backend/backend.ts';
import { fullSize, simulateEvents, smallSize } from './generate-kwok-stream.ts';
import { REPO_ROOT, ownPeakRssMb, round, runNodeJson } from './lib.ts';

export interface DiagnoseBenchResult {
  store: string;
  storeBytes: number;
  spans: number;
  loadSeconds: number;
  detectSeconds: number;
  seconds: number;
  /** CPU time of the measured process (user + system): comparable across runs on a busy machine, unlike wall time. */
  cpuSeconds: number;
  /** CPU time until the spans were loaded. */
  loadCpuSeconds: number;
  peakRssMb: number;
  findings: Record<string, number>;
  severities: Record<string, number>;
  podStartupPods: number;
  failedDetectors: string[];
  built?: { seconds: number; events: number };
  /** Read through: the store's facts, or its spans (--spans). */
  read: 'facts' | 'spans';
  reportSha256: string;
}

async function build(storePath: string, small: boolean): Promise<{ seconds: number; events: number }> {
  const t0 = performance.now();
  const pipeline = new Pipeline();
  const store = new SqliteStore(storePath);
  let batch: SpanRecord[] = [];
  let events = 0;
  for (const { event } of simulateEvents(small ? smallSize : fullSize)) {
    events++;
    const r = pipeline.auditEvent(event, 'kwok-bench');
    for (const s of r.spans) batch.push(s);
    if (batch.length >= 5000) {
      await store.write(batch);
      batch = [];
    }
  }
  if (batch.length) await store.write(batch);
  await store.close();
  return { seconds: round((performance.now() - t0) / 1000, 1), events };
}

async function measured(storePath: string, viaSpans: boolean): Promise<Omit<DiagnoseBenchResult, 'built'>> {
  const t0 = performance.now();
  const backend = new SqliteBackend(storePath);
  const source = viaSpans
    ? {
        getRawTrace: () => Promise.resolve([]),
        getRawTraces: (ids: string[]) => Promise.resolve(ids.map(() => [])),
        findObjects: () => Promise.resolve([]),
        clusters: () => backend.clusters(),
        close: async () => {},
        scanSpans: (q: SpanScan) => backend.scanSpans(q),
      }
    : backend;
  const read = viaSpans || !(await backend.scanFacts({ startUs: 0, endUs: 0 })) ? 'spans' : 'facts';
  const spans = await loadSpans(source, { startUs: 0, endUs: Number.MAX_SAFE_INTEGER });
  const t1 = performance.now();
  const loadCpu = process.cpuUsage();
  const report = buildReport(spans, { podStartup: true, unique: true });
  const t2 = performance.now();
  await backend.close();
  const findings: Record<string, number> = {};
  const severities: Record<string, number> = {};
  for (const f of report.findings) {
    findings[f.detector] = (findings[f.detector] ?? 0) + 1;
    severities[f.severity] = (severities[f.severity] ?? 0) + 1;
  }
  return {
    store: storePath,
    storeBytes: statSync(storePath).size,
    spans: spans.length,
    loadSeconds: round((t1 - t0) / 1000, 2),
    detectSeconds: round((t2 - t1) / 1000, 2),
    seconds: round((t2 - t0) / 1000, 2),
    cpuSeconds: round((process.cpuUsage().user + process.cpuUsage().system) / 1e6, 2),
    loadCpuSeconds: round((loadCpu.user + loadCpu.system) / 1e6, 2),
    peakRssMb: ownPeakRssMb(),
    findings,
    severities,
    podStartupPods: report.podStartup?.pods ?? 0,
    failedDetectors: report.detectors.filter((d) => d.failed).map((d) => `${d.name}: ${d.error}`),
    read,
    reportSha256: createHash('sha256').update(JSON.stringify(report)).digest('hex'),
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { small: { type: 'boolean' }, store: { type: 'string' }, spans: { type: 'boolean' } },
  });
  const small = Boolean(values.small) || process.env.BENCH_SMALL === '1';
  const workdir = join(REPO_ROOT, '.kubetrail/bench');
  mkdirSync(workdir, { recursive: true });
  const storePath = values.store ?? join(workdir, `replay-${small ? 'small' : 'full'}.sqlite`);
  if (positionals[0] === 'run') {
    process.stdout.write(`${JSON.stringify(await measured(storePath, Boolean(values.spans)))}\n`);
    return;
  }
  let built: DiagnoseBenchResult['built'];
  if (!existsSync(storePath)) {
    process.stderr.write(`[bench] building ${storePath} from the simulated ${small ? 'small' : 'full'} stream\n`);
    built = await build(storePath, small);
  }
  const r = await runNodeJson<DiagnoseBenchResult>(new URL(import.meta.url).pathname, ['run', '--store', storePath, ...(values.spans ? ['--spans'] : [])]);
  process.stdout.write(`${JSON.stringify({ ...r, ...(built ? { built } : {}) })}\n`);
}

await main();
