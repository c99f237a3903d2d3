// Gets the spans of a time range (cluster, namespace) from any TraceBackend for the diagnosis:
// the facts the write path kept when the backend has them for the range (scanFacts), else the
// backend's range scan (scanSpans). Spans are compacted
// on the way in (only the attributes detectors read; snapshots cut to the fields they use), so a
// large range fits in memory.
import { compactSpan, poolFacts, StringPool } from '../../src/core/facts.ts';
import { objectKey, type SpanRecord } from '../../src/core/model.ts';
import { linkOf } from '../../src/core/span-view.ts';
import type { SpanScan, TraceBackend } from '../backend/backend.ts';

export type LoadOptions = SpanScan;

const inRange = (s: SpanRecord, q: SpanScan): boolean =>
  s.kind === 'link' ? s.startUs <= q.endUs && s.endUs >= q.startUs : s.kind === 'event' && s.startUs >= q.startUs && s.startUs <= q.endUs;

/** Event and link spans of the range, compacted, de-duplicated by (trace, span) ID. */
export async function loadSpans(backend: TraceBackend, q: LoadOptions): Promise<SpanRecord[]> {
  const out: SpanRecord[] = [];
  const pool = new StringPool();
  const objects = new Map<string, SpanRecord['object']>();
  // a raw trace never spans two batches, so duplicates (redelivery) are found within a batch: by
  // span ID (no string built per span), the trace compared when two spans of the batch share one
  let seen = new Map<string, string>();
  let seenIds = new Set<string>();
  const isCopy = (s: SpanRecord): boolean => {
    const trace = seen.get(s.spanId);
    if (trace === undefined) seen.set(s.spanId, s.traceId);
    if (trace === undefined || trace === s.traceId) return trace !== undefined;
    const id = s.traceId + s.spanId;
    if (seenIds.has(id)) return true;
    seenIds.add(id);
    return false;
  };
  // a relation is written per window and in both objects' traces: one link span of it is enough
  const relations = new Set<string>();
  // the spans of one raw trace come together and mostly share one object (the store's rows do):
  // its key and the shared instance are worked out once per run of spans with that object
  let lastObject: SpanRecord['object'] | undefined;
  let lastKey = '';
  let lastShared: SpanRecord['object'] | undefined;
  const take = (s: SpanRecord, compacted = false): void => {
    if (!inRange(s, q)) return;
    if (q.cluster !== undefined && s.object.cluster !== q.cluster) return;
    if (q.namespace !== undefined && s.object.namespace !== q.namespace && s.object.namespace !== '') return;
    if (isCopy(s)) return;
    if (s.object !== lastObject) {
      lastObject = s.object;
      lastKey = objectKey(s.object);
      lastShared = objects.get(lastKey);
      if (!lastShared) objects.set(lastKey, (lastShared = s.object));
    }
    const l = linkOf(s);
    if (l) {
      const me = lastKey;
      const rel = `${l.role === 'parent' ? me : l.other}|${l.role === 'parent' ? l.other : me}|${l.class}`;
      if (relations.has(rel)) return;
      relations.add(rel);
    }
    const c = compacted ? poolFacts(s, pool) : compactSpan(s, pool);
    c.object = lastShared!;
    out.push(c);
  };
  const scan = { cluster: q.cluster, namespace: q.namespace, startUs: q.startUs, endUs: q.endUs, snapshots: 'creates' as const };
  // the facts the write path kept (a facts batch holds every copy of a span sent twice)
  const facts = backend.scanFacts ? await backend.scanFacts(scan) : undefined;
  if (facts) {
    for await (const batch of facts) {
      [seen, seenIds] = [new Map(), new Set()];
      for (const s of batch) take(s, true);
    }
    return out;
  }
  for await (const batch of backend.scanSpans(scan)) {
    [seen, seenIds] = [new Map(), new Set()];
    for (const s of batch) take(s);
  }
  return out;
}
