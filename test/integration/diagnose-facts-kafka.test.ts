// Diagnosis of a run too large for Jaeger's search (issue 22): receivers and two tracers on the real
// Kafka 3.9, each tracer exporting only its partitions' spans — and their facts (src/core/fact-spans.ts)
// — to the real Jaeger; `kubetrail diagnose --jaeger-query` reads the facts traces and reports one
// combined set of findings over more than 10,000 raw traces, where reading the spans refuses.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CLI, startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { kafkaRoleArgs } from '../setup/kafka-roles.ts';
import { Partitioners } from 'kafkajs';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import { messageKey } from '../../src/sources/kafka/messages.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';
import '../setup/types.ts';

const running: RunningKubetrail[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
});

async function serve(args: string[], ready: RegExp): Promise<{ proc: RunningKubetrail; url: string }> {
  const [port] = await freePorts(1);
  const proc = await startKubetrail([...args, '--webhook-host', '127.0.0.1', '--webhook-port', String(port), '--no-informers', '--no-query'], { ready });
  running.push(proc);
  return { proc, url: `http://127.0.0.1:${port}` };
}

const BULK = 10_100;
const FIGHTS = ['fight-a', 'fight-b', 'fight-c', 'fight-d', 'fight-e', 'fight-f'];
const FLIPS = 5;

/** BULK ConfigMaps created once each (one raw trace each), and a ConfigMap per FIGHTS namespace whose data.v alice and bob set in turn. */
function events(t0: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let rv = 1;
  const ev = (ns: string, name: string, verb: string, user: string, v: string): void => {
    const ts = new Date(t0 + out.length).toISOString().replace('Z', '000Z');
    const obj = {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, resourceVersion: String(++rv) },
      data: { v },
    };
    out.push({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: `facts-${out.length}`,
      stage: 'ResponseComplete',
      requestURI: `/api/v1/namespaces/${ns}/configmaps${verb === 'create' ? '' : `/${name}`}`,
      verb,
      user: { username: user },
      sourceIPs: ['127.0.0.1'],
      objectRef: { resource: 'configmaps', namespace: ns, name, apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
      requestObject: obj,
      responseObject: obj,
      requestReceivedTimestamp: ts,
      stageTimestamp: ts,
    });
  };
  for (const ns of FIGHTS) ev(ns, 'tug', 'create', 'creator', '0');
  for (let i = 0; i < BULK; i++) ev(`bulk-${i % 10}`, `cm-${i}`, 'create', 'loader', '0');
  for (let k = 0; k <= FLIPS; k++) for (const ns of FIGHTS) ev(ns, 'tug', 'update', k % 2 ? 'bob' : 'alice', String(k + 1));
  return out;
}

function assigned(output: string): number[] {
  const last = output
    .split('\n')
    .filter((l) => l.includes('"msg":"partitions assigned"'))
    .at(-1);
  return last ? (JSON.parse(last) as { partitions: number[] }).partitions : [];
}

describe("diagnose --jaeger-query from the tracers' facts (Kafka, two tracers, real Jaeger)", () => {
  it('one combined set of findings over more than 10,000 raw traces', async () => {
    const stack = inject('stack');
    const topic = `kt-facts-${randomBytes(3).toString('hex')}`;
    // fixed: its fights' object keys hash to partitions 1, 2 and 3, so both tracers trace some of them
    const cluster = 'facts-k';
    const r = await serve([...kafkaRoleArgs(stack.kafkaBroker, topic, 'receive'), '--kafka-partitions', '4'], /audit webhook listening/);
    const tracer = () =>
      serve(
        [
          ...kafkaRoleArgs(stack.kafkaBroker, topic, 'trace'),
          '--kafka-group',
          `${topic}-g`,
          '--kafka-session-timeout',
          '10s',
          '--otlp-endpoint',
          stack.otlpGrpcEndpoint,
        ],
        /tracing from Kafka/,
      );
    const tracers = [await tracer(), await tracer()];
    await waitFor(() => tracers.map((t) => assigned(t.proc.output()).length).join() === '2,2', 'the partitions split between the two tracers', 60_000);

    const t0 = Date.now() - 120_000;
    const all = events(t0);
    for (let i = 0; i < all.length; i += 1000) {
      const res = await fetch(`${r.url}/audit/${cluster}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: all.slice(i, i + 1000) }),
      });
      await res.text();
      expect(res.status).toBe(200);
    }

    const since = new Date(t0 - 1000).toISOString();
    const until = new Date(Date.now()).toISOString();
    const args = ['diagnose', '--jaeger-query', stack.jaegerQueryUrl, '--cluster', cluster, '--since', since, '--until', until, '--json'];
    const report = await waitFor(
      () => {
        const res = spawnSync(process.execPath, [CLI, ...args], {
          encoding: 'utf8',
          env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' },
          maxBuffer: 64 << 20,
        });
        if (res.status !== 0 && res.status !== 1) throw new Error(`diagnose exited ${res.status}: ${res.stderr.slice(-1000)}`);
        const rep = JSON.parse(res.stdout) as Report;
        return rep.spans === all.length && rep;
      },
      `all ${all.length} event spans' facts in Jaeger`,
      240_000,
      3000,
    );
    // each fight once, whichever tracer traced it
    const fights = report.findings.filter((f) => f.detector === 'fighting');
    expect(fights.map((f) => f.objects[0]!.namespace).sort()).toEqual(FIGHTS);
    for (const f of fights) {
      expect(f.actors).toEqual(expect.arrayContaining(['alice', 'bob']));
      expect(f.data).toMatchObject({ field: 'data.v', changesByActor: { alice: 3, bob: 3 } });
    }
    expect(report.detectors.filter((d) => d.failed)).toEqual([]);
    // both tracers traced (and exported facts of) some of the run: their partitions only
    const [p1, p2] = tracers.map((t) => assigned(t.proc.output()));
    expect([...p1!, ...p2!].sort()).toEqual([0, 1, 2, 3]);
    // the fights' objects are on both tracers' partitions (the producer's partitioner, murmur2 of the object key)
    const partitionOf = Partitioners.DefaultPartitioner();
    const fightPartitions = FIGHTS.map((ns) => {
      const item = all.find((e) => (e.objectRef as { namespace: string }).namespace === ns)!;
      const key = messageKey({ v: 1, cluster, kind: 'audit', item });
      return partitionOf({
        topic,
        partitionMetadata: [0, 1, 2, 3].map((partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
        message: { key, value: '' },
      });
    });
    expect(fightPartitions.some((p) => p1!.includes(p)) && fightPartitions.some((p) => p2!.includes(p)), String(fightPartitions)).toBe(true);
    for (const t of tracers) {
      const m = await (await fetch(`${t.url}/metrics`)).text();
      const written = Number(/kubetrail_spans_written_total\{sink="otlp"\} (\d+)/.exec(m)?.[1] ?? 0);
      expect(written).toBeGreaterThan(1000);
    }
    // reading the spans themselves refuses this range: more than 10,000 raw traces
    const jaeger = new JaegerBackend({ url: stack.jaegerQueryUrl });
    const scan = async () => {
      for await (const _ of jaeger.scanSpans({ cluster, startUs: (t0 - 1000) * 1000, endUs: Date.now() * 1000 })) break;
    };
    await expect(scan()).rejects.toThrow(/more than 10000 raw traces/);
  }, 420_000);

  it('a service without facts in Jaeger: the spans are read as before (an empty report here), no error', () => {
    const stack = inject('stack');
    const res = spawnSync(
      process.execPath,
      [CLI, 'diagnose', '--jaeger-query', stack.jaegerQueryUrl, '--jaeger-service', 'no-such-service', '--since', '1h', '--json'],
      {
        encoding: 'utf8',
        env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' },
      },
    );
    expect(res.status, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as Report).findings).toEqual([]);
  });
});
