import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SCHEMA_VERSION, SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { SinkFullError } from '../../src/core/sink.ts';
import { objectKey, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { eventSpanId, objectSpanId, rawTraceId } from '../../src/core/ids.ts';

const WINDOW = 1800;
const T0 = 1_700_000_000 - (1_700_000_000 % WINDOW); // window-aligned seconds

function objectSpans(o: ObjectRef, windowStart: number, events: number): SpanRecord[] {
  const key = objectKey(o);
  const traceId = rawTraceId(key, windowStart);
  const root = objectSpanId(key, windowStart);
  const attributes = { cluster: o.cluster, group: o.group, resource: o.resource, namespace: o.namespace, name: o.name };
  const spans: SpanRecord[] = [
    { traceId, spanId: root, kind: 'object', name: o.resource, startUs: windowStart * 1e6, endUs: (windowStart + WINDOW) * 1e6, object: o, attributes },
  ];
  for (let i = 0; i < events; i++) {
    spans.push({
      traceId,
      spanId: eventSpanId(`audit-${key}-${windowStart}-${i}`, key),
      parentSpanId: root,
      kind: 'event',
      name: 'update',
      startUs: (windowStart + 10 + i) * 1e6,
      endUs: (windowStart + 10 + i) * 1e6 + 500,
      object: o,
      attributes: { ...attributes, verb: 'update', code: 200 },
      ...(i === 1 ? { error: 'Conflict: the object has been modified' } : {}),
    });
  }
  return spans;
}

const deploy: ObjectRef = { cluster: 'kwok', group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' };
const pod: ObjectRef = { cluster: 'kwok', group: '', resource: 'pods', namespace: 'default', name: 'web-abc' };
const node: ObjectRef = { cluster: 'other', group: '', resource: 'nodes', namespace: '', name: 'node-1' };

describe('SqliteStore', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-store-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a replayed batch only once (dedup by trace and span ID)', async () => {
    const spans = objectSpans(deploy, T0, 3);
    await store.write(spans);
    await store.write(spans);
    expect(store.count()).toBe(4);
    const trace = await new SqliteBackend(store).getRawTrace(spans[0]!.traceId);
    expect(trace).toHaveLength(4);
  });

  it('returns a raw trace with attributes, parent and error intact', async () => {
    const spans = objectSpans(deploy, T0, 2);
    await store.write(spans);
    const trace = await new SqliteBackend(store).getRawTrace(spans[0]!.traceId);
    const root = trace.find((s) => s.kind === 'object')!;
    expect(root.parentSpanId).toBeUndefined();
    expect(root.object).toEqual(deploy);
    const events = trace.filter((s) => s.kind === 'event');
    expect(events.every((s) => s.parentSpanId === root.spanId)).toBe(true);
    expect(events[0]!.attributes).toMatchObject({ verb: 'update', code: 200, name: 'web' });
    expect(events.find((s) => s.error)?.error).toBe('Conflict: the object has been modified');
    expect(await new SqliteBackend(store).getRawTrace('0'.repeat(32))).toEqual([]);
  });

  it('reads many raw traces at once exactly as one by one, in the order asked', async () => {
    await store.write([...objectSpans(deploy, T0, 3), ...objectSpans(pod, T0, 2), ...objectSpans(pod, T0 + WINDOW, 4), ...objectSpans(node, T0, 0)]);
    const ids = [
      rawTraceId(objectKey(pod), T0 + WINDOW),
      rawTraceId(objectKey(deploy), T0),
      'ffffffffffffffffffffffffffffffff',
      rawTraceId(objectKey(node), T0),
      rawTraceId(objectKey(pod), T0),
      rawTraceId(objectKey(deploy), T0),
    ];
    const one = await Promise.all(ids.map((id) => new SqliteBackend(store).getRawTrace(id)));
    expect(one.map((t) => t.length)).toEqual([5, 4, 0, 1, 3, 4]);
    expect(await new SqliteBackend(store).getRawTraces(ids)).toEqual(one);
    expect(await new SqliteBackend(store).getRawTraces([])).toEqual([]);
    // more IDs than one statement takes
    const many = Array.from({ length: 1200 }, (_, i) => (i % 3 === 0 ? rawTraceId(objectKey(pod), T0) : `${i}`.padStart(32, '0')));
    const batched = await new SqliteBackend(store).getRawTraces(many);
    expect(batched.filter((t) => t.length === 3)).toHaveLength(400);
  });

  it('finds objects by any subset of the key, with their windows ascending', async () => {
    await store.write([...objectSpans(deploy, T0 + WINDOW, 1), ...objectSpans(deploy, T0, 1), ...objectSpans(pod, T0, 1), ...objectSpans(node, T0, 0)]);
    const all = { startUs: T0 * 1e6, endUs: (T0 + 10 * WINDOW) * 1e6, limit: 100 };
    const byName = await new SqliteBackend(store).findObjects({ ...all, name: 'web' });
    expect(byName).toEqual([{ object: deploy, windows: [T0, T0 + WINDOW] }]);
    expect((await new SqliteBackend(store).findObjects({ ...all, cluster: 'kwok' })).map((f) => f.object.name).sort()).toEqual(['web', 'web-abc']);
    expect((await new SqliteBackend(store).findObjects({ ...all, group: '', resource: 'pods' })).map((f) => f.object)).toEqual([pod]);
    expect(await new SqliteBackend(store).findObjects(all)).toHaveLength(3);
    expect(await new SqliteBackend(store).findObjects({ ...all, limit: 1 })).toHaveLength(1);
    // only the second window overlaps this range
    const later = await new SqliteBackend(store).findObjects({ startUs: (T0 + WINDOW + 5) * 1e6, endUs: (T0 + WINDOW + 6) * 1e6, limit: 10 });
    expect(later).toEqual([{ object: deploy, windows: [T0 + WINDOW] }]);
    expect(await new SqliteBackend(store).clusters()).toEqual(['kwok', 'other']);
  });

  it('writes thousands of spans per batch and keeps them queryable', async () => {
    const batch: SpanRecord[] = [];
    for (let i = 0; i < 500; i++) batch.push(...objectSpans({ ...pod, name: `pod-${i}` }, T0, 9));
    await store.write(batch);
    expect(store.count()).toBe(5000);
    expect(await new SqliteBackend(store).findObjects({ resource: 'pods', name: 'pod-42', startUs: 0, endUs: 1e18, limit: 10 })).toHaveLength(1);
  });

  it('refuses writes with SinkFullError when over its pending limit', async () => {
    const small = new SqliteStore(join(dir, 'small.sqlite'), { maxPending: 3 });
    const first = small.write(objectSpans(deploy, T0, 3)); // 4 pending until committed
    expect(small.full()).toBe(true);
    await expect(small.write(objectSpans(pod, T0, 0))).rejects.toBeInstanceOf(SinkFullError);
    await first;
    expect(small.full()).toBe(false);
    await small.write(objectSpans(pod, T0, 0));
    expect(small.count()).toBe(5);
    await small.close();
  });
  it('commits many concurrent writes, each visible to another reader once its write resolves', async () => {
    const reader = new SqliteBackend(store.path);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) writes.push(store.write(objectSpans({ ...pod, name: `pod-${i}` }, T0, 3)));
    await writes[0];
    expect(reader.count()).toBeGreaterThanOrEqual(4);
    await Promise.all(writes);
    expect(store.pending()).toBe(0);
    expect(reader.count()).toBe(200);
    expect(await reader.getRawTrace(rawTraceId(objectKey({ ...pod, name: 'pod-49' }), T0))).toHaveLength(4);
    await reader.close();
  });

  it('refuses to write into a store of an older format, with a clear error, but still reads it', async () => {
    const old = join(dir, 'old.sqlite');
    const db = new DatabaseSync(old);
    // the first layout: spans keyed by (trace_id, span_id) WITHOUT ROWID, no user_version
    db.exec(`CREATE TABLE spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, kind TEXT NOT NULL,
      name TEXT NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL, cluster TEXT NOT NULL, grp TEXT NOT NULL,
      resource TEXT NOT NULL, namespace TEXT NOT NULL, obj_name TEXT NOT NULL, attributes TEXT NOT NULL, error TEXT,
      PRIMARY KEY (trace_id, span_id)) WITHOUT ROWID;
      INSERT INTO spans VALUES ('t1', 's1', NULL, 'object', 'pods', 1, 2, 'kwok', '', 'pods', 'default', 'a', '{}', NULL);`);
    db.close();
    expect(() => new SqliteStore(old)).toThrow(`store ${old} has schema 1, this kubetrail writes ${SCHEMA_VERSION}: replay into a new file`);
    const reader = new SqliteBackend(old);
    expect(await reader.getRawTrace('t1')).toHaveLength(1);
    await reader.close();
    // a store from a newer kubetrail is refused for reading too
    const newer = join(dir, 'newer.sqlite');
    const n = new DatabaseSync(newer);
    n.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    n.close();
    expect(() => new SqliteStore(newer)).toThrow(`has schema ${SCHEMA_VERSION + 1}, this kubetrail writes ${SCHEMA_VERSION}`);
    expect(() => new SqliteBackend(newer)).toThrow(`has schema ${SCHEMA_VERSION + 1}`);
  });

  it('reopens its own store and keeps de-duplicating across processes', async () => {
    const spans = objectSpans(deploy, T0, 2);
    await store.write(spans);
    await store.close();
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    await store.write(spans);
    expect(store.count()).toBe(3);
  });
});
