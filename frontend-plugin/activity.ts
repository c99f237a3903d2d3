// The overview's heatmap: per resource kind and namespace, how many writes and failures fell in
// each time bucket of a range. From the backend's pre-counted index where it keeps one (the
// embedded store: activityCounts, counts per second; only the failed requests' raw traces are read,
// to classify them), else one scan of the range (the backend's scanSpans); failures classified as
// everywhere else (failures.ts).
import { Attr, objectKey, type SpanRecord } from '../src/core/model.ts';
import type { ActivityCounts, TraceBackend } from './backend/backend.ts';
import { verbOf } from '../src/core/span-view.ts';
import { classifyFailures } from './failures.ts';
import { parseRawTraceId, rawTraceIdOfHash } from '../src/core/ids.ts';

export interface ActivityRow {
  cluster: string;
  group: string;
  resource: string;
  namespace: string;
  /** Objects of this kind and namespace with an event in the range. */
  objects: number;
  writes: number[];
  /** Failed requests that are real errors. */
  failures: number[];
  /** Routine failures (already gone, conflict retried, dry-run). */
  expected: number[];
  /** Kubernetes Events (Warning ones count in `warnings`). */
  events: number[];
  warnings: number[];
}

export interface Activity {
  startUs: number;
  endUs: number;
  bucketUs: number;
  buckets: number;
  rows: ActivityRow[];
  totals: { writes: number; failures: number; expected: number; events: number; objects: number };
}

type Kind = Pick<ActivityRow, 'cluster' | 'group' | 'resource' | 'namespace'>;

/** The heatmap's rows by kind and namespace, made on first use with `buckets` zeroed columns, in that order. */
function rowTable(buckets: number) {
  const rows = new Map<string, ActivityRow>();
  const keyOf = (o: Kind) => `${o.cluster}\u0000${o.group}\u0000${o.resource}\u0000${o.namespace}`;
  return {
    rows,
    get: (o: Kind) => rows.get(keyOf(o)),
    of(o: Kind): ActivityRow {
      const k = keyOf(o);
      let r = rows.get(k);
      if (!r) {
        const z = () => new Array<number>(buckets).fill(0);
        r = {
          cluster: o.cluster,
          group: o.group,
          resource: o.resource,
          namespace: o.namespace,
          objects: 0,
          writes: z(),
          failures: z(),
          expected: z(),
          events: z(),
          warnings: z(),
        };
        rows.set(k, r);
      }
      return r;
    },
  };
}

type Query = { cluster?: string; startUs: number; endUs: number; buckets: number; windowSec: number; fit?: boolean };

/**
 * `fit`: the range was not chosen (the whole store): the buckets span the first to the last event
 * found instead of the window bounds, so a 90-second recording is not one column of a 30-minute range.
 */
export async function activity(backend: TraceBackend, q: Query): Promise<Activity> {
  const counted = backend.activityCounts ? await backend.activityCounts(q) : undefined;
  if (counted) return fromCounts(backend, q, counted);
  const buckets = Math.max(1, Math.min(500, Math.floor(q.buckets)));
  const table = rowTable(buckets);
  const names = new Map<ActivityRow, Set<string>>();
  const perObject = new Map<string, SpanRecord[]>();
  const seen = new Set<string>();
  const rowOf = (s: SpanRecord) => table.of(s.object);
  // (row, time, what) per event; bucketed once the range is known
  const WRITE = 0,
    EVENT = 1,
    WARNING = 2,
    FAILURE = 3,
    EXPECTED = 4;
  const tRow: number[] = [],
    tTs: number[] = [],
    tWhat: number[] = [];
  const rowIndex = new Map<ActivityRow, number>();
  const note = (s: SpanRecord, what: number) => {
    const r = rowOf(s);
    let idx = rowIndex.get(r);
    if (idx === undefined) rowIndex.set(r, (idx = rowIndex.size));
    tRow.push(idx);
    tTs.push(s.startUs);
    tWhat.push(what);
  };
  let lo = Infinity,
    hi = -Infinity;
  for await (const batch of backend.scanSpans({ cluster: q.cluster, startUs: q.startUs, endUs: q.endUs, snapshots: 'creates' })) {
    for (const s of batch) {
      if (s.kind !== 'event' || s.startUs < q.startUs || s.startUs > q.endUs || seen.has(s.spanId)) continue;
      seen.add(s.spanId);
      const r = rowOf(s);
      let n = names.get(r);
      if (!n) names.set(r, (n = new Set()));
      n.add(s.object.name);
      if (s.startUs < lo) lo = s.startUs;
      if (s.startUs > hi) hi = s.startUs;
      if (verbOf(s) !== '') note(s, WRITE);
      else if (s.attributes[Attr.eventReason] !== undefined) note(s, s.attributes[Attr.eventType] === 'Warning' ? WARNING : EVENT);
      const key = objectKey(s.object);
      let list = perObject.get(key);
      if (!list) perObject.set(key, (list = []));
      list.push(s);
    }
  }
  for (const list of perObject.values()) {
    const f = classifyFailures(list);
    if (f.size === 0) continue;
    for (const s of list) {
      const c = f.get(s.spanId);
      if (c) note(s, c.class === 'error' ? FAILURE : EXPECTED);
    }
  }
  let startUs = q.startUs,
    endUs = q.endUs;
  if (q.fit && lo <= hi) {
    const pad = Math.max(1e6, (hi - lo) * 0.01);
    startUs = Math.max(q.startUs, Math.floor(lo - pad));
    endUs = Math.min(q.endUs, Math.ceil(hi + pad));
  }
  const bucketUs = Math.max(1, Math.ceil((endUs - startUs) / buckets));
  const byIndex: ActivityRow[] = [];
  for (const [r, i] of rowIndex) byIndex[i] = r;
  for (let i = 0; i < tRow.length; i++) {
    const r = byIndex[tRow[i]!]!;
    const b = Math.min(buckets - 1, Math.max(0, Math.floor((tTs[i]! - startUs) / bucketUs)));
    const w = tWhat[i]!;
    if (w === WRITE) r.writes[b]! += 1;
    else if (w === EVENT) r.events[b]! += 1;
    else if (w === WARNING) {
      r.events[b]! += 1;
      r.warnings[b]! += 1;
    } else if (w === FAILURE) r.failures[b]! += 1;
    else r.expected[b]! += 1;
  }
  return finish(
    startUs,
    endUs,
    bucketUs,
    buckets,
    [...table.rows.values()].map((r) => ({ ...r, objects: names.get(r)?.size ?? 0 })),
  );
}

/** Rows sorted busiest first, and the totals. */
function finish(startUs: number, endUs: number, bucketUs: number, buckets: number, out: ActivityRow[]): Activity {
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  out.sort(
    (a, b) => sum(b.writes) + sum(b.events) - (sum(a.writes) + sum(a.events)) || a.resource.localeCompare(b.resource) || a.namespace.localeCompare(b.namespace),
  );
  const totals = { writes: 0, failures: 0, expected: 0, events: 0, objects: 0 };
  for (const r of out) {
    totals.writes += sum(r.writes);
    totals.failures += sum(r.failures);
    totals.expected += sum(r.expected);
    totals.events += sum(r.events);
    totals.objects += r.objects;
  }
  return { startUs, endUs, bucketUs, buckets, rows: out, totals };
}

/** The failed requests of `counts`, classified with their object's events (their raw trace, and the next window's for a conflict). */
async function classifyCounted(
  backend: TraceBackend,
  counts: ActivityCounts,
  windowSec: number,
): Promise<Map<string, SpanRecord & { cls: 'error' | 'expected' }>> {
  const out = new Map<string, SpanRecord & { cls: 'error' | 'expected' }>();
  if (counts.failed.length === 0) return out;
  const ids = [...new Set(counts.failed.map((f) => f.traceId))];
  const fetch = (list: string[]) => backend.getRawTraces(list);
  const traces = new Map<string, SpanRecord[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const got = await fetch(chunk);
    chunk.forEach((id, j) =>
      traces.set(
        id,
        (got[j] ?? []).filter((s) => s.kind === 'event'),
      ),
    );
  }
  const wanted = new Set(counts.failed.map((f) => f.spanId));
  const classify = (events: SpanRecord[]) => {
    const c = classifyFailures(events);
    for (const s of events) {
      const f = c.get(s.spanId);
      if (f && wanted.has(s.spanId)) out.set(s.spanId, { ...s, cls: f.class });
    }
    return c;
  };
  // a conflict is expected when the same actor's later write succeeded, which may be in the next window
  const again: string[] = [];
  for (const [id, events] of traces) {
    const c = classify(events);
    if ([...c.values()].some((f) => f.class === 'error' && f.code === 409)) {
      const p = parseRawTraceId(id);
      if (p) again.push(rawTraceIdOfHash(p.keyHash, p.windowStart + windowSec));
    }
  }
  if (again.length > 0) {
    const next = await fetch(again);
    again.forEach((id, j) => {
      const p = parseRawTraceId(id)!;
      const prev = traces.get(rawTraceIdOfHash(p.keyHash, p.windowStart - windowSec)) ?? [];
      classify([...prev, ...(next[j] ?? []).filter((s) => s.kind === 'event')]);
    });
  }
  return out;
}

/** The heatmap from pre-counted seconds: buckets are whole seconds (a column is at least 1 s). */
async function fromCounts(backend: TraceBackend, q: Query, counts: ActivityCounts): Promise<Activity> {
  let startUs = q.startUs,
    endUs = q.endUs;
  if (q.fit && counts.cells.length > 0) {
    let lo = Infinity,
      hi = -Infinity;
    for (const c of counts.cells) {
      if (c.sec < lo) lo = c.sec;
      if (c.sec > hi) hi = c.sec;
    }
    const loUs = lo * 1e6,
      hiUs = (hi + 1) * 1e6;
    const pad = Math.max(1e6, (hiUs - loUs) * 0.01);
    startUs = Math.max(q.startUs, Math.floor((loUs - pad) / 1e6) * 1e6);
    endUs = Math.min(q.endUs, Math.ceil((hiUs + pad) / 1e6) * 1e6);
  }
  const wanted = Math.max(1, Math.min(500, Math.floor(q.buckets)));
  const bucketUs = Math.max(1, Math.ceil((endUs - startUs) / wanted / 1e6)) * 1e6;
  const buckets = Math.max(1, Math.min(wanted, Math.ceil((endUs - startUs) / bucketUs)));
  const bucketOf = (us: number) => Math.min(buckets - 1, Math.max(0, Math.floor((us - startUs) / bucketUs)));
  const table = rowTable(buckets);
  const rowOf = (o: Kind) => table.of(o);
  for (const c of counts.cells) {
    const r = rowOf(c);
    const b = bucketOf(c.sec * 1e6);
    r.writes[b]! += c.writes;
    r.events[b]! += c.events;
    r.warnings[b]! += c.warnings;
  }
  for (const o of counts.objects) {
    const r = table.get(o);
    if (r) r.objects = o.count;
  }
  for (const s of (await classifyCounted(backend, counts, q.windowSec)).values()) {
    const r = rowOf(s.object);
    const b = bucketOf(s.startUs);
    if (s.cls === 'error') r.failures[b]! += 1;
    else r.expected[b]! += 1;
  }
  return finish(startUs, endUs, bucketUs, buckets, [...table.rows.values()]);
}
