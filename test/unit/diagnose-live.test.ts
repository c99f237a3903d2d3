// Live findings (frontend-plugin/diagnose/live.ts): the facts of durable spans kept over a sliding
// window (LiveWindow), handed over by the sink's writer (src/sinks/facts-feed.ts) once it committed
// them, the detectors run over it in a worker thread (LiveFindings), the report and
// kubetrail_findings follow what the window holds.
// A ConfigMap held by a finalizer nobody removes is the misbehaviour; the clock is the test's.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attr, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
import { registry } from '../../src/core/metrics.ts';
import { factsBatch, factsOfRows, spansToRows } from '../../src/sinks/otlp-rows.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { decodeFacts } from '../../src/core/fact-spans.ts';
import type { FactsBatch } from '../../src/sinks/facts-feed.ts';
import { LiveFindings, LiveWindow, type LiveOptions, type LiveReport } from '../../frontend-plugin/diagnose/live.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
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

/** What the OTLP export worker hands over of these spans, `per` spans a request. */
function handedOver(spans: readonly SpanRecord[], per: number): FactsBatch[] {
  const out: FactsBatch[] = [];
  for (let i = 0; i < spans.length; i += per) out.push(factsBatch(factsOfRows(spansToRows(spans.slice(i, i + per)))).batch);
  return out;
}

/** The report of a window of parsed facts after these batches (no run before): the last maxFacts, from where the window was cut on. */
function parsedReport(batches: FactsBatch[], o: LiveOptions, nowUs: number) {
  const all = batches.flatMap((b) => b.payloads.flatMap((p) => decodeFacts(p.cluster, p.json)));
  const dropped = all.slice(0, Math.max(0, all.length - o.maxFacts));
  const startUs = Math.max(nowUs - o.windowSec * 1e6, ...dropped.map((f) => f.startUs));
  const facts = all.slice(dropped.length).filter((f) => f.startUs >= startUs);
  return { facts: facts.length, report: buildReport(facts, { startUs, endUs: nowUs, thresholds: o.thresholds }) };
}

describe('live window of the payloads as handed over, kept compressed and parsed at a run', () => {
  it('drops the oldest facts by count, fact by fact within a payload, and finds what a window of parsed facts finds', () => {
    const h = new History();
    for (let i = 0; i < 10; i++) heldDelete(h, ref('configmaps', `ns${i % 3}`, `held-${i}`), i * 10);
    const batches = handedOver(h.spans, 3); // 20 facts in 7 requests: the cut falls inside a payload
    const o = { windowSec: 300, intervalSec: 15, maxFacts: 7, thresholds: { deletionTimeoutSec: 30 }, now: () => at(200) / 1000 };
    const win = new LiveWindow(o);
    for (const b of batches) win.addFacts(b);
    expect(win.size()).toBe(7);
    const r = win.run();
    // the 13 oldest dropped: the last of them is held-6's create, at 60 s
    expect(r.live).toMatchObject({ facts: 7, droppedFacts: 13, truncatedBefore: new Date(at(60) / 1000).toISOString() });
    const parsed = parsedReport(batches, o, at(200));
    expect(parsed.facts).toBe(7);
    expect(r.findings).toEqual(parsed.report.findings);
    expect(r.findings.filter((f) => f.detector === 'stuck-deletions').map((f) => f.objects[0]!.name)).toEqual(
      expect.arrayContaining(['held-7', 'held-8', 'held-9']),
    );
  });

  it('drops facts older than the window at a run, fact by fact, a straggler once it reaches the head', () => {
    const clock = { sec: 104.5 };
    const h = new History();
    for (let i = 0; i < 10; i++) h.create(ref('configmaps', 'shop', `c${i}`), i, 'alice', { metadata: { name: `c${i}` } });
    heldDelete(h, ref('configmaps', 'shop', 'late'), 1); // handed over last, started at 1 s
    const batches = handedOver(h.spans, 4);
    const o = { windowSec: 100, intervalSec: 15, maxFacts: 1000, thresholds: { deletionTimeoutSec: 30 }, now: nowAt(clock) };
    const win = new LiveWindow(o);
    for (const b of batches) win.addFacts(b);
    expect(win.size()).toBe(12);
    const r = win.run();
    // c0..c4 are older than 4.5 s: gone; the straggler stays (behind c9) but is not in the report
    expect(win.size()).toBe(7);
    expect(r.live.facts).toBe(5);
    expect(r.findings).toEqual(parsedReport(batches, o, at(104.5)).report.findings);
    clock.sec = 200;
    expect(win.run().live.facts).toBe(0);
    expect(win.size()).toBe(0);
  });

  it('a payload that cannot be parsed at a run is dropped, the rest of the window diagnosed', () => {
    const o = { windowSec: 300, intervalSec: 15, maxFacts: 1000, thresholds: { deletionTimeoutSec: 30 }, now: () => at(60) / 1000 };
    const h = new History();
    heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
    const win = new LiveWindow(o);
    win.addFacts({ payloads: [{ cluster: 'kwok', json: '{"v":1,"o":[', starts: Float64Array.of(at(1), at(2)) }] });
    for (const b of handedOver(h.spans, 10)) win.addFacts(b);
    expect(win.size()).toBe(4);
    const r = win.run();
    expect(r.live.facts).toBe(2);
    expect(r.findings.map((f) => f.objects[0]!.name)).toContain('held');
    expect(win.size()).toBe(2);
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
