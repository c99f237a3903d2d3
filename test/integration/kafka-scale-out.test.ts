// Scale-out on Kafka (issue 11, docs/scale-out.md) against the real Kafka 3.9 of the stack:
// receivers and tracers as separate `kubetrail serve` processes, spans in the embedded store.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { DatabaseSync } from 'node:sqlite';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { auditStream } from '../setup/audit-stream.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import '../setup/types.ts';
import { kafkaRoleArgs } from '../setup/kafka-roles.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-'));
const running: RunningKubetrail[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(broker: string, topic: string): Promise<{ url: string; proc: RunningKubetrail }> {
  const [port] = await freePorts(1);
  const proc = await startKubetrail(
    [
      ...kafkaRoleArgs(broker, topic, 'receive'),
      '--kafka-partitions',
      '4',
      '--webhook-host',
      '127.0.0.1',
      '--webhook-port',
      String(port),
      '--no-informers',
      '--no-query',
    ],
    { ready: /audit webhook listening/ },
  );
  running.push(proc);
  return { url: `http://127.0.0.1:${port}`, proc };
}

async function tracer(broker: string, topic: string, group: string, store: string): Promise<RunningKubetrail> {
  const [port] = await freePorts(1);
  const proc = await startKubetrail(
    [
      ...kafkaRoleArgs(broker, topic, 'trace'),
      '--kafka-group',
      group,
      '--store',
      store,
      '--kafka-session-timeout',
      '10s',
      '--webhook-host',
      '127.0.0.1',
      '--webhook-port',
      String(port),
      '--no-informers',
      '--no-query',
    ],
    { ready: /tracing from Kafka/ },
  );
  running.push(proc);
  return proc;
}

/**
 * POSTs the events as EventLists of `batch`; resolves with the auditIDs Kafka acknowledged (200).
 * A batch answered otherwise (503: Kafka did not acknowledge in time) is sent again a second later,
 * as the API server does, up to 30 times.
 */
async function post(url: string, cluster: string, events: Record<string, unknown>[], batch = 200): Promise<string[]> {
  const acked: string[] = [];
  for (let i = 0; i < events.length; i += batch) {
    const items = events.slice(i, i + batch);
    const body = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items });
    const statuses: number[] = [];
    while (statuses.at(-1) !== 200) {
      if (statuses.length === 30) throw new Error(`batch at ${i} never acknowledged: ${statuses.join(', ')}`);
      if (statuses.length) await new Promise((r) => setTimeout(r, 1000));
      const res = await fetch(`${url}/audit/${cluster}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.text();
      statuses.push(res.status);
    }
    for (const e of items) acked.push(e.auditID as string);
  }
  return acked;
}

const expectedDiff = (auditId: string): string | undefined => {
  const v = Number(auditId.split('-').pop());
  return v === 0 ? undefined : `data.v "${v - 1}" -> "${v}"`;
};

describe('scale-out on Kafka (real Kafka 3.9)', () => {
  it('receive → topic → trace → store: every acknowledged event once, with its diff', async () => {
    const stack = inject('stack');
    const topic = `kt-${randomBytes(3).toString('hex')}`;
    const store = join(dir, 'one.sqlite');
    const r = await receiver(stack.kafkaBroker, topic);
    const t = await tracer(stack.kafkaBroker, topic, `${topic}-g`, store);
    const events = auditStream({ objects: 50, updates: 9, namespace: 'one' });
    const acked = await post(r.url, 'kafka-a', events, 100);
    expect(acked).toHaveLength(500);

    const stored = await waitFor(
      () => {
        const s = storedEvents(store, 'kafka-a');
        return s.length >= acked.length && s;
      },
      `${acked.length} event spans in the store`,
      120_000,
    );
    expect(stored.map((s) => s.auditId).sort()).toEqual([...acked].sort());
    for (const s of stored) {
      const want = expectedDiff(s.auditId);
      if (want) expect(s.diff, s.auditId).toBe(want);
    }
    const ready = await fetch(`${r.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`${r.url}/metrics`)).text();
    expect(metrics).toMatch(/kubetrail_kafka_messages_produced_total\{kind="audit"\} 500/);
    expect(t.child.exitCode).toBeNull();
  });

  it('bad messages on the topic are reported, skipped and committed; tracing goes on', async () => {
    const stack = inject('stack');
    const topic = `kt-bad-${randomBytes(3).toString('hex')}`;
    const group = `${topic}-g`;
    const store = join(dir, 'bad.sqlite');
    const r = await receiver(stack.kafkaBroker, topic);
    const t = await tracer(stack.kafkaBroker, topic, group, store);
    const kafka = new Kafka({ clientId: 'bad-producer', brokers: [stack.kafkaBroker], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    const admin = kafka.admin();
    await producer.connect();
    await admin.connect();
    try {
      await producer.send({
        topic,
        messages: [
          { key: 'x', value: 'not json at all' },
          { key: 'x', value: '{"v":1,"cluster":"kafka-b"}' },
          { key: 'x', value: '[1,2,3]' },
          { key: 'x', value: JSON.stringify({ v: 1, cluster: 'kafka-b', kind: 'audit', item: { kind: 'Event', stage: 'ResponseComplete' } }) },
          { key: 'x', value: null },
        ],
      });
      const events = auditStream({ objects: 5, updates: 2, namespace: 'bad' });
      const acked = await post(r.url, 'kafka-b', events);
      const stored = await waitFor(
        () => {
          const s = storedEvents(store, 'kafka-b');
          return s.length >= acked.length && s;
        },
        'the good events after the bad messages',
        120_000,
      );
      expect(stored.map((s) => s.auditId).sort()).toEqual([...acked].sort());
      // every bad message was reported (they share one partition, which the good events need
      // not wait for), and the group's offsets reached the end of the topic
      const reports = [/message is not JSON/, /message has no valid cluster|unknown message kind/, /empty message/];
      await waitFor(() => reports.every((re) => re.test(t.output())) || undefined, 'the bad messages reported', 60_000);
      for (const re of reports) expect(t.output()).toMatch(re);
      const ends = await admin.fetchTopicOffsets(topic);
      await waitFor(
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
          // an empty partition has nothing to commit (-1)
          return ends.every((e) => e.high === '0' || committed!.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
        },
        'committed offsets at the end of every partition',
        30_000,
      );
      expect(t.child.exitCode).toBeNull();
      expect(t.output()).not.toMatch(/consumer crashed/);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('two tracers, one SIGKILLed mid-stream: every acknowledged event traced, diffs as a single-process replay', async () => {
    const stack = inject('stack');
    const topic = `kt-kill-${randomBytes(3).toString('hex')}`;
    const group = `${topic}-g`;
    const stores = [join(dir, 'kill-1.sqlite'), join(dir, 'kill-2.sqlite')];
    const r = await receiver(stack.kafkaBroker, topic);
    const t1 = await tracer(stack.kafkaBroker, topic, group, stores[0]!);
    const t2 = await tracer(stack.kafkaBroker, topic, group, stores[1]!);
    const objects = Number(process.env.KT_KAFKA_OBJECTS ?? 1000);
    const events = auditStream({ objects, updates: 99, namespace: 'kill' });
    expect(events.length).toBeGreaterThanOrEqual(objects * 100);

    // the reference: one process, one pipeline, the same events in order
    const reference = new Map<string, string | undefined>();
    const single = new Pipeline();
    for (const e of events) {
      for (const span of single.auditEvent(e, 'kafka-c').spans) {
        if (span.kind === 'event') reference.set(String(span.attributes.auditId), span.attributes.diff as string | undefined);
      }
    }
    expect(reference.size).toBe(events.length);

    const half = Math.floor(events.length / 2);
    const acked = await post(r.url, 'kafka-c', events.slice(0, half), 500);
    // once the first tracer has traced some of it, kill it without any chance to clean up
    await waitFor(() => storedEvents(stores[0]!, 'kafka-c').length > 1000, 'tracer 1 tracing', 120_000);
    await t1.stop('SIGKILL');
    const t2Before = t2.output().length;
    acked.push(...(await post(r.url, 'kafka-c', events.slice(half), 500)));
    expect(acked).toHaveLength(events.length);

    const union = await waitFor(
      () => {
        const byId = new Map<string, (string | undefined)[]>();
        for (const path of stores) {
          for (const s of storedEvents(path, 'kafka-c')) byId.set(s.auditId, [...(byId.get(s.auditId) ?? []), s.diff]);
        }
        return byId.size >= acked.length && byId;
      },
      `${acked.length} events in the stores`,
      540_000,
      2000,
    );
    expect([...union.keys()].sort()).toEqual([...acked].sort());
    // traced in both stores (redelivered after the kill): the same span (derived ID) with the same diff
    let mismatched = 0;
    for (const [id, diffs] of union) {
      for (const d of diffs) if (d !== reference.get(id)) mismatched++;
    }
    expect(mismatched).toBe(0);
    // the survivor took over the dead tracer's partitions and warmed them up first
    const afterKill = t2.output().slice(t2Before);
    expect(afterKill).toMatch(/warming up partition state/);
    expect(afterKill).toMatch(/partition warm, tracing/);
    expect(t2.child.exitCode).toBeNull();
  }, 600_000);

  it("two tracers write the same object span for an object both touch (a node's own events on one, its pods on the other)", async () => {
    const stack = inject('stack');
    const topic = `kt-obj-${randomBytes(3).toString('hex')}`;
    const group = `${topic}-g`;
    const stores = [join(dir, 'obj-1.sqlite'), join(dir, 'obj-2.sqlite')];
    const r = await receiver(stack.kafkaBroker, topic);
    const tracers = [await tracer(stack.kafkaBroker, topic, group, stores[0]!), await tracer(stack.kafkaBroker, topic, group, stores[1]!)];
    // each tracer holds some of the 4 partitions (the node on one, some of its pods on the other)
    await waitFor(() => tracers.map((t) => assigned(t.output()).length).join() === '2,2', 'the partitions split between the two tracers', 60_000);
    const events = nodeWithPods('obj-node', 20);
    await post(r.url, 'kafka-n', events);
    await waitFor(() => stores.reduce((n, st) => n + storedEvents(st, 'kafka-n').length, 0) >= events.length, `${events.length} events traced`, 120_000);

    const nodeSpans = stores.map((st) => objectSpans(st, 'kafka-n', 'nodes', 'obj-node'));
    expect(nodeSpans.map((x) => x.length)).toEqual([1, 1]); // written by both tracers
    expect(nodeSpans[0]).toEqual(nodeSpans[1]);
  });

  it('trace role into real Jaeger (OTLP): every acknowledged event is a span of its object, with its diff', async () => {
    const stack = inject('stack');
    const topic = `kt-jaeger-${randomBytes(3).toString('hex')}`;
    const r = await receiver(stack.kafkaBroker, topic);
    const [port] = await freePorts(1);
    const t = await startKubetrail(
      [
        ...kafkaRoleArgs(stack.kafkaBroker, topic, 'trace'),
        '--kafka-group',
        `${topic}-g`,
        '--otlp-endpoint',
        stack.otlpGrpcEndpoint,
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(port),
        '--no-informers',
        '--no-query',
      ],
      { ready: /tracing from Kafka/ },
    );
    running.push(t);
    const cluster = `kafka-j-${randomBytes(2).toString('hex')}`;
    const events = auditStream({ objects: 20, updates: 4, namespace: 'jaeger' });
    const acked = await post(r.url, cluster, events, 50);
    const w = windowStartSec(Date.parse('2026-12-01T12:00:00Z') * 1000, 1800);
    const found = new Map<string, { spanID: string; diff: unknown }[]>();
    await waitFor(
      async () => {
        for (let i = 0; i < 20; i++) {
          const traceId = rawTraceId(`${cluster}//configmaps/jaeger/cm-${i}`, w);
          const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
          if (!res.ok) return false;
          const body = (await res.json()) as { data: { spans: { spanID: string; tags: { key: string; value: unknown }[] }[] }[] };
          for (const span of body.data[0]?.spans ?? []) {
            const tags = Object.fromEntries(span.tags.map((x) => [x.key, x.value]));
            if (typeof tags.auditId !== 'string') continue;
            const list = found.get(tags.auditId) ?? [];
            if (!list.some((x) => x.spanID === span.spanID)) list.push({ spanID: span.spanID, diff: tags.diff });
            found.set(tags.auditId, list);
          }
        }
        return found.size >= acked.length;
      },
      `${acked.length} event spans in Jaeger`,
      120_000,
      1000,
    );
    expect([...found.keys()].sort()).toEqual([...acked].sort());
    for (const [id, list] of found) {
      expect(list, id).toHaveLength(1); // one span ID per event
      const want = expectedDiff(id);
      if (want) expect(list[0]!.diff, id).toBe(want);
    }
  });
});

/** The partitions a tracer holds after its last rebalance. */
function assigned(output: string): number[] {
  const lines = output.split('\n').filter((l) => l.includes('"msg":"partitions assigned"'));
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as { partitions: number[] }).partitions : [];
}

/** Audit events: node `node` created, then `pods` pods created on it (each links to the node). */
function nodeWithPods(node: string, pods: number): Record<string, unknown>[] {
  const ts = (i: number) => new Date(Date.parse('2026-12-01T12:00:00Z') + i).toISOString().replace('Z', '000Z');
  const event = (i: number, resource: string, namespace: string | undefined, obj: Record<string, unknown>) => ({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `n-${resource}-${i}`,
    stage: 'ResponseComplete',
    verb: 'create',
    user: { username: 'kafka-test' },
    sourceIPs: ['127.0.0.1'],
    objectRef: { resource, namespace, name: (obj.metadata as { name: string }).name, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: obj,
    responseObject: obj,
    requestReceivedTimestamp: ts(i),
    stageTimestamp: ts(i),
  });
  const out = [event(0, 'nodes', undefined, { kind: 'Node', apiVersion: 'v1', metadata: { name: node, uid: `uid-${node}`, resourceVersion: '1' } })];
  for (let i = 1; i <= pods; i++) {
    const md = { name: `pod-${i}`, namespace: 'objspan', uid: `uid-pod-${i}`, resourceVersion: String(1 + i) };
    out.push(
      event(i, 'pods', 'objspan', { kind: 'Pod', apiVersion: 'v1', metadata: md, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } }),
    );
  }
  return out;
}

/** The object spans of one object in a store file, as stored (IDs, times, attributes). */
function objectSpans(path: string, cluster: string, resource: string, name: string): unknown[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const q = "SELECT trace_id, span_id, name, start_us, end_us, attributes FROM spans WHERE kind = 'object' AND cluster = ? AND resource = ? AND obj_name = ?";
    return db
      .prepare(q)
      .all(cluster, resource, name)
      .map((row) => ({ ...row, attributes: JSON.parse(String(row.attributes)) }));
  } finally {
    db.close();
  }
}
