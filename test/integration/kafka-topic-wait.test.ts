// Receivers and tracers start together (a Helm install), so a tracer may start before any
// receiver created the topic (issue 21 item 5): it waits, not ready and saying why, and traces
// once a receiver created the topic. Against the stack's real Kafka. Neither process prints
// kafkajs' TimeoutNegativeWarning (item 7) on the way.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { auditStream } from '../setup/audit-stream.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { kafkaRoleArgs } from '../setup/kafka-roles.ts';
import '../setup/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-topic-'));
const running: RunningKubetrail[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

describe('a tracer started before its topic exists', () => {
  it('waits not ready, saying why, then traces what a receiver publishes once it created the topic', async () => {
    const stack = inject('stack');
    const topic = `kt-wait-${randomBytes(3).toString('hex')}`;
    const store = join(dir, 'wait.sqlite');
    const [tPort, rPort] = await freePorts(2);
    const net = (port: number) => ['--webhook-host', '127.0.0.1', '--webhook-port', String(port), '--no-informers', '--no-query'];
    const tracer = await startKubetrail([...kafkaRoleArgs(stack.kafkaBroker, topic, 'trace'), '--kafka-group', `${topic}-g`, '--store', store, ...net(tPort)], {
      ready: /waiting to subscribe to the topic/,
    });
    running.push(tracer);
    expect(tracer.output()).toContain(`topic ${topic} does not exist yet`);
    const waiting = await fetch(`http://127.0.0.1:${tPort}/readyz`);
    expect(waiting.status).toBe(503);
    expect(((await waiting.json()) as { reasons: string[] }).reasons.join('; ')).toContain(`tracer waiting: topic ${topic} does not exist yet`);

    const receiver = await startKubetrail([...kafkaRoleArgs(stack.kafkaBroker, topic, 'receive'), '--kafka-partitions', '2', ...net(rPort)], {
      ready: /audit webhook listening/,
    });
    running.push(receiver);
    const events = auditStream({ objects: 10, updates: 2, namespace: 'wait' });
    const res = await fetch(`http://127.0.0.1:${rPort}/audit/kafka-w`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: events }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => storedEvents(store, 'kafka-w').length >= events.length, `${events.length} event spans in the store`, 120_000);
    expect((await fetch(`http://127.0.0.1:${tPort}/readyz`)).status).toBe(200);
    expect(tracer.child.exitCode).toBeNull();
    expect(tracer.output()).toMatch(/"msg":"tracing from Kafka"/);
    for (const p of [tracer, receiver]) expect(p.output()).not.toContain('TimeoutNegativeWarning');
  }, 180_000);
});
