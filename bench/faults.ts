// Fault test: what survives a collector outage, a kill -9 and a full disk, counted in one run.
// A sender plays the API server's audit webhook backend: it POSTs EventLists of --batch pod creates
// to `kubetrail serve` and resends a batch until it is answered 200 (a non-2xx answer or a refused
// connection is retried after 1 s). Then it counts, per scenario:
//   sent: events generated; acked: events of batches answered 200; found: events whose span is in the
//   sink afterwards; lost: acked but not found; duplicates: extra copies of an event's span.
// Scenarios (each with a fresh kubetrail process; the real Jaeger v2 of deploy/stack, loopback only):
//   outage   --otlp-endpoint through a TCP proxy that is cut (connections refused and reset) for
//            --outage-sec in the middle of the load; /readyz is sampled (every 250 ms) while it is cut
//   kill     --store FILE; kill -9 in the middle of the load, restarted on the same port and file
//   diskfull --store on a small tmpfs (needs root to mount) filled in the middle of the load, freed
//            after --outage-sec; /readyz is sampled (every 250 ms) while it is full
//   large    --otlp-endpoint to Jaeger with badger storage; every batch holds one ConfigMap of 1 MB
//            or 5 MB (alternating) among the pods; the note counts the large snapshots read back
//            whole and cut (with the marker) through the Jaeger read side
//   large8mi the same with --max-attribute-bytes 8Mi (a span above the collector's 4 MiB limit)
//   kafka-secret  Secret creates and same-length updates (--events in all) through a receiver and a
//            tracer on a Kafka of its own (deploy/stack/kafka.sh); `leaked` counts the places holding
//            a secret value afterwards: files of Kafka's data directory, the store, the processes' output
//   node bench/faults.ts [--events 4000] [--batch 400] [--outage-sec 10] [--give-up-sec 180] [--only outage,kill,diskfull,large,large8mi,kafka-secret] [--json]
//   (--help lists the options)
import { spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { Command, InvalidArgumentError, Option } from 'commander';
import { REPO_ROOT, freePort, startDaemon, startJaeger, stopChild, waitFor } from './lib.ts';
import { eventSpanId, rawTraceId, windowStartSec } from '../src/core/ids.ts';
import { objectKey, type ObjectRef } from '../src/core/model.ts';
import { parsePositiveInt } from '../src/commands/options.ts';
import { JaegerBackend } from '../frontend-plugin/backend/jaeger.ts';
import { leaks, leaksInDir, secretStream } from '../test/setup/secret-stream.ts';
import { ownKafka } from '../test/setup/own-kafka.ts';

const SCENARIOS = ['outage', 'kill', 'diskfull', 'large', 'large8mi', 'kafka-secret'] as const;
type Scenario = (typeof SCENARIOS)[number];

function parseScenarios(value: string): Scenario[] {
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.find((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown !== undefined || names.length === 0) {
    throw new InvalidArgumentError(`unknown scenario '${unknown ?? ''}' (${SCENARIOS.join(', ')})`);
  }
  return names as Scenario[];
}

// parsed before anything is created: --help and a bad value exit here
const args = new Command('node bench/faults.ts')
  .description(
    'Fault test: pod creates POSTed to a real `kubetrail serve` as the API server does (each batch resent until 200), then counted in the sink: what survives a collector outage, a kill -9, a full disk, large objects in Jaeger with badger storage and Secret values through Kafka (docs/operations.md).',
  )
  .option('--events <n>', 'events sent per scenario', parsePositiveInt, 4000)
  .option('--batch <n>', 'events per EventList', parsePositiveInt, 400)
  .option('--outage-sec <s>', 'how long the collector is cut / the disk is full', parsePositiveInt, 10)
  .option('--give-up-sec <s>', 'a batch not answered 200 within this long is abandoned (as the API server drops it)', parsePositiveInt, 180)
  .addOption(new Option('--only <list>', 'scenarios to run, comma-separated').argParser(parseScenarios).default([...SCENARIOS], SCENARIOS.join(',')))
  .option('--json', 'print the results as JSON', false)
  .showHelpAfterError('(node bench/faults.ts --help lists the options)')
  .parse()
  .opts<{ events: number; batch: number; outageSec: number; giveUpSec: number; only: Scenario[]; json: boolean }>();
const EVENTS = args.events;
const BATCH = args.batch;
const OUTAGE_MS = args.outageSec * 1000;
/** A batch not answered 200 within this long is abandoned (as the API server drops it after its retries). */
const GIVE_UP_MS = args.giveUpSec * 1000;
const CLUSTER = 'faults';
const WINDOW_SEC = 1800;
const workdir = mkdtempSync(join(tmpdir(), 'kt-faults-'));
/** Undone on exit and on SIGINT/SIGTERM: started processes, mounts. */
const cleanups: (() => void)[] = [];
const cleanup = () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      /* best effort */
    }
  }
  rmSync(workdir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
const say = (m: string) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  scenario: string;
  sent: number;
  acked: number;
  found: number;
  lost: number;
  duplicates: number;
  retriedPosts: number;
  abandonedBatches: number;
  answers: Record<string, number>;
  readyzDuringFault: string;
  /** /readyz once the fault is over and the load sent (recovery without further writes for the store/collector). */
  readyzAfter: string;
  /** Places holding a secret value afterwards (kafka-secret only). */
  leaked?: number;
  note?: string;
}

/** An audit event sent, with the IDs of the event span it must become; `large`: its ConfigMap's size (large scenarios). */
type SentEvent = { body: Record<string, unknown>; ref: ObjectRef; spanId: string; traceId: string; large: number };

/** Audit events (of CLUSTER) with the IDs of the event span each must become. */
function withIds(bodies: Record<string, unknown>[]): SentEvent[] {
  return bodies.map((body) => {
    const o = body.objectRef as { resource: string; namespace?: string; name: string };
    const ref: ObjectRef = { cluster: CLUSTER, group: '', resource: o.resource, namespace: o.namespace ?? '', name: o.name };
    const key = objectKey(ref);
    const us = Date.parse(body.stageTimestamp as string) * 1000;
    return { body, ref, spanId: eventSpanId(body.auditID as string, key), traceId: rawTraceId(key, windowStartSec(us, WINDOW_SEC)), large: 0 };
  });
}

/** ConfigMap sizes the large scenarios put one of into every batch, alternating. */
const LARGE_BYTES = [1_000_000, 5_000_000];

/**
 * Pod creates as the API server audits them (RequestResponse), each with its derived event span ID;
 * with `largeEvery`, every largeEvery-th event is the create of a large ConfigMap instead.
 */
function makeEvents(scenario: string, n: number, largeEvery = 0): SentEvent[] {
  const now = Date.now();
  const events: SentEvent[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${scenario}-${now}-${i}`;
    const ts = new Date(now + i).toISOString().replace('Z', '000Z');
    const auditID = randomUUID();
    const large = largeEvery > 0 && i % largeEvery === largeEvery - 1 ? LARGE_BYTES[Math.floor(i / largeEvery) % 2]! : 0;
    const resource = large ? 'configmaps' : 'pods';
    const metadata = { name, namespace: 'default', uid: randomUUID(), resourceVersion: String(1000 + i), labels: { app: scenario } };
    const obj = large
      ? { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { blob: 'b'.repeat(large) } }
      : { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'app', image: 'busybox', args: ['sleep', '3600'] }] } };
    const ref: ObjectRef = { cluster: CLUSTER, group: '', resource, namespace: 'default', name };
    const key = objectKey(ref);
    events.push({
      body: {
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'RequestResponse',
        auditID,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/default/${resource}`,
        verb: 'create',
        user: { username: 'kubernetes-admin' },
        sourceIPs: ['127.0.0.1'],
        objectRef: { resource, namespace: 'default', name, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: 201 },
        requestObject: obj,
        responseObject: obj,
        requestReceivedTimestamp: ts,
        stageTimestamp: ts,
      },
      ref,
      spanId: eventSpanId(auditID, key),
      traceId: rawTraceId(key, windowStartSec((now + i) * 1000, WINDOW_SEC)),
      large,
    });
  }
  return events;
}

/** Sends all batches (2 in flight, as the API server keeps a few), each resent until answered 200. */
async function send(base: string, events: SentEvent[], r: Result, onProgress: (sentBatches: number) => Promise<void>) {
  const batches: string[] = [];
  for (let i = 0; i < events.length; i += BATCH) {
    batches.push(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: events.slice(i, i + BATCH).map((e) => e.body) }));
  }
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      const t0 = Date.now();
      for (let _attempt = 0; ; _attempt++) {
        let code = 'refused';
        try {
          const res = await fetch(`${base}/audit/${CLUSTER}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: batches[i],
            signal: AbortSignal.timeout(60_000),
          });
          await res.arrayBuffer();
          code = String(res.status);
        } catch {
          /* connection refused or reset: the process is down */
        }
        r.answers[code] = (r.answers[code] ?? 0) + 1;
        if (code === '200') {
          r.acked += Math.min(BATCH, events.length - i * BATCH);
          break;
        }
        r.retriedPosts++;
        if (Date.now() - t0 > GIVE_UP_MS) {
          r.abandonedBatches++;
          break;
        }
        await sleep(1000);
      }
      done++;
      await onProgress(done);
    }
  };
  await Promise.all([worker(), worker()]);
}

function serveArgs(port: number, sink: string[]): string[] {
  return [
    join(REPO_ROOT, 'src/cli.ts'),
    'serve',
    '--webhook-port',
    String(port),
    '--webhook-host',
    '127.0.0.1',
    '--cluster',
    CLUSTER,
    '--no-informers',
    '--no-query',
    '--log-level',
    'warn',
    ...sink,
  ];
}

async function startServe(port: number, sink: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const kt = startDaemon(process.execPath, serveArgs(port, sink), { KUBECONFIG: '/nonexistent' });
  cleanups.push(() => kt.child.kill('SIGKILL'));
  await waitFor('kubetrail serve /readyz', 60_000, async () => {
    if (kt.child.exitCode !== null) throw new Error(`kubetrail serve exited: ${kt.output().slice(-2000)}`);
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
  });
  return kt;
}

async function readyz(port: number): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await res.json()) as { reasons?: string[] };
    return `${res.status}${body.reasons ? ` ${body.reasons.join('; ').slice(0, 120)}` : ''}`;
  } catch (err) {
    return `no answer (${(err as Error).message})`;
  }
}

/**
 * /readyz every 250 ms for `ms` (while a fault lasts): the answers counted, how often the answer
 * changed (a sink that is ready between refused batches flips), and the first not-ready answer.
 */
async function sampleReadyz(port: number, ms: number): Promise<string> {
  const counts = new Map<string, number>();
  let last = '';
  let changes = 0;
  let notReady = '';
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) {
    const answer = await readyz(port);
    const code = answer.slice(0, 3);
    counts.set(code, (counts.get(code) ?? 0) + 1);
    if (last !== '' && code !== last) changes++;
    last = code;
    if (notReady === '' && code !== '200') notReady = answer;
  }
  return `${[...counts].map(([c, n]) => `${c} ×${n}`).join(' ')}, ${changes} change${changes === 1 ? '' : 's'}; ${notReady}`;
}

/** A TCP proxy that can be cut: while cut, new connections are refused and open ones reset. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly port: number;
  private readonly target: number;
  constructor(port: number, target: number) {
    this.port = port;
    this.target = target;
  }
  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.resetAndDestroy();
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  }
}

async function foundInJaeger(queryUrl: string, events: SentEvent[]): Promise<{ found: number; duplicates: number }> {
  let found = 0;
  let duplicates = 0;
  const want = new Map(events.map((e) => [e.traceId, e.spanId]));
  const ids = [...want.keys()];
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(
      ids.slice(i, i + 20).map(async (id) => {
        const res = await fetch(`${queryUrl}/api/traces/${id}`);
        if (!res.ok) return;
        const body = (await res.json()) as { data?: { spans: { spanID: string }[] }[] };
        const n = (body.data ?? []).flatMap((t) => t.spans).filter((s) => s.spanID === want.get(id)).length;
        if (n > 0) found++;
        if (n > 1) duplicates += n - 1;
      }),
    );
  }
  return { found, duplicates };
}

function foundInStore(path: string, events: SentEvent[]): { found: number; duplicates: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  const q = db.prepare('SELECT COUNT(*) AS n FROM spans WHERE trace_id = ? AND span_id = ?');
  let found = 0;
  let duplicates = 0;
  for (const e of events) {
    const n = Number((q.get(e.traceId, e.spanId) as { n: number }).n);
    if (n > 0) found++;
    if (n > 1) duplicates += n - 1;
  }
  db.close();
  return { found, duplicates };
}

function newResult(scenario: string): Result {
  return {
    scenario,
    sent: 0,
    acked: 0,
    found: 0,
    lost: 0,
    duplicates: 0,
    retriedPosts: 0,
    abandonedBatches: 0,
    answers: {},
    readyzDuringFault: '',
    readyzAfter: '',
  };
}

async function outage(): Promise<Result> {
  const r = newResult('outage');
  const jaeger = await startJaeger(join(workdir, 'jaeger'));
  cleanups.push(() => spawnSync('bash', [join(REPO_ROOT, 'deploy/stack/jaeger.sh'), 'down', '--workdir', join(workdir, 'jaeger')]));
  const proxy = new CuttableProxy(await freePort(), Number(new URL(jaeger.otlpGrpcEndpoint).port));
  await proxy.up();
  const port = await freePort();
  const kt = await startServe(port, ['--otlp-endpoint', `http://127.0.0.1:${proxy.port}`]);
  try {
    const events = makeEvents('outage', EVENTS);
    r.sent = events.length;
    const half = Math.ceil(events.length / BATCH / 3);
    let faulted = false;
    await send(`http://127.0.0.1:${port}`, events, r, async (n) => {
      if (faulted || n < half) return;
      faulted = true;
      say(`cutting the collector for ${OUTAGE_MS / 1000}s`);
      await proxy.cut();
      r.readyzDuringFault = await sampleReadyz(port, OUTAGE_MS);
      await proxy.up();
      say('collector back');
    });
    await sleep(2000);
    r.readyzAfter = await readyz(port);
    Object.assign(r, await foundInJaeger(jaeger.queryUrl, events));
  } finally {
    await stopChild(kt.child);
    await proxy.cut();
    await jaeger.stop();
  }
  r.lost = Math.max(0, r.acked - r.found);
  return r;
}

async function kill(): Promise<Result> {
  const r = newResult('kill');
  const store = join(workdir, 'kill.sqlite');
  const port = await freePort();
  let kt = await startServe(port, ['--store', store]);
  try {
    const events = makeEvents('kill', EVENTS);
    r.sent = events.length;
    const half = Math.ceil(events.length / BATCH / 2);
    let faulted = false;
    await send(`http://127.0.0.1:${port}`, events, r, async (n) => {
      if (faulted || n < half) return;
      faulted = true;
      say('kill -9 kubetrail');
      kt.child.kill('SIGKILL');
      await new Promise((res) => kt.child.once('exit', res));
      r.readyzDuringFault = await readyz(port);
      kt = await startServe(port, ['--store', store]);
      say('kubetrail restarted');
    });
    r.readyzAfter = await readyz(port);
    await stopChild(kt.child);
    Object.assign(r, foundInStore(store, events));
  } finally {
    await stopChild(kt.child);
  }
  r.lost = Math.max(0, r.acked - r.found);
  return r;
}

async function diskFull(): Promise<Result> {
  const r = newResult('diskfull');
  const dir = join(workdir, 'small-fs');
  mkdirSync(dir);
  // room for the whole run (~5 KB of store per event) until the filler takes what is left
  const sizeMb = Math.max(32, Math.ceil((EVENTS * 8) / 1024));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]).status !== 0) {
    return { ...r, note: 'skipped: mounting a tmpfs is not permitted (needs root)' };
  }
  cleanups.push(() => spawnSync('umount', [dir]));
  const store = join(dir, 'kt.sqlite');
  const filler = join(dir, 'filler');
  const port = await freePort();
  const kt = await startServe(port, ['--store', store]);
  try {
    const events = makeEvents('diskfull', EVENTS);
    r.sent = events.length;
    const third = Math.ceil(events.length / BATCH / 3);
    let faulted = false;
    await send(`http://127.0.0.1:${port}`, events, r, async (n) => {
      if (faulted || n < third) return;
      faulted = true;
      say(`filling the store's filesystem for ${OUTAGE_MS / 1000}s`);
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        /* ENOSPC */
      } finally {
        closeSync(fd);
      }
      r.readyzDuringFault = await sampleReadyz(port, OUTAGE_MS);
      rmSync(filler);
      say('space freed');
    });
    r.readyzAfter = await readyz(port);
    await stopChild(kt.child);
    Object.assign(r, foundInStore(store, events));
  } finally {
    await stopChild(kt.child);
    spawnSync('umount', [dir]);
  }
  r.lost = Math.max(0, r.acked - r.found);
  return r;
}

/** The large snapshots as the Jaeger read side returns them: whole, cut with the marker, or missing. */
async function largeReadBack(queryUrl: string, events: SentEvent[]): Promise<string> {
  const backend = new JaegerBackend({ url: queryUrl });
  const count: Record<string, number> = {};
  for (const e of events) {
    const span = (await backend.getRawTrace(e.traceId)).find((s) => s.spanId === e.spanId);
    const snapshot = span === undefined ? undefined : String(span.attributes.snapshot ?? '');
    const what =
      snapshot === undefined
        ? 'missing'
        : snapshot.includes('b'.repeat(e.large))
          ? 'whole'
          : /… \[truncated by kubetrail: \d+ bytes, limit \d+\]$/.test(snapshot)
            ? 'cut'
            : 'damaged';
    const k = `${what} ${e.large / 1e6} MB`;
    count[k] = (count[k] ?? 0) + 1;
  }
  return `snapshots read back: ${Object.entries(count)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')}`;
}

/** Pods with one 1 MB or 5 MB ConfigMap per batch, into Jaeger with badger storage. */
async function large(scenario: string, serveArgs: string[]): Promise<Result> {
  const r = newResult(scenario);
  const dir = join(workdir, scenario);
  const jaeger = await startJaeger(dir, 'badger');
  cleanups.push(() => spawnSync('bash', [join(REPO_ROOT, 'deploy/stack/jaeger.sh'), 'down', '--workdir', dir]));
  const port = await freePort();
  const kt = await startServe(port, ['--otlp-endpoint', jaeger.otlpGrpcEndpoint, ...serveArgs]);
  try {
    const events = makeEvents(scenario, EVENTS, BATCH);
    r.sent = events.length;
    await send(`http://127.0.0.1:${port}`, events, r, async () => undefined);
    await sleep(2000);
    r.readyzAfter = await readyz(port);
    Object.assign(r, await foundInJaeger(jaeger.queryUrl, events));
    r.note = await largeReadBack(
      jaeger.queryUrl,
      events.filter((e) => e.large > 0),
    );
  } finally {
    await stopChild(kt.child);
    await jaeger.stop();
  }
  r.lost = Math.max(0, r.acked - r.found);
  return r;
}

/** Secret values through a receiver and a tracer on Kafka: every acknowledged event traced, no value left anywhere. */
async function kafkaSecret(): Promise<Result> {
  const r = newResult('kafka-secret');
  const dir = join(workdir, 'kafka-secret');
  const kafka = await ownKafka(dir);
  const broker = kafka.up();
  cleanups.push(() => kafka.down());
  const store = join(workdir, 'kafka-secret.sqlite');
  const role = (name: string) => ['--kafka-brokers', broker, '--kafka-topic', 'kubetrail-audit', '--role', name];
  const [rPort, tPort] = [await freePort(), await freePort()];
  const receiver = await startServe(rPort, [...role('receive'), '--kafka-partitions', '4']);
  const tracer = await startServe(tPort, [...role('trace'), '--store', store]);
  try {
    const { events: bodies, values } = secretStream(Math.ceil(EVENTS / 2), 'default');
    const events = withIds(bodies);
    r.sent = events.length;
    await send(`http://127.0.0.1:${rPort}`, events, r, async () => undefined);
    await waitFor('the acknowledged events in the store', GIVE_UP_MS, async () => foundInStore(store, events).found >= r.acked);
    r.readyzAfter = await readyz(tPort);
    Object.assign(r, foundInStore(store, events));
    const places = [
      ...leaksInDir(join(dir, 'kafka', 'data'), values).map((f) => f.file),
      ...['', '-wal'].map((x) => store + x).filter((f) => existsSync(f) && leaks(readFileSync(f), values).length > 0),
      ...(leaks(receiver.output() + tracer.output(), values).length > 0 ? ['the processes output'] : []),
    ];
    r.leaked = places.length;
    r.note = `secret values found in ${r.leaked} places (Kafka's data directory, the store, the logs)`;
  } finally {
    await stopChild(receiver.child);
    await stopChild(tracer.child);
  }
  r.lost = Math.max(0, r.acked - r.found);
  return r;
}

const scenarios: Record<Scenario, () => Promise<Result>> = {
  outage,
  kill,
  diskfull: diskFull,
  large: () => large('large', []),
  large8mi: () => large('large8mi', ['--max-attribute-bytes', '8Mi']),
  'kafka-secret': kafkaSecret,
};
const results: Result[] = [];
try {
  for (const name of args.only) {
    say(`scenario ${name}: ${EVENTS} events in batches of ${BATCH}`);
    results.push(await scenarios[name]());
  }
} finally {
  cleanup();
}
if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  process.stdout.write('scenario  sent   acked  found  lost  dup  retried  abandoned  answers                 readyz after  readyz during the fault\n');
  for (const r of results) {
    const answers = Object.entries(r.answers)
      .map(([k, v]) => `${k}:${v}`)
      .join(' ');
    process.stdout.write(
      `${r.scenario.padEnd(9)} ${String(r.sent).padEnd(6)} ${String(r.acked).padEnd(6)} ${String(r.found).padEnd(6)} ${String(r.lost).padEnd(5)} ${String(r.duplicates).padEnd(4)} ${String(r.retriedPosts).padEnd(8)} ${String(r.abandonedBatches).padEnd(10)} ${answers.padEnd(23)} ${r.readyzAfter.slice(0, 3).padEnd(13)} ${r.note ?? r.readyzDuringFault}\n`,
    );
  }
}
process.exitCode = results.some((r) => r.lost > 0 || (r.leaked ?? 0) > 0) ? 1 : 0;
