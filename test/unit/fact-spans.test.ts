// The facts the write path keeps beside the spans (src/core/fact-spans.ts) and the diagnosis' read
// of them (frontend-plugin/backend/jaeger-facts.ts, the loader): a batch's facts per cluster and
// minute, cut in parts as the OTLP export cuts attributes, joined and decoded on read, a batch sent
// again not counted twice, and the same report from the facts as from the spans of a recorded run.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitAttributes } from '../../src/core/attr-chunks.ts';
import { compactSpan } from '../../src/core/facts.ts';
import { FACTS_ATTR, FACTS_SPAN_BYTES, decodeFacts, factsBucketSec, factsSpans, factsTraceId, type FactsSpan } from '../../src/core/fact-spans.ts';
import { Attr, type SpanRecord } from '../../src/core/model.ts';
import { factsOfTrace, scanFactsTraces, type FactsTrace } from '../../frontend-plugin/backend/jaeger-facts.ts';
import { StringPool } from '../../src/core/facts.ts';
import { loadSpans } from '../../frontend-plugin/diagnose/loader.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import type { SpanScan, TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { History, at, ref, DC } from './diagnose-fixture.ts';
import { runCli } from '../helpers/cli.ts';
import { DatabaseSync } from 'node:sqlite';
import { SCHEMA_VERSION, SqliteStore } from '../../src/sinks/sqlite-store.ts';

const web = ref('deployments', 'shop', 'web', 'apps');

function history(): History {
  const h = new History();
  h.create(web, 1, 'alice', {
    metadata: { uid: 'u1', generation: 1, labels: { a: 'b' } },
    spec: { replicas: 2, template: { spec: { containers: [{ image: 'x' }] } } },
  });
  for (let i = 0; i < 6; i++) h.update(web, 10 + i * 30, i % 2 ? 'hpa' : 'bob', `spec.replicas ${i % 2 ? 3 : 1} -> ${i % 2 ? 1 : 3}`);
  const rs = ref('replicasets', 'shop', 'web-1', 'apps');
  h.create(rs, 2, DC, { metadata: { ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true, uid: 'u1' }] } });
  h.t.link(web, rs, 'children', at(2));
  return h;
}

/** A facts span as Jaeger answers it: its attributes in ≤32,000-byte parts (OTLP export), as tags. */
const asJaeger = (f: FactsSpan): { tags: { key: string; value: unknown }[] } => ({
  tags: Object.entries(splitAttributes(f.attributes)).map(([key, value]) => ({ key, value })),
});
function asTraces(facts: FactsSpan[]): FactsTrace[] {
  const byTrace = new Map<string, FactsTrace>();
  for (const f of facts) {
    let t = byTrace.get(f.traceId);
    if (!t) byTrace.set(f.traceId, (t = { traceID: f.traceId, spans: [] }));
    t.spans!.push(asJaeger(f));
  }
  return [...byTrace.values()];
}

/** A backend that has only facts traces (what a Jaeger search of the facts service answers). */
function factsBackend(traces: FactsTrace[]): TraceBackend {
  return {
    getRawTrace: async () => [],
    getRawTraces: async (ids) => ids.map(() => []),
    findObjects: async () => [],
    scanSpans: async function* () {},
    clusters: async () => [],
    close: async () => {},
    scanFacts: (q: SpanScan) => scanFactsTraces(async () => traces, { cluster: q.cluster, from: q.startUs, to: q.endUs }),
  };
}

describe('facts spans of a batch', () => {
  it('keep the compacted event and link spans per cluster and minute, and nothing of object spans', () => {
    const h = history();
    const other = { ...h.spans.find((s) => s.kind === 'event')!, object: { ...web, cluster: 'b' }, spanId: 'ffffffffffffffff' };
    const facts = factsSpans([...h.spans, other]);
    // one trace per cluster and minute: kwok's minutes of the first 3 minutes, b's one
    const traces = new Set(facts.map((f) => f.traceId));
    const m0 = factsBucketSec(at(1));
    expect(traces).toEqual(new Set([0, 1, 2, 3].map((m) => factsTraceId('kwok', m0 + m * 60)).concat(factsTraceId('b', m0))));
    expect(facts.every((f) => f.startUs % 60e6 === 0)).toBe(true);
    const decoded = facts.flatMap((f) => decodeFacts(String(f.attributes[Attr.cluster]), String(f.attributes[FACTS_ATTR])));
    const want = [...h.spans, other].filter((s) => s.kind !== 'object').map((s) => compactSpan(s));
    const key = (s: SpanRecord) => s.traceId + s.spanId;
    expect(decoded.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(want.sort((a, b) => key(a).localeCompare(key(b))));
    // the create's snapshot is cut to the fields detectors read
    expect(decoded.find((s) => s.attributes[Attr.verb] === 'create' && s.object.resource === 'deployments')!.attributes[Attr.snapshot]).not.toContain('image');
  });

  it('are the same spans when the batch is sent again, and the reader counts its facts once', async () => {
    const h = history();
    const a = factsSpans(h.spans);
    const again = factsSpans(h.spans);
    expect(again.map((f) => f.traceId + f.spanId)).toEqual(a.map((f) => f.traceId + f.spanId));
    // redelivered in other batches (one span per batch): other facts spans, the same facts traces
    const other = h.spans.flatMap((s) => factsSpans([s]));
    const once = await loadSpans(factsBackend(asTraces(a)), { startUs: 0, endUs: at(3600) });
    const thrice = await loadSpans(factsBackend(asTraces([...a, ...again, ...other])), { startUs: 0, endUs: at(3600) });
    expect(thrice).toHaveLength(once.length);
    expect(once).toHaveLength(h.spans.filter((s) => s.kind === 'event').length + 1); // one link span per relation
  });

  it('cut a large batch into spans of about FACTS_SPAN_BYTES, each in ≤32,000-byte parts, joined again on read', () => {
    const h = new History();
    const big = 'x'.repeat(250);
    for (let i = 0; i < 6000; i++) h.update(ref('configmaps', 'ns', `cm-${i}`), 5, 'writer', `data.k "${big}${i}" -> "${i}"`);
    const facts = factsSpans(h.spans);
    expect(facts.length).toBeGreaterThan(1);
    for (const f of facts) expect(String(f.attributes[FACTS_ATTR]).length).toBeLessThan(FACTS_SPAN_BYTES + 1000);
    const tags = asJaeger(facts[0]!).tags;
    expect(tags.filter((t) => t.key.startsWith(`${FACTS_ATTR}.part.`)).length).toBeGreaterThan(20);
    for (const t of tags) if (typeof t.value === 'string') expect(Buffer.byteLength(t.value)).toBeLessThanOrEqual(32_000);
    const read = asTraces(facts).flatMap((t) => factsOfTrace(t, new StringPool()));
    expect(read).toHaveLength(6000);
    expect(new Set(read.map((s) => s.object.name)).size).toBe(6000);
  });

  it('a facts span that lost a part is an error that names it, not a silently smaller diagnosis', () => {
    const h = new History();
    for (let i = 0; i < 300; i++) h.update(ref('configmaps', 'ns', `cm-${i}`), 5, 'writer', `data.k "${'y'.repeat(250)}" -> "${i}"`);
    const [f] = factsSpans(h.spans);
    const t = asJaeger(f!);
    t.tags = t.tags.filter((x) => x.key !== `${FACTS_ATTR}.part.2`);
    expect(() => factsOfTrace({ traceID: f!.traceId, spans: [t] }, new StringPool())).toThrow(/facts span of cluster kwok: not JSON/);
  });

  it('a search that comes back full is halved at a minute until every facts trace is read', async () => {
    const traces: FactsTrace[] = [];
    for (let m = 0; m < 75; m++) {
      const h = new History();
      h.update(web, m * 60 + 1, 'bob', 'spec.replicas 1 -> 2');
      traces.push(...asTraces(factsSpans(h.spans)));
    }
    const minuteOf = (t: FactsTrace) => parseInt(t.traceID.slice(16), 16) * 1e6;
    let searches = 0;
    const search = async (_tags: Record<string, string>, from: number, to: number, limit: number) => {
      searches++;
      return traces.filter((t) => minuteOf(t) >= from && minuteOf(t) <= to).slice(0, limit);
    };
    const scan = await scanFactsTraces(search, { from: 0, to: at(7200) });
    const got: SpanRecord[] = [];
    for await (const b of scan!) got.push(...b);
    expect(got).toHaveLength(75);
    expect(searches).toBeGreaterThan(3);
    expect(await scanFactsTraces(async () => [], { from: 0, to: 1 })).toBeUndefined();
  });

  it('more clusters in one minute than a search answers: one search per cluster of the minute', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `c${i}`);
    const traces = names.flatMap((c) => {
      const h = new History();
      h.update({ ...web, cluster: c }, 1, 'bob', 'spec.replicas 1 -> 2');
      return asTraces(factsSpans(h.spans)).map((t) => ({ ...t, cluster: c }));
    });
    const minuteOf = (t: FactsTrace) => parseInt(t.traceID.slice(16), 16) * 1e6;
    const search = async (tags: Record<string, string>, from: number, to: number, limit: number) =>
      traces.filter((t) => (tags.cluster === undefined || t.cluster === tags.cluster) && minuteOf(t) >= from && minuteOf(t) <= to).slice(0, limit);
    const read = async (clusters?: () => Promise<string[]>) => {
      const got: SpanRecord[] = [];
      for await (const b of (await scanFactsTraces(search, { from: 0, to: at(7200) }, clusters))!) got.push(...b);
      return got;
    };
    expect(new Set((await read(async () => names)).map((s) => s.object.cluster)).size).toBe(25);
    await expect(read()).rejects.toThrow(/more than 20 clusters' facts traces start at .*: diagnose one cluster at a time \(--cluster\)/);
  });
});

/** The store read through its spans only (as before facts existed). */
const spansOnly = (b: SqliteBackend): TraceBackend => ({
  getRawTrace: (id) => b.getRawTrace(id),
  getRawTraces: (ids) => b.getRawTraces(ids),
  findObjects: (q) => b.findObjects(q),
  scanSpans: (q) => b.scanSpans(q),
  clusters: () => b.clusters(),
  close: async () => {},
});

describe('the same report from the facts as from the spans', () => {
  const scenarios = ['churn-pod-killer', 'fighting-label', 'stuck-deletion-finalizer'];
  for (const scenario of scenarios) {
    it(`a recorded run (${scenario}): the store's facts table and the OTLP facts spans`, async () => {
      const dir = join(import.meta.dirname, '../../bench/diagnose-corpus/scenarios', scenario);
      const tmp = mkdtempSync(join(tmpdir(), 'kt-facts-'));
      try {
        const store = join(tmp, 's.sqlite');
        const r = await runCli('replay', '--cluster', 'corpus', '--store', store, '--no-progress', join(dir, 'audit.log.gz'), join(dir, 'events.json.gz'));
        expect(r.status, r.stderr).toBe(0);
        const { start, end } = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as { start: string; end: string };
        const q = { startUs: Date.parse(start) * 1000, endUs: Date.parse(end) * 1000 };
        const report = async (b: TraceBackend) => JSON.stringify(buildReport(await loadSpans(b, q), { ...q, unique: true }));
        const backend = new SqliteBackend(store);
        try {
          const fromSpans = await report(spansOnly(backend));
          expect(JSON.parse(fromSpans).findings.length).toBeGreaterThan(0);
          // the store's facts table
          expect(await backend.scanFacts(q)).toBeDefined();
          expect(await report(backend)).toBe(fromSpans);
          // what the OTLP export sends: every span, in batches of 1024, and their facts spans
          const all: SpanRecord[] = [];
          for await (const b of backend.scanSpans!({ startUs: 0, endUs: Number.MAX_SAFE_INTEGER, snapshots: 'all' })) all.push(...b);
          const facts: FactsSpan[] = [];
          for (let i = 0; i < all.length; i += 1024) facts.push(...factsSpans(all.slice(i, i + 1024)));
          expect(await report(factsBackend(asTraces(facts)))).toBe(fromSpans);
        } finally {
          await backend.close();
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }, 60_000);
  }

  it('a store written before facts existed: read from its spans read-only; a writer fills its facts once; a redelivery adds none', async () => {
    const dir = join(import.meta.dirname, '../../bench/diagnose-corpus/scenarios', scenarios[0]!);
    const tmp = mkdtempSync(join(tmpdir(), 'kt-facts-'));
    try {
      const store = join(tmp, 's.sqlite');
      expect((await runCli('replay', '--cluster', 'corpus', '--store', store, '--no-progress', join(dir, 'audit.log.gz'))).status).toBe(0);
      const q = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER };
      const report = async (b: TraceBackend) => JSON.stringify(buildReport(await loadSpans(b, q), { unique: true }));
      const cur = new SqliteBackend(store);
      const want = await report(cur);
      const facts = Number((cur.store.db.prepare('SELECT COUNT(*) AS n FROM facts').get() as { n: number }).n);
      expect(facts).toBe(Number((cur.store.db.prepare("SELECT COUNT(*) AS n FROM spans WHERE kind != 'object'").get() as { n: number }).n));
      await cur.close();
      const old = new DatabaseSync(store);
      old.exec('DROP TABLE facts; PRAGMA user_version = 3');
      old.close();
      const ro = new SqliteBackend(store);
      expect(await ro.scanFacts(q)).toBeUndefined();
      expect(await report(ro)).toBe(want);
      await ro.close();
      const writer = new SqliteStore(store);
      expect(writer.schemaVersion).toBe(SCHEMA_VERSION);
      const b = new SqliteBackend(writer);
      expect(await b.scanFacts(q)).toBeDefined();
      expect(await report(b)).toBe(want);
      // the same spans again (a redelivery): no fact twice
      const spans: SpanRecord[] = [];
      for await (const batch of b.scanSpans({ ...q, snapshots: 'all' })) spans.push(...batch);
      await writer.write(spans);
      await writer.flush();
      expect(Number((writer.db.prepare('SELECT COUNT(*) AS n FROM facts').get() as { n: number }).n)).toBe(facts);
      expect(await report(b)).toBe(want);
      await writer.close();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
