// Facts spans: the facts (compactSpan) of a batch's event and link spans, written by the OTLP export
// in the same request as the spans, as spans of their own service (`<service>-facts`). A diagnosis
// over Jaeger reads these few traces instead of every raw trace of the range (docs/diagnose.md).
//
// - One facts trace per (cluster, minute of the facts' start): factsTraceId, self-describing as raw
//   trace IDs are (`fac` where raw trace IDs have `000`), so a search of a range finds few traces.
// - One facts span per (batch, cluster, minute), cut into several when its JSON passes
//   FACTS_SPAN_BYTES (the OTLP rows cut its attribute in 32,000-byte parts, src/core/attr-chunks.ts);
//   its span ID is the hash of its content, so a batch sent again is the same span.
// - The reader de-duplicates facts by the original span's (trace, span) ID: a span sent again (retry,
//   Kafka redelivery, maybe in another batch) starts at the same time, so it is in the same facts trace.
//
// Facts derive from spans that are already redacted: they carry nothing the spans do not.
import { hash } from 'node:crypto';
import { compactSpan, NoPool, POOLED, StringPool } from './facts.ts';
import { Attr, type AttrValue, type ObjectRef, type SpanRecord } from './model.ts';

/** The facts spans' service: the spans' own service name and this. */
export const FACTS_SERVICE_SUFFIX = '-facts';
/** The attribute holding a facts span's JSON (FactsPayload). */
export const FACTS_ATTR = 'facts';
/** `nestLevel` of a facts span. */
export const FACTS_NEST_LEVEL = 'facts';
export const FACTS_SPAN_NAME = 'facts';
/** Facts of one cluster and this many seconds share a trace. */
export const FACTS_BUCKET_SEC = 60;
/** Largest JSON of one facts span before it is cut in two (about 32 parts of 32,000 bytes). */
export const FACTS_SPAN_BYTES = 1024 * 1024;

/** [object index, traceId, spanId, kind, name, startUs, endUs, attributes, error?] */
type FactRow = [number, string, string, 'e' | 'l', string, number, number, Record<string, AttrValue>, string?];
/** What a facts span's FACTS_ATTR holds: v 1, the objects [group, resource, namespace, name], the facts. */
interface FactsPayload {
  v: 1;
  o: [string, string, string, string][];
  s: FactRow[];
}

/** A facts span as the OTLP rows take it (the service is the caller's). */
export interface FactsSpan {
  traceId: string;
  spanId: string;
  name: string;
  startUs: number;
  endUs: number;
  attributes: Record<string, AttrValue>;
  /** The start times of its facts, in their order in the payload (for the facts feed; not exported). */
  starts: Float64Array;
}

/** Facts of one cluster as FactsPayload JSON, with their start times in the payload's order: what a sink's writer hands to the facts feed (src/sinks/facts-feed.ts). */
export interface EncodedFacts {
  cluster: string;
  json: string;
  starts: Float64Array;
}

const hex = (input: string, chars: number): string => hash('sha256', input, 'hex').slice(0, chars);

/** The facts trace of a cluster's bucket (Unix s): 13 hex of the cluster, `fac`, the bucket start (16 hex). */
export function factsTraceId(cluster: string, bucketSec: number): string {
  return `${hex(`f|${cluster}`, 13)}fac${bucketSec.toString(16).padStart(16, '0')}`;
}

export const factsBucketSec = (startUs: number): number => Math.floor(startUs / 1e6 / FACTS_BUCKET_SEC) * FACTS_BUCKET_SEC;

/** The facts spans of a batch: its event and link spans compacted, per cluster and minute. */
export function factsSpans(spans: Iterable<SpanRecord>): FactsSpan[] {
  const groups = new Map<string, { cluster: string; bucket: number; spans: SpanRecord[] }>();
  for (const s of spans) {
    if (s.kind !== 'event' && s.kind !== 'link') continue;
    const bucket = factsBucketSec(s.startUs);
    const key = `${s.object.cluster}\u0000${bucket}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { cluster: s.object.cluster, bucket, spans: [] }));
    g.spans.push(s);
  }
  const out: FactsSpan[] = [];
  const pool = new NoPool();
  for (const g of groups.values()) {
    const traceId = factsTraceId(g.cluster, g.bucket);
    for (const { json, count, starts } of encodeFacts(g.spans, (s) => compactSpan(s, pool))) {
      out.push({
        traceId,
        spanId: hex(json, 16),
        name: FACTS_SPAN_NAME,
        startUs: g.bucket * 1e6,
        endUs: (g.bucket + FACTS_BUCKET_SEC) * 1e6,
        attributes: { [Attr.cluster]: g.cluster, [Attr.nestLevel]: FACTS_NEST_LEVEL, 'facts.count': count, [FACTS_ATTR]: json },
        starts,
      });
    }
  }
  return out;
}

/**
 * Facts already compacted (the store writer's) as FactsPayload JSON, one payload per run of facts of
 * the same cluster (their order kept), cut where one passes FACTS_SPAN_BYTES.
 */
export function encodeCompactedFacts(facts: readonly SpanRecord[]): EncodedFacts[] {
  const out: EncodedFacts[] = [];
  for (let i = 0; i < facts.length; ) {
    const cluster = facts[i]!.object.cluster;
    let j = i + 1;
    while (j < facts.length && facts[j]!.object.cluster === cluster) j++;
    for (const { json, starts } of encodeFacts(facts.slice(i, j), (f) => f)) out.push({ cluster, json, starts });
    i = j;
  }
  return out;
}

/** The facts (toFact: an item's compacted span) as FactsPayload JSON, cut where one passes FACTS_SPAN_BYTES. */
function encodeFacts<T>(items: readonly T[], toFact: (item: T) => SpanRecord): { json: string; count: number; starts: Float64Array }[] {
  const out: { json: string; count: number; starts: Float64Array }[] = [];
  let objects = new Map<string, number>();
  let objectRows: string[] = [];
  let rows: string[] = [];
  let starts: number[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (rows.length === 0) return;
    out.push({ json: `{"v":1,"o":[${objectRows.join(',')}],"s":[${rows.join(',')}]}`, count: rows.length, starts: Float64Array.from(starts) });
    objects = new Map();
    objectRows = [];
    rows = [];
    starts = [];
    bytes = 0;
  };
  for (const item of items) {
    const c = toFact(item);
    const o = c.object;
    const okey = `${o.group}/${o.resource}/${o.namespace}/${o.name}`;
    let oi = objects.get(okey);
    if (oi === undefined) {
      objects.set(okey, (oi = objectRows.length));
      const row = JSON.stringify([o.group, o.resource, o.namespace, o.name]);
      objectRows.push(row);
      bytes += row.length + 1;
    }
    const fact: FactRow = [oi, c.traceId, c.spanId, c.kind === 'link' ? 'l' : 'e', c.name, c.startUs, c.endUs, c.attributes];
    if (c.error !== undefined) fact.push(c.error);
    const row = JSON.stringify(fact);
    rows.push(row);
    starts.push(c.startUs);
    bytes += row.length + 1;
    if (bytes >= FACTS_SPAN_BYTES) flush();
  }
  flush();
  return out;
}

/** The facts of one facts span (cluster: its `cluster` attribute); throws on anything else than a FactsPayload. */
export function decodeFacts(cluster: string, json: string, pool = new StringPool()): SpanRecord[] {
  let p: FactsPayload;
  try {
    p = JSON.parse(json) as FactsPayload;
  } catch (e) {
    throw new Error(`facts span of cluster ${cluster}: not JSON (${(e as Error).message.slice(0, 120)})`);
  }
  if (p?.v !== 1 || !Array.isArray(p.o) || !Array.isArray(p.s)) throw new Error(`facts span of cluster ${cluster}: not a version 1 facts payload`);
  const objects: ObjectRef[] = p.o.map(([group, resource, namespace, name]) => ({
    cluster,
    group: pool.get(String(group)),
    resource: pool.get(String(resource)),
    namespace: pool.get(String(namespace)),
    name: pool.get(String(name)),
  }));
  return p.s.map((f) => {
    const [oi, traceId, spanId, kind, name, startUs, endUs, attributes, error] = f;
    const object = objects[oi];
    if (!object || typeof traceId !== 'string' || typeof spanId !== 'string' || typeof startUs !== 'number' || typeof endUs !== 'number')
      throw new Error(`facts span of cluster ${cluster}: a malformed fact`);
    for (const k in attributes) {
      const v = attributes[k];
      if (typeof v === 'string' && POOLED.has(k)) attributes[k] = pool.get(v);
    }
    const s: SpanRecord = {
      traceId: pool.get(traceId),
      spanId,
      kind: kind === 'l' ? 'link' : 'event',
      name: pool.get(name),
      startUs,
      endUs,
      object,
      attributes: attributes ?? {},
    };
    if (error !== undefined) s.error = error;
    return s;
  });
}
