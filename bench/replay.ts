// Replay benchmark, one phase per process so each peak RSS is its own:
//   node bench/replay.ts parse    --file F   bare baseline: read + split lines + JSON.parse, nothing else
//   node bench/replay.ts read-log --file F   kubetrail's reader alone (readAuditLogs), no pipeline
//   node bench/replay.ts replay   --file F --store S [--cluster C] [--otlp-endpoint URL]
//        the `kubetrail replay` path: readAuditLogs → Pipeline → replay() → SqliteStore
// Prints one JSON line with events, seconds, events/s, MB/s and peak RSS.
import { openSync, readSync, closeSync, statSync, rmSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ownPeakRssMb, round } from './lib.ts';

export interface PhaseResult {
  phase: string;
  file: string;
  bytes: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  mbPerSec: number;
  peakRssMb: number;
  [extra: string]: unknown;
}

function result(phase: string, file: string, bytes: number, events: number, seconds: number, extra: Record<string, unknown> = {}): PhaseResult {
  return {
    phase,
    file,
    bytes,
    events,
    seconds: round(seconds, 2),
    eventsPerSec: Math.round(events / seconds),
    mbPerSec: round(bytes / 1e6 / seconds),
    peakRssMb: ownPeakRssMb(),
    ...extra,
  };
}

/** The fastest honest line reader: 4 MiB reads, split at '\n', JSON.parse each line. */
function bareParse(file: string): PhaseResult {
  const t0 = performance.now();
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  let carry = '';
  let events = 0;
  let bytes = 0;
  let keys = 0; // touch the result so the parse cannot be optimised away
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    bytes += n;
    const text = carry + buf.toString('utf8', 0, n);
    const lines = text.split('\n');
    carry = lines.pop()!;
    for (const line of lines) {
      if (line.length === 0) continue;
      const ev = JSON.parse(line) as { auditID?: string };
      if (ev.auditID) keys++;
      events++;
    }
  }
  if (carry.length > 0) {
    JSON.parse(carry);
    events++;
  }
  closeSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  return result('parse', file, bytes, events, seconds, { withAuditId: keys });
}

async function readLogOnly(file: string): Promise<PhaseResult> {
  const { readAuditLogs } = await import('../src/sources/audit-log.ts');
  const t0 = performance.now();
  let bytes = 0;
  let events = 0;
  let errors = 0;
  for await (const item of readAuditLogs([file], { onBytes: (n: number) => (bytes += n) })) {
    if ((item as { error?: string }).error !== undefined) errors++;
    events++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return result('read-log', file, bytes || statSync(file).size, events, seconds, { errors });
}

async function fullReplay(file: string, storePath: string, cluster: string, otlpEndpoint?: string): Promise<PhaseResult> {
  // exactly what `kubetrail replay --store S --cluster C FILE` runs (src/commands/replay.ts)
  const { replayFiles } = await import('../src/commands/replay.ts');
  const { createSink } = await import('../src/sinks/index.ts');
  for (const suffix of ['', '-wal', '-shm']) rmSync(storePath + suffix, { force: true });
  const chosen = otlpEndpoint ? createSink({ otlpEndpoint }) : createSink({ store: storePath, ignoreEnv: true });
  const t0 = performance.now();
  const summary = await replayFiles({ files: [file], cluster, sink: chosen.sink, progress: false });
  await chosen.sink.close();
  const seconds = (performance.now() - t0) / 1000;
  const bytes = statSync(file).size;
  let storeBytes = 0;
  for (const suffix of ['', '-wal']) if (existsSync(storePath + suffix)) storeBytes += statSync(storePath + suffix).size;
  return result('replay', file, bytes || statSync(file).size, summary.eventsRead, seconds, {
    traced: summary.traced,
    skipped: summary.skipped,
    errors: summary.errors,
    errorSamples: summary.errorSamples,
    objects: summary.objects,
    spansWritten: summary.spansWritten,
    sink: chosen.describe,
    storeBytes: otlpEndpoint ? undefined : storeBytes,
  });
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { file: { type: 'string' }, store: { type: 'string' }, cluster: { type: 'string' }, 'otlp-endpoint': { type: 'string' } },
  });
  const phase = positionals[0];
  const file = values.file;
  if (!file || !['parse', 'read-log', 'replay'].includes(phase ?? '')) {
    process.stderr.write('usage: node bench/replay.ts parse|read-log|replay --file FILE [--store S] [--cluster C]\n');
    process.exit(2);
  }
  const r =
    phase === 'parse'
      ? bareParse(file)
      : phase === 'read-log'
        ? await readLogOnly(file)
        : await fullReplay(file, values.store ?? '.kubetrail/bench/replay.sqlite', values.cluster ?? 'kwok-bench', values['otlp-endpoint']);
  process.stdout.write(JSON.stringify(r) + '\n');
}
