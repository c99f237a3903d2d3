// The overview's index in the embedded store (schema 3): the heatmap counted from it must say what
// the scan of every span says, a redelivered batch must count nothing twice, and a store written by
// the previous kubetrail (schema 2) gets the index filled when a writer opens it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SCHEMA_VERSION, SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { type Activity, activity } from '../../frontend-plugin/activity.ts';
import { replayFiles } from '../../src/commands/replay.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import { objectKey } from '../../src/core/model.ts';

const SCENARIO = resolve(import.meta.dirname, '../../examples/kwok-scenario');
const WINDOW = 1800;

/** The same store without its index: the scan path of activity(). */
function scanOnly(b: SqliteBackend): TraceBackend {
  return {
    getRawTrace: (id) => b.getRawTrace(id),
    getRawTraces: (ids) => b.getRawTraces(ids),
    findObjects: (q) => b.findObjects(q),
    scanSpans: (q) => b.scanSpans(q),
    clusters: () => b.clusters(),
    close: async () => {},
  };
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
/** Per row: the totals over the range (bucket edges differ between the two paths). */
function perRow(a: Activity) {
  return Object.fromEntries(
    a.rows.map((r) => [
      `${r.cluster}/${r.group}/${r.resource}/${r.namespace}`,
      { objects: r.objects, writes: sum(r.writes), events: sum(r.events), warnings: sum(r.warnings), failures: sum(r.failures), expected: sum(r.expected) },
    ]),
  );
}

describe('the overview index of the embedded store', () => {
  let dir: string;
  let store: SqliteStore;
  let backend: SqliteBackend;
  let range: { startUs: number; endUs: number };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kt-overview-index-'));
    store = new SqliteStore(join(dir, 'store.sqlite'));
    await replayFiles({ files: [join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json')], cluster: 'kwok', sink: store, progress: false });
    backend = new SqliteBackend(store);
    const s = await backend.summary();
    range = { startUs: s.firstUs!, endUs: s.lastUs! };
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts what the scan of every span counts: writes, Events, objects, real and expected failures per kind and namespace', async () => {
    const q = { ...range, buckets: 48, windowSec: WINDOW, fit: true };
    const fast = await activity(backend, q);
    const slow = await activity(scanOnly(backend), q);
    expect(fast.totals).toEqual(slow.totals);
    expect(fast.totals.writes).toBeGreaterThan(100);
    expect(fast.totals.expected).toBeGreaterThan(0);
    expect(perRow(fast)).toEqual(perRow(slow));
    // whole seconds a column, the recorded range fitted as the scan fits it
    expect(fast.bucketUs % 1e6).toBe(0);
    expect(fast.buckets).toBeLessThanOrEqual(48);
    expect(fast.startUs).toBeLessThanOrEqual(slow.startUs);
    expect(fast.endUs).toBeGreaterThanOrEqual(slow.endUs - 1e6);
  });

  it('tells the first and last recorded event, not only the window bounds', async () => {
    let lo = Infinity,
      hi = -Infinity;
    for await (const batch of backend.scanSpans({ ...range }))
      for (const sp of batch)
        if (sp.kind === 'event') {
          lo = Math.min(lo, sp.startUs);
          hi = Math.max(hi, sp.startUs);
        }
    const s = await backend.summary();
    expect(s.firstEventUs).toBe(Math.floor(lo / 1e6) * 1e6);
    expect(s.lastEventUs).toBe(Math.floor(hi / 1e6) * 1e6 + 1e6);
    expect(s.firstUs).toBeLessThanOrEqual(s.firstEventUs!);
    expect(s.lastUs).toBeGreaterThanOrEqual(s.lastEventUs!);
    expect(await backend.summary('no-such-cluster')).toEqual({ namespaces: [] });
  });

  it('counts a redelivered batch once', async () => {
    const before = await backend.activityCounts(range);
    const pods = await backend.findObjects({ ...range, resource: 'pods', limit: 3 });
    const traces = await backend.getRawTraces(pods.flatMap((p) => p.windows.map((w) => rawTraceId(objectKey(p.object), w))));
    const spans = traces.flat();
    expect(spans.filter((s) => s.kind === 'event').length).toBeGreaterThan(0);
    await store.write(spans);
    expect(await backend.activityCounts(range)).toEqual(before);
  });

  it('fills the index of a store written by the previous kubetrail when a writer opens it', async () => {
    const expected = await activity(backend, { ...range, buckets: 48, windowSec: WINDOW, fit: true });
    const old = join(dir, 'v2.sqlite');
    await store.flush();
    store.db.exec(`VACUUM INTO '${old}'`);
    const db = new DatabaseSync(old);
    db.exec('DROP TABLE namespaces; DROP TABLE activity; DROP TABLE active_objects; DROP TABLE failed_events; PRAGMA user_version = 2');
    db.close();
    // read-only, it is read as it is: the scan path, the same answer
    const ro = new SqliteBackend(old);
    expect(await ro.activityCounts(range)).toBeUndefined();
    expect((await activity(ro, { ...range, buckets: 48, windowSec: WINDOW, fit: true })).totals).toEqual(expected.totals);
    expect((await ro.summary()).namespaces).toEqual((await backend.summary()).namespaces);
    await ro.close();
    // a writer adds the index once
    const migrated = new SqliteStore(old);
    expect(migrated.schemaVersion).toBe(SCHEMA_VERSION);
    const b = new SqliteBackend(migrated);
    expect(await b.activityCounts(range)).toEqual(await backend.activityCounts(range));
    expect(perRow(await activity(b, { ...range, buckets: 48, windowSec: WINDOW, fit: true }))).toEqual(perRow(expected));
    expect(await b.summary()).toEqual(await backend.summary());
    await migrated.close();
  });

  it('reads a format-3 file that lacks the per-object index of active_objects (written before it was added), read-only', async () => {
    const expected = await backend.activityCounts(range);
    const early = join(dir, 'early-v3.sqlite');
    await store.flush();
    store.db.exec(`VACUUM INTO '${early}'`);
    const db = new DatabaseSync(early);
    db.exec('DROP INDEX active_by_object');
    db.close();
    const ro = new SqliteBackend(early);
    try {
      expect(await ro.activityCounts(range)).toEqual(expected);
    } finally {
      await ro.close();
    }
  });
});
