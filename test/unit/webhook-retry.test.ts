// A batch the sink refused, retried by the API server, is traced as if it came first: the
// pipeline's state (version history, emitted object/link spans) commits only once the sink
// acknowledged the spans. Real fastify, real pipeline, real SQLite store; the sink is the store
// behind a small wrapper that refuses its first write (the way a full queue does).
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { buildWebhookServer } from '../../src/sources/webhook.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { SinkFullError, type SpanSink } from '../../src/core/sink.ts';
import { auditEvent, deploymentEvents, eventList } from './webhook.fixtures.ts';

const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 100 };

/** The store, refusing the first `refusals` writes as a full sink does. */
function refusing(store: SqliteStore, refusals: number, error: () => Error = () => new SinkFullError('queue full')): SpanSink {
  let left = refusals;
  return {
    write: (spans: SpanRecord[]) => (left-- > 0 ? Promise.reject(error()) : store.write(spans)),
    pending: () => store.pending(),
    full: () => false,
    flush: () => store.flush(),
    close: async () => undefined,
  };
}

describe('webhook: a refused batch retried by the API server', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-retry-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const eventsOf = async (name: string) => {
    const backend = new SqliteBackend(store);
    const [found] = await backend.findObjects({ ...ALL, name });
    expect(found).toBeDefined();
    const ids = found!.windows.map((w) => rawTraceId(objectKey(found!.object), w));
    return (await backend.getRawTraces(ids)).flat().filter((sp) => sp.kind === 'event');
  };
  const poster = (s: ReturnType<typeof buildWebhookServer>) => (items: unknown[]) =>
    s.app.inject({ method: 'POST', url: '/audit/kwok', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(eventList(items)) });

  it('still stores the update with its diff spec.replicas 2 -> 4 (create and update in one EventList)', async () => {
    const s = buildWebhookServer({ pipeline: new Pipeline(), sink: refusing(store, 1) });
    const post = poster(s);
    const batch = deploymentEvents('retried');
    expect((await post(batch)).statusCode).toBe(429);
    expect((await post(batch)).statusCode).toBe(200);
    const update = (await eventsOf('retried')).find((e) => e.name === 'update')!;
    expect(String(update.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
    expect(JSON.parse(String(update.attributes[Attr.diffEntries]))).toContainEqual({ path: 'spec.replicas', old: 2, new: 4 });
    await s.app.close();
  });

  it('an update refused alone (503) still diffs from the create an earlier batch brought', async () => {
    let fail = 0;
    const sink = refusing(store, 0);
    const flaky: SpanSink = { ...sink, write: (spans) => (fail-- > 0 ? Promise.reject(new Error('collector unavailable')) : sink.write(spans)) };
    const s = buildWebhookServer({ pipeline: new Pipeline(), sink: flaky });
    const post = poster(s);
    const [create, update] = deploymentEvents('later');
    expect((await post([create])).statusCode).toBe(200);
    fail = 1;
    expect((await post([update])).statusCode).toBe(503);
    expect((await post([update])).statusCode).toBe(200);
    const upd = (await eventsOf('later')).find((e) => e.name === 'update')!;
    expect(String(upd.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
    await s.app.close();
  });

  it("two batches in flight: the one acknowledged first does not commit the refused one's state", async () => {
    // the first write is held until the second one is stored, then refused
    let release!: () => void;
    const secondStored = new Promise<void>((r) => (release = r));
    let n = 0;
    const gated: SpanSink = {
      ...refusing(store, 0),
      write: async (spans) => {
        if (n++ === 0) {
          await secondStored;
          throw new SinkFullError('queue full');
        }
        await store.write(spans);
        release();
      },
    };
    const s = buildWebhookServer({ pipeline: new Pipeline(), sink: gated });
    const post = poster(s);
    const pair = deploymentEvents('pair');
    const other = auditEvent({ verb: 'create', resource: 'configmaps', kind: 'ConfigMap', namespace: 'default', name: 'other', at: 1 });
    const [a, b] = await Promise.all([post(pair), post([other])]);
    expect(a.statusCode).toBe(429);
    expect(b.statusCode).toBe(200);
    expect((await post(pair)).statusCode).toBe(200);
    const events = await eventsOf('pair');
    expect(events.map((e) => e.name).sort()).toEqual(['create', 'update']);
    expect(String(events.find((e) => e.name === 'update')!.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
    await s.app.close();
  });
});
