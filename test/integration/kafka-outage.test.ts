// Kafka stopped for 60 s under load (issue 11): the receiver answers 503 (and /readyz not ready)
// while Kafka is down, the load generator retries each refused batch as kube-apiserver does, and
// once Kafka is back every acknowledged event is traced. This test runs its own Kafka (started
// and stopped with deploy/stack/kafka.sh, the same workdir so the data survives the restart),
// so the stack's shared broker stays up for the other tests.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { cleanUpOwnKafka, ownKafka, type OwnKafka } from '../setup/own-kafka.ts';
import { waitFor } from '../setup/wait.ts';
import { auditStream } from '../setup/audit-stream.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { kafkaRoleArgs } from '../setup/kafka-roles.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-outage-'));
const running: RunningKubetrail[] = [];
let kafka: OwnKafka | undefined;

afterAll(() => cleanUpOwnKafka(running, kafka, dir));

describe('Kafka outage under load', () => {
  it('answers 503 while Kafka is down and loses nothing it acknowledged', async () => {
    const [rPort, tPort] = await freePorts(2);
    const k = await ownKafka(dir);
    kafka = k;
    const broker = k.up();
    const topic = 'kubetrail-audit';
    const store = join(dir, 'outage.sqlite');
    const receiver = await startKubetrail(
      [
        ...kafkaRoleArgs(broker, topic, 'receive'),
        '--kafka-partitions',
        '4',
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(rPort),
        '--no-informers',
        '--no-query',
      ],
      { ready: /audit webhook listening/ },
    );
    running.push(receiver);
    const tracer = await startKubetrail(
      [
        ...kafkaRoleArgs(broker, topic, 'trace'),
        '--store',
        store,
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(tPort),
        '--no-informers',
        '--no-query',
      ],
      { ready: /tracing from Kafka/ },
    );
    running.push(tracer);
    const url = `http://127.0.0.1:${rPort}`;

    const events = auditStream({ objects: 200, updates: 49, namespace: 'outage' });
    const acked: string[] = [];
    const statuses = new Map<number, number>();
    let readyzDuringOutage: number | undefined;
    let phase: 'before' | 'down' | 'after' = 'before';
    let downSince = 0;
    const batch = 100;
    for (let i = 0; i < events.length; ) {
      if (phase === 'before' && acked.length >= events.length / 4) {
        k.down();
        phase = 'down';
        downSince = Date.now();
      }
      if (phase === 'down' && Date.now() - downSince >= 60_000) {
        k.up();
        phase = 'after';
        // ready again by itself, before any batch succeeded (a Service sends none to an unready pod)
        await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, '/readyz ready after Kafka is back', 60_000);
      }
      const items = events.slice(i, i + batch);
      let status: number;
      try {
        const res = await fetch(`${url}/audit/kafka-o`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }),
          signal: AbortSignal.timeout(30_000),
        });
        await res.text();
        status = res.status;
      } catch {
        status = 0; // timed out: the API server retries too
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 200) {
        for (const e of items) acked.push(e.auditID as string);
        i += batch;
      } else {
        if (phase === 'down') readyzDuringOutage ??= (await fetch(`${url}/readyz`)).status;
        await new Promise((r) => setTimeout(r, 500)); // the API server's retry
      }
    }
    if (phase === 'down') k.up(); // (the stream ended early: never with these sizes)
    expect(phase === 'down' ? 'ended during the outage' : 'ok').toBe('ok');
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(readyzDuringOutage).toBe(503);
    expect(acked).toHaveLength(events.length);

    const stored = await waitFor(
      () => {
        const s = storedEvents(store, 'kafka-o');
        return s.length >= acked.length && s;
      },
      `${acked.length} event spans in the store`,
      240_000,
      1000,
    );
    expect(new Set(stored.map((s) => s.auditId))).toEqual(new Set(acked));
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(tracer.child.exitCode).toBeNull();
  }, 420_000);
});
