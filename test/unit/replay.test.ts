// Replay through the real pipeline and log reader: rotated and gzipped logs, Kubernetes Events,
// backpressure from a full sink, and a failing sink reported instead of data silently lost.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { readAuditLogs, classifyItem } from '../../src/sources/audit-log.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { SinkFullError, type SpanSink } from '../../src/core/sink.ts';
import { replay, formatSummary } from '../../src/sources/replay.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { buildWebhookServer } from '../../src/sources/webhook.ts';
import { auditEventsRejected } from '../../src/core/metrics.ts';
import { BASE_MS, auditEvent, deploymentEvents, eventList } from './webhook.fixtures.ts';

/** kubetrail_audit_events_rejected_total{reason="malformed"}: the webhook's count of bad items. */
const malformedCount = async () => (await auditEventsRejected.get()).values.find((v) => v.labels.reason === 'malformed')?.value ?? 0;

const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 100 };
const jsonl = (items: unknown[]) => `${items.map((e) => JSON.stringify(e)).join('\n')}\n`;

const kubeEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.1', namespace: 'default', uid: 'ev-1', resourceVersion: '900' },
  involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default', uid: 'uid-web' },
  reason: 'ScalingReplicaSet',
  message: 'Scaled up replica set web-abc to 4',
  type: 'Normal',
  count: 1,
  source: { component: 'deployment-controller' },
  firstTimestamp: new Date(BASE_MS + 6000).toISOString(),
  lastTimestamp: new Date(BASE_MS + 6000).toISOString(),
};

describe('replay', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-replay-'));
    const [create, update] = deploymentEvents();
    const pods = Array.from({ length: 20 }, (_, i) =>
      auditEvent({ verb: 'create', resource: 'pods', kind: 'Pod', namespace: 'default', name: `web-${i}`, at: 10 + i }),
    );
    // rotated: audit.log.1.gz is older than audit.log
    writeFileSync(join(dir, 'audit.log.1.gz'), gzipSync(jsonl([create])));
    writeFileSync(join(dir, 'audit.log'), jsonl([update, kubeEvent, ...pods]));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const files = () => [join(dir, 'audit.log.1.gz'), join(dir, 'audit.log')];

  it('traces rotated and gzipped audit logs and Kubernetes Events into the store', async () => {
    const store = new SqliteStore(join(dir, 'a.sqlite'));
    const s = await replay({ items: readAuditLogs(files()), classify: classifyItem, pipeline: new Pipeline(), sink: store, cluster: 'kwok', batchSize: 7 });
    expect(s).toMatchObject({ eventsRead: 23, errors: 0, objects: 21 });
    expect(s.traced).toBe(23);
    expect(s.spansWritten).toBe(store.count());
    const dep = await new SqliteBackend(store).findObjects({ ...ALL, resource: 'deployments', name: 'web' });
    expect(dep).toHaveLength(1);
    expect(formatSummary(s)).toMatch(/objects: +21/);
    await store.close();
  });

  it('waits while the sink is full instead of dropping spans', async () => {
    const written: SpanRecord[] = [];
    let refusals = 0;
    const flaky: SpanSink = {
      async write(spans) {
        if (refusals < 3) {
          refusals++;
          throw new SinkFullError();
        }
        written.push(...spans);
      },
      pending: () => 0,
      full: () => false,
      flush: async () => undefined,
      close: async () => undefined,
    };
    const s = await replay({ items: readAuditLogs(files()), classify: classifyItem, pipeline: new Pipeline(), sink: flaky, cluster: 'kwok', batchSize: 5 });
    expect(refusals).toBe(3);
    expect(written.length).toBe(s.spansWritten);
    expect(new Set(written.map((x) => x.object.name))).toContain('web-19');
  });

  it('an update in the batch after its create still diffs from it, while that batch is being written', async () => {
    const written: SpanRecord[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let writes = 0;
    const slow: SpanSink = {
      async write(spans) {
        // the first batch (the create) is durable only after the next batch was traced
        if (writes++ === 0) await held;
        written.push(...spans);
      },
      pending: () => 0,
      full: () => false,
      flush: async () => undefined,
      close: async () => undefined,
    };
    const [create, update] = deploymentEvents('paced');
    async function* items() {
      yield { file: 'a', line: 1, event: create };
      yield { file: 'a', line: 2, event: update };
    }
    // the create's write is let go while the update is classified: the update is traced (in the
    // same tick) before that write resolved, so its create is staged, not committed
    const classify = (o: unknown) => {
      if (o === update) release();
      return classifyItem(o);
    };
    await replay({ items: items(), classify, pipeline: new Pipeline(), sink: slow, cluster: 'kwok', batchSize: 1 });
    const traced = written.find((x) => x.kind === 'event' && x.name === 'update')!;
    expect(traced.attributes.diff).toBe('spec.replicas 2 -> 4');
  });

  it('rejects an item that is neither an audit event nor a Kubernetes Event, as the webhook does', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'default' } };
    const [create] = deploymentEvents('mixed');
    const file = join(dir, 'mixed.log');
    writeFileSync(file, jsonl([create, pod]));
    const store = new SqliteStore(':memory:');
    const s = await replay({ items: readAuditLogs([file]), classify: classifyItem, pipeline: new Pipeline(), sink: store, cluster: 'kwok' });
    expect(s).toMatchObject({ eventsRead: 2, traced: 1, errors: 1, skipped: {} });
    expect(s.errorSamples).toEqual([`${file}:2: not an audit event or Kubernetes Event (kind "Pod", apiVersion "v1")`]);
    expect(formatSummary(s)).toMatch(/skipped: +0\n.*rejected: +1\n/s);

    const rejectedBefore = await malformedCount();
    const server = buildWebhookServer({ pipeline: new Pipeline(), sink: store });
    const res = await server.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList([create, pod]) });
    expect(res.json()).toMatchObject({ received: 2, traced: 1, skipped: 0, rejected: 1 });
    expect((await malformedCount()) - rejectedBefore).toBe(1);
    await server.app.close();
    await store.close();
  });

  it('fails loudly when the sink cannot store spans', async () => {
    const broken: SpanSink = {
      write: async () => {
        throw new Error('database is locked');
      },
      pending: () => 0,
      full: () => false,
      flush: async () => undefined,
      close: async () => undefined,
    };
    await expect(
      replay({ items: readAuditLogs(files()), classify: classifyItem, pipeline: new Pipeline(), sink: broken, cluster: 'kwok', batchSize: 5 }),
    ).rejects.toThrow(/database is locked/);
  });
});
