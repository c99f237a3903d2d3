// Live findings (frontend-plugin/diagnose/live.ts): the facts of durable spans kept over a sliding
// window (LiveWindow), the detectors run over it in a worker thread (LiveFindings), the report and
// kubetrail_findings follow what the window holds.
// A ConfigMap held by a finalizer nobody removes is the misbehaviour; the clock is the test's.
import { describe, expect, it } from 'vitest';
import { Attr, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
import { registry } from '../../src/core/metrics.ts';
import { compactSpan, factInput } from '../../src/core/facts.ts';
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

/** A sink that makes every write durable at once, holding what it got. */
function memorySink(): SpanSink & { got: SpanRecord[] } {
  const got: SpanRecord[] = [];
  return { got, write: async (s) => void got.push(...s), pending: () => 0, full: () => false, flush: async () => {}, close: async () => {} };
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

  it('refuses a window, interval or cap that is not positive', () => {
    expect(() => new LiveWindow({ windowSec: 0, intervalSec: 15, maxFacts: 1 })).toThrow(/must be positive/);
    expect(() => new LiveFindings({ windowSec: 60, intervalSec: 15, maxFacts: 0 })).toThrow(/must be positive/);
  });
});

describe('factInput: what crosses to the worker', () => {
  it('compacts to the same facts as the whole span, without the snapshots and verbose diffs compactSpan drops', () => {
    const h = new History();
    const cm = ref('configmaps', 'shop', 'held');
    heldDelete(h, cm, 0);
    const deploy = ref('deployments', 'shop', 'web', 'apps');
    h.create(deploy, 0, 'alice', { metadata: { generation: 1 }, spec: { replicas: 2, template: { spec: { containers: [{ image: 'a' }] } } } });
    const big = JSON.stringify({ metadata: { generation: 2 }, spec: { replicas: 3 }, data: 'x'.repeat(10_000) });
    const scaled = h.update(deploy, 5, 'alice', 'spec.replicas 2 -> 3', {
      [Attr.snapshot]: big,
      [Attr.diffVerbose]: 'metadata.generation 1 -> 2\nspec.replicas 2 -> 3',
    });
    const edited = h.update(cm, 6, 'carol', 'data.a "1" -> "2"', { [Attr.snapshot]: big, [Attr.diffVerbose]: 'data.a "1" -> "2"' });
    for (const span of h.spans) expect(compactSpan(factInput(span))).toEqual(compactSpan(span));
    const [update, other] = [scaled, edited].map(factInput);
    expect(update!.attributes[Attr.snapshot]).toBeUndefined();
    expect(update!.attributes[Attr.diffVerbose]).toBeDefined();
    expect(other!.attributes[Attr.diffVerbose]).toBeUndefined();
    expect(factInput(h.spans[1]!).attributes[Attr.snapshot]).toBeDefined(); // the held delete names its finalizer
  });
});

describe('live findings (worker thread)', () => {
  it('keeps what the sink acknowledged, diagnoses it in the worker and counts the findings in kubetrail_findings', async () => {
    // the fixture's spans are from 2026-09: a window long enough to hold them
    const live = new LiveFindings({ windowSec: 1e9, intervalSec: 15, maxFacts: 10_000, thresholds: { deletionTimeoutSec: 30 } });
    try {
      const h = new History();
      heldDelete(h, ref('configmaps', 'shop', 'held'), 0);
      const refused = new History();
      heldDelete(refused, ref('configmaps', 'shop', 'refused'), 0);
      await expect(live.tap({ ...memorySink(), write: async () => Promise.reject(new Error('sink full')) }).write(refused.spans)).rejects.toThrow('sink full');
      await live.tap(memorySink()).write(h.spans);
      const r = await live.run();
      expect(r.findings.filter((f) => f.detector === 'stuck-deletions').map((f) => f.objects[0]!.name)).toEqual(['held']);
      expect(r.live.facts).toBe(2);
      expect(live.report()).toEqual(r);
      // Terminating since 2026-09: long past the timeout, an error
      expect(r.findings[0]!.severity).toBe('error');
      expect(await gauge('stuck-deletions', 'error', 'shop')).toBe(1);
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
