// Live findings in the Kafka trace role (docs/scale-out.md "Live findings") against the stack's real
// Kafka: a receiver publishes audit events of a ConfigMap created with a finalizer (by alice) and
// deleted (by bob) that nobody releases; the tracer that traced them must report the stuck deletion
// on its own /metrics (kubetrail_findings) and GET /api/findings/live while it runs.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { kafkaRoleArgs } from '../setup/kafka-roles.ts';
import { auditEvent, eventList } from '../unit/webhook.fixtures.ts';
import type { LiveReport } from '../../frontend-plugin/diagnose/live.ts';
import '../setup/types.ts';

const HOLD = 'example.com/hold';
const dir = mkdtempSync(join(tmpdir(), 'kubetrail-live-kafka-'));
const running: RunningKubetrail[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** An audit event of `auditEvent` stamped `agoSec` before now (the live window is the last 10 minutes). */
function recent(e: Record<string, unknown>, agoSec: number): Record<string, unknown> {
  const ts = new Date(Date.now() - agoSec * 1000).toISOString().replace('Z', '000Z');
  return { ...e, requestReceivedTimestamp: ts, stageTimestamp: ts };
}

describe('live findings of a Kafka tracer (real Kafka)', () => {
  it("the tracer that traced a stuck deletion reports it on its /metrics and /api/findings/live, with alice's finalizer as the cause", async () => {
    const stack = inject('stack');
    const topic = `kt-live-${randomBytes(3).toString('hex')}`;
    const ns = `live-${randomBytes(3).toString('hex')}`;
    const [receivePort, tracePort, queryPort] = await freePorts(3);
    const common = ['--webhook-host', '127.0.0.1', '--no-informers', '--cluster', 'kafka-live'];
    const receiver = await startKubetrail(
      [...kafkaRoleArgs(stack.kafkaBroker, topic, 'receive'), ...common, '--kafka-partitions', '2', '--webhook-port', String(receivePort), '--no-query'],
      { ready: /audit webhook listening/ },
    );
    running.push(receiver);
    const tracer = await startKubetrail(
      [
        ...kafkaRoleArgs(stack.kafkaBroker, topic, 'trace'),
        ...common,
        '--kafka-group',
        `${topic}-g`,
        '--store',
        join(dir, 'trace.sqlite'),
        '--webhook-port',
        String(tracePort),
        '--query-port',
        String(queryPort),
        '--live-interval',
        '1s',
        '--live-threshold',
        'deletionTimeout=2s',
      ],
      { ready: /tracing from Kafka/ },
    );
    running.push(tracer);

    const cm = { resource: 'configmaps', kind: 'ConfigMap', namespace: ns, name: 'held', at: 0 };
    const create = auditEvent({
      ...cm,
      verb: 'create',
      user: 'alice',
      object: { metadata: { name: 'held', namespace: ns, uid: 'uid-held', finalizers: [HOLD] } },
    });
    const deletionTimestamp = new Date(Date.now() - 4000).toISOString().replace(/\.\d+Z$/, 'Z');
    const del = auditEvent({ ...cm, verb: 'delete', user: 'bob', rv: '200' });
    del.responseObject = {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'held', namespace: ns, uid: 'uid-held', resourceVersion: '200', deletionTimestamp, finalizers: [HOLD] },
    };
    const res = await fetch(`http://127.0.0.1:${receivePort}/audit/kafka-live`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(eventList([recent(create, 5), recent(del, 4)])),
    });
    expect(res.status).toBe(200);

    const report = await waitFor(
      async () => {
        const r = (await (await fetch(`http://127.0.0.1:${queryPort}/api/findings/live`)).json()) as LiveReport;
        return r.findings?.some((f) => f.detector === 'stuck-deletions' && f.objects[0]?.namespace === ns) && r;
      },
      "the stuck deletion in the tracer's live findings",
      60_000,
      500,
    );
    const found = report.findings.find((f) => f.detector === 'stuck-deletions')!;
    // a warning, an error once Terminating far past the 2 s timeout (the first run may come late on a busy machine)
    expect(found).toMatchObject({
      severity: expect.stringMatching(/^(warning|error)$/),
      objects: [{ cluster: 'kafka-live', resource: 'configmaps', namespace: ns, name: 'held' }],
      cause: { actor: 'alice' },
      data: { finalizers: [HOLD], deletedBy: 'bob' },
    });
    expect(report.live).toMatchObject({ windowSec: 600, intervalSec: 1, facts: 2 });
    const metrics = await (await fetch(`http://127.0.0.1:${tracePort}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`kubetrail_findings\\{detector="stuck-deletions",severity="(warning|error)",namespace="${ns}"\\} 1`));
    expect(tracer.child.exitCode).toBeNull();
    // the receiver traces nothing and keeps no live findings
    expect(await (await fetch(`http://127.0.0.1:${receivePort}/metrics`)).text()).not.toContain('kubetrail_findings{');
  });
});
