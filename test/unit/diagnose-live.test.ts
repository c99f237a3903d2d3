// Live findings (frontend-plugin/diagnose/live.ts): the facts of durable spans kept over a sliding
// window (LiveWindow), handed over by the sink's writer (src/sinks/facts-feed.ts) once it committed
// them, the detectors run over it in a worker thread (LiveFindings), the report and
// kubetrail_findings follow what the window holds.
// A ConfigMap held by a finalizer nobody removes is the misbehaviour; the clock is the test's.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attr, type ObjectRef } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
import { registry } from '../../src/core/metrics.ts';
import { factsBatch, factsOfRows, spansToRows } from '../../src/sinks/otlp-rows.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { LiveFindings, LiveWindow, type LiveReport } from '../../frontend-plugin/diagnose/live.ts';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import { at, History, ref } from './diagnose-fixture.ts';

const HOLD = 'example.com/hold';
const nowAt = (clock: { sec: number }) => () => at(clock.sec) / 1000;

/** A ConfigMap created with a finalizer (as alice) and deleted (as bob) at `sec`; nobody removes the finalizer. */
function heldDelete(h: History, o: ObjectRef, sec: number): void {
  h.create(o, sec, 'alice', { metadata: { name: o.name, finalizers: [HOLD] } });
  const snap = { metadata: { name: o.name, deletionTimestamp: new Date(at(sec + 1) / 1000).toISOString(), finalizers: [HOLD] } };
  h.write(o, sec + 1, 'bob', 'delete', { [Attr.code]: 200, [Attr.snapshot]: JSON.stringify(snap) });
}

const gauge = async (detector: string, severity: string, namespace: string): Promise<number | undefined> => {
  const m = await registry.getSingleMetric('kubetrail_findings')!.get();
  return m.values.find((v) => v.labels.detector === detector && v.labels.severity === severity && v.labels.namespace === namespace)?.value;
};

describe('live window', () => {
  it('finds a stuck deletion once past its timeout, and forgets it once the window slides past it', () => {
    const clock = { sec: 0 };
    const win = new LiveWindow({ windowSec: 300, intervalSec: 15, maxFacts: 10_000, thresholds: { deletionTimeoutSec: 30 }, now: nowAt(clock) });
    const h = new History();
    heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
    win.add(h.spans);
    expect(win.size()).toBe(2);

    clock.sec = 10; // not past the 30 s deletion timeout yet
    expect(win.run().findings.filter((f) => f.detector === 'stuck-deletions')).toEqual([]);

    clock.sec = 60;
    const r = win.run();
    expect(r.findings.find((f) => f.detector === 'stuck-deletions')).toMatchObject({
      severity: 'warning',
      objects: [{ name: 'held' }],
      cause: { actor: 'alice' },
    });
    expect(r.live).toMatchObject({ windowSec: 300, intervalSec: 15, facts: 2, droppedFacts: 0, computedAt: new Date(at(60) / 1000).toISOString() });
    expect(r.start).toBe(new Date(at(-240) / 1000).toISOString());

    clock.sec = 400; // both spans older than the 300 s window
    expect(win.run().findings.filter((f) => f.detector === 'stuck-deletions')).toEqual([]);
    expect(win.size()).toBe(0);
  });

  it('keeps only event and link spans', () => {
    const win = new LiveWindow({ windowSec: 300, intervalSec: 15, maxFacts: 10_000, now: () => at(5) / 1000 });
    const h = new History();
    heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
    win.add([{ ...h.spans[0]!, kind: 'object', spanId: 'root' }]);
    expect(win.size()).toBe(0);
  });

  it('keeps at most maxFacts, the oldest dropped, and the report starts where the window was cut', () => {
    const clock = { sec: 100 };
    const win = new LiveWindow({ windowSec: 300, intervalSec: 15, maxFacts: 3, now: nowAt(clock) });
    const h = new History();
    for (let i = 0; i < 5; i++) h.create(ref('configmaps', 'shop', `c${i}`), i * 10, 'alice', { metadata: { name: `c${i}` } });
    win.add(h.spans);
    const r = win.run();
    expect(r.live).toMatchObject({ facts: 3, maxFacts: 3, droppedFacts: 2, truncatedBefore: new Date(at(10) / 1000).toISOString() });
    expect(r.start).toBe(new Date(at(10) / 1000).toISOString());
    expect(r.spans).toBe(3);
    // once the window has slid past the cut, it is whole again
    clock.sec = 320;
    expect(win.run().live.truncatedBefore).toBeUndefined();
  });

  it("takes the OTLP export's facts spans as handed over, with the same facts as the spans compacted here", () => {
    const opts = { windowSec: 300, intervalSec: 15, maxFacts: 10_000, thresholds: { deletionTimeoutSec: 30 }, now: () => at(60) / 1000 };
    const h = new History();
    heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
    h.create(ref('configmaps', 'shop', 'plain'), 2, 'alice', { metadata: { name: 'plain' } });
    const fromSpans = new LiveWindow(opts);
    fromSpans.add(h.spans);
    // what the OTLP worker exports beside the spans, and posts to the feed once Jaeger accepted the request
    const { batch, count } = factsBatch(factsOfRows(spansToRows(h.spans)));
    expect(count).toBe(3);
    const fed = new LiveWindow(opts);
    fed.addFacts(batch);
    expect(fed.size()).toBe(3);
    const [a, b] = [fromSpans.run(), fed.run()];
    expect(b.findings).toEqual(a.findings);
    expect(b.findings.map((f) => f.detector)).toContain('stuck-deletions');
  });

  it('refuses a window, interval or cap that is not positive', () => {
    expect(() => new LiveWindow({ windowSec: 0, intervalSec: 15, maxFacts: 1 })).toThrow(/must be positive/);
    expect(() => new LiveFindings({ windowSec: 60, intervalSec: 15, maxFacts: 0 })).toThrow(/must be positive/);
  });
});

describe('live findings (worker thread), fed by the store writer', () => {
  // the real store, on a file (its writer thread) and in memory (the writer in this thread)
  for (const where of ['file', 'memory'] as const) {
    it(`(${where}) keeps the facts of what the store committed, never those of a refused write; diagnoses them in the worker and counts the findings in kubetrail_findings`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kt-live-unit-'));
      const store = new SqliteStore(where === 'file' ? join(dir, 'store.sqlite') : ':memory:');
      // the fixture's spans are from 2026-09: a window long enough to hold them
      const live = new LiveFindings({ windowSec: 1e9, intervalSec: 15, maxFacts: 10_000, thresholds: { deletionTimeoutSec: 30 } });
      try {
        expect(live.tap(store)).toBe(store);
        // the store refuses the spans of one object (a constraint failure: permanent, the write fails)
        store.db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON spans WHEN NEW.obj_name = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
        const refused = new History();
        heldDelete(refused, ref('configmaps', 'shop', 'refused'), 0);
        await expect(store.write(refused.spans)).rejects.toThrow(/refused by the test/);
        const h = new History();
        heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
        await store.write(h.spans);
        await store.write(h.spans.map((s) => ({ ...s }))); // redelivered: the store keeps nothing twice, nor does the window
        const r = await live.run();
        expect(r.findings.filter((f) => f.detector === 'stuck-deletions').map((f) => f.objects[0]!.name)).toEqual(['held']);
        // the window holds the facts the store kept
        expect(r.live.facts).toBe(2);
        expect((store.db.prepare('SELECT COUNT(*) AS n FROM facts').get() as { n: number }).n).toBe(2);
        expect(live.report()).toEqual(r);
        // Terminating since 2026-09: long past the timeout, an error
        expect(r.findings[0]!.severity).toBe('error');
        expect(await gauge('stuck-deletions', 'error', 'shop')).toBe(1);
      } finally {
        await live.stop();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('refuses a sink that does not hand over the facts of what it writes', async () => {
    const live = new LiveFindings({ windowSec: 60, intervalSec: 15, maxFacts: 10 });
    try {
      const sink: SpanSink = { write: async () => {}, pending: () => 0, full: () => false, flush: async () => {}, close: async () => {} };
      expect(() => live.tap(sink)).toThrow(/does not hand over the facts/);
    } finally {
      await live.stop();
    }
  });
});

describe('GET /api/findings/live', () => {
  it('answers the last live report; 503 before the first run; 404 when live findings are off', async () => {
    const win = new LiveWindow({ windowSec: 300, intervalSec: 15, maxFacts: 100, thresholds: { deletionTimeoutSec: 30 }, now: () => at(60) / 1000 });
    const h = new History();
    heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
    win.add(h.spans);
    let last: LiveReport | undefined;
    const on = await createQueryServer({ backend: new MemoryBackend(), windowSec: 1800, uiDir: '/nonexistent', live: { report: () => last } });
    const off = await createQueryServer({ backend: new MemoryBackend(), windowSec: 1800, uiDir: '/nonexistent' });
    try {
      expect((await on.inject({ method: 'GET', url: '/api/findings/live' })).statusCode).toBe(503);
      last = win.run();
      const res = await on.inject({ method: 'GET', url: '/api/findings/live' });
      expect(res.statusCode).toBe(200);
      expect(res.json().findings.map((f: { detector: string }) => f.detector)).toContain('stuck-deletions');
      expect(res.json().live).toMatchObject({ windowSec: 300, facts: 2 });
      const offRes = await off.inject({ method: 'GET', url: '/api/findings/live' });
      expect(offRes.statusCode).toBe(404);
      expect(offRes.json().errors[0].msg).toMatch(/live findings are off/);
    } finally {
      await on.close();
      await off.close();
    }
  });
});
