// Scale-out benchmark (docs/scale-out.md, numbers in docs/performance.md): the same stream of
// audit events POSTed to
//   single:   one `kubetrail serve --store` (the default path)
//   kafka-1:  `serve --role receive` → a real Kafka 3.9 (deploy/stack/kafka.sh) → one `--role trace`
//   kafka-2:  the same with two tracers (one consumer group)
// on this machine, every process on loopback. Events are ConfigMaps created then updated
// round-robin (RequestResponse level, so every update has a diff); each batch's
// stageTimestamp is "now" when it is sent, so kubetrail_event_lag_seconds (the webhook's in
// single mode, the tracers' in Kafka mode: stageTimestamp → spans durable) is end-to-end lag.
// Throughput = events / (first POST → last event's span durable in the store).
//   node bench/kafka.ts [--small] [--events N] [--batch 400] [--concurrency 4] [--partitions 4]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { REPO_ROOT, freePort, histogramQuantile, peakRssMb, round, startDaemon, stopChild, waitFor } from './lib.ts';
import { kafkaRoleArgs } from '../test/setup/kafka-roles.ts';

const { values: a } = parseArgs({
  options: {
    small: { type: 'boolean', default: false },
    events: { type: 'string' },
    batch: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '4' },
  },
});
const EVENTS = Number(a.events ?? (a.small ? 20_000 : 100_000));
const BATCH = Number(a.batch);
const CONCURRENCY = Number(a.concurrency);
const OBJECTS = 1000;
const CLI = join(REPO_ROOT, 'src/cli.ts');
const work = mkdtempSync(join(tmpdir(), 'kubetrail-bench-kafka-'));

function event(i: number): Record<string, unknown> {
  const n = i % OBJECTS;
  const v = Math.floor(i / OBJECTS);
  const obj = {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name: `cm-${n}`, namespace: 'bench', uid: `u-${n}`, resourceVersion: String(1000 + i) },
    data: { v: String(v) },
  };
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `b-${i}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/bench/configmaps/cm-${n}`,
    verb: v === 0 ? 'create' : 'update',
    user: { username: 'bench' },
    objectRef: { resource: 'configmaps', namespace: 'bench', name: `cm-${n}`, apiVersion: 'v1' },
    responseStatus: { code: 200 },
    requestObject: obj,
    responseObject: obj,
  };
}

async function load(url: string): Promise<{ retried: number }> {
  let next = 0;
  let retried = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      if (start >= EVENTS) return;
      next += BATCH;
      const ts = new Date().toISOString();
      const items = Array.from({ length: Math.min(BATCH, EVENTS - start) }, (_, k) => ({
        ...event(start + k),
        requestReceivedTimestamp: ts,
        stageTimestamp: ts,
      }));
      const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items });
      for (;;) {
        const res = await fetch(`${url}/audit/bench`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.text();
        if (res.status === 200) break;
        retried++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { retried };
}

function stored(paths: string[]): number {
  let n = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const db = new DatabaseSync(p, { readOnly: true });
    try {
      n += Number((db.prepare("SELECT count(*) AS n FROM spans WHERE kind = 'event' AND cluster = 'bench'").get() as { n: number }).n);
    } catch {
      // schema not created yet
    } finally {
      db.close();
    }
  }
  return n;
}

async function metrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

async function daemon(args: string[], ready: RegExp) {
  const d = startDaemon(process.execPath, [CLI, ...args], { KUBETRAIL_LOG_LEVEL: 'info' });
  await waitFor(`kubetrail ${args.slice(0, 6).join(' ')}`, 60_000, async () => ready.test(d.output()));
  return d;
}

interface Result {
  mode: string;
  events: number;
  seconds: number;
  eventsPerSec: number;
  lagP99Sec: number | undefined;
  retriedBatches: number;
  peakRssMb: (number | undefined)[];
}

async function single(): Promise<Result> {
  const port = await freePort();
  const store = join(work, 'single.sqlite');
  const s = await daemon(
    ['serve', '--store', store, '--no-informers', '--no-query', '--webhook-host', '127.0.0.1', '--webhook-port', String(port)],
    /audit webhook listening/,
  );
  const t0 = performance.now();
  const { retried } = await load(`http://127.0.0.1:${port}`);
  await waitFor('spans', 600_000, async () => stored([store]) >= EVENTS);
  const seconds = (performance.now() - t0) / 1000;
  const lag = histogramQuantile(await metrics(port), 'kubetrail_event_lag_seconds', 0.99);
  const rss = [peakRssMb(s.child.pid!)];
  await stopChild(s.child);
  return {
    mode: 'single',
    events: EVENTS,
    seconds: round(seconds, 2),
    eventsPerSec: Math.round(EVENTS / seconds),
    lagP99Sec: lag,
    retriedBatches: retried,
    peakRssMb: rss,
  };
}

async function kafka(tracers: number, broker: string): Promise<Result> {
  const topic = `bench-${tracers}-${Date.now()}`;
  const rPort = await freePort();
  const r = await daemon(
    [
      ...kafkaRoleArgs(broker, topic, 'receive'),
      '--kafka-partitions',
      a.partitions!,
      '--no-informers',
      '--webhook-host',
      '127.0.0.1',
      '--webhook-port',
      String(rPort),
    ],
    /audit webhook listening/,
  );
  const stores: string[] = [];
  const ts: { child: import('node:child_process').ChildProcess; port: number }[] = [];
  for (let i = 0; i < tracers; i++) {
    const port = await freePort();
    const store = join(work, `${topic}-${i}.sqlite`);
    stores.push(store);
    const t = await daemon(
      [
        ...kafkaRoleArgs(broker, topic, 'trace'),
        '--kafka-group',
        `${topic}-g`,
        '--store',
        store,
        '--no-informers',
        '--no-query',
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(port),
      ],
      /tracing from Kafka/,
    );
    ts.push({ child: t.child, port });
  }
  // every tracer has joined the group before the clock starts
  await waitFor('partitions assigned', 60_000, async () => {
    const texts = await Promise.all(ts.map((t) => metrics(t.port)));
    return texts.every((m) => /kubetrail_kafka_rebalances_total (\d+)/.exec(m)?.[1] !== '0');
  });
  await new Promise((res) => setTimeout(res, 3000));
  const t0 = performance.now();
  const { retried } = await load(`http://127.0.0.1:${rPort}`);
  await waitFor('spans', 600_000, async () => stored(stores) >= EVENTS);
  const seconds = (performance.now() - t0) / 1000;
  const lags = (await Promise.all(ts.map((t) => metrics(t.port)))).map((m) => histogramQuantile(m, 'kubetrail_event_lag_seconds', 0.99) ?? 0);
  const rss = [peakRssMb(r.child.pid!), ...ts.map((t) => peakRssMb(t.child.pid!))];
  await stopChild(r.child);
  for (const t of ts) await stopChild(t.child);
  return {
    mode: `kafka-${tracers}`,
    events: EVENTS,
    seconds: round(seconds, 2),
    eventsPerSec: Math.round(EVENTS / seconds),
    lagP99Sec: Math.max(...lags),
    retriedBatches: retried,
    peakRssMb: rss,
  };
}

const kafkaSh = join(REPO_ROOT, 'deploy/stack/kafka.sh');
const [kPort, cPort] = [await freePort(), await freePort()];
const kdir = join(work, 'kafka');
try {
  execFileSync('bash', [kafkaSh, 'up', '--port', String(kPort), '--controller-port', String(cPort), '--workdir', kdir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const results: Result[] = [];
  results.push(await single());
  results.push(await kafka(1, `127.0.0.1:${kPort}`));
  results.push(await kafka(2, `127.0.0.1:${kPort}`));
  for (const r of results)
    process.stderr.write(
      `${r.mode.padEnd(8)} ${String(r.eventsPerSec).padStart(7)} events/s  lag p99 ${r.lagP99Sec ?? '-'} s  (${r.seconds} s, ${r.retriedBatches} retried batches, peak RSS ${r.peakRssMb.join('/')} MB)\n`,
    );
  process.stdout.write(
    `${JSON.stringify({ bench: 'kafka', events: EVENTS, batch: BATCH, concurrency: CONCURRENCY, partitions: Number(a.partitions), results })}\n`,
  );
} finally {
  execFileSync('bash', [kafkaSh, 'down', '--workdir', kdir], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(work, { recursive: true, force: true });
}
