// Gets the spans of a time range (cluster, namespace) from any TraceBackend for the diagnosis:
// the backend's range scan when it has one, else findObjects + getRawTraces. Spans are compacted
// on the way in (only the attributes detectors read; snapshots cut to the fields they use), so a
// large range fits in memory.
import { rawTraceId } from '../../src/core/ids.ts';
import { Attr, objectKey, type AttrValue, type SpanRecord } from '../../src/core/model.ts';
import type { SpanScan, TraceBackend } from '../backend/backend.ts';

export interface LoadOptions extends SpanScan {
  /** The write path's window (for the fallback that derives raw trace IDs). */
  windowSec?: number;
  /** Fallback only: most objects asked of findObjects. */
  maxObjects?: number;
}

const KEEP = new Set<string>([
  Attr.source, Attr.user, Attr.fieldManager, Attr.verb, Attr.subresource, Attr.code, Attr.diff, Attr.noop, Attr.error,
  Attr.newResourceVersion, Attr.eventReason, Attr.eventMessage, Attr.eventType, Attr.eventComponent, Attr.eventCount, Attr.linkClass, Attr.linkRole, Attr.linkKey,
]);

/** Snapshot fields the detectors read (pods, workloads, owners). */
const SNAPSHOT_FIELDS: Record<string, string[]> = {
  metadata: ['generation', 'ownerReferences', 'uid'],
  spec: ['replicas', 'parallelism', 'completions', 'nodeName', 'nodeSelector'],
  status: ['phase', 'replicas', 'observedGeneration', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'desiredNumberScheduled', 'updatedNumberScheduled', 'numberReady', 'numberAvailable'],
};

/** Only what detectors read; a new object, the input is left alone. */
export function compactSpan(s: SpanRecord): SpanRecord {
  const a: Record<string, AttrValue> = {};
  for (const k in s.attributes) if (KEEP.has(k)) a[k] = s.attributes[k]!;
  const verbose = s.attributes[Attr.diffVerbose];
  if (typeof verbose === 'string' && verbose.includes('metadata.generation')) {
    a[Attr.diffVerbose] = verbose.split('\n').filter((l) => l.startsWith('metadata.generation ')).join('\n');
  }
  const snap = s.attributes[Attr.snapshot];
  if (typeof snap === 'string') {
    try {
      const o = JSON.parse(snap) as Record<string, Record<string, unknown> | undefined>;
      const small: Record<string, Record<string, unknown>> = {};
      for (const [part, fields] of Object.entries(SNAPSHOT_FIELDS)) {
        const src = o?.[part];
        if (!src || typeof src !== 'object') continue;
        for (const f of fields) if (src[f] !== undefined) (small[part] ??= {})[f] = src[f];
      }
      a[Attr.snapshot] = JSON.stringify(small);
    } catch {
      // unparsable snapshot: leave it out
    }
  }
  const out: SpanRecord = { traceId: s.traceId, spanId: s.spanId, kind: s.kind, name: s.name, startUs: s.startUs, endUs: s.endUs, object: s.object, attributes: a };
  if (s.error !== undefined) out.error = s.error;
  return out;
}

const inRange = (s: SpanRecord, q: SpanScan): boolean =>
  s.kind === 'link' ? s.startUs <= q.endUs && s.endUs >= q.startUs : s.kind === 'event' && s.startUs >= q.startUs && s.startUs <= q.endUs;

/** Event and link spans of the range, compacted, de-duplicated by (trace, span) ID. */
export async function loadSpans(backend: TraceBackend, q: LoadOptions): Promise<SpanRecord[]> {
  const out: SpanRecord[] = [];
  const seen = new Set<string>();
  const take = (s: SpanRecord): void => {
    if (!inRange(s, q)) return;
    if (q.cluster !== undefined && s.object.cluster !== q.cluster) return;
    if (q.namespace !== undefined && s.object.namespace !== q.namespace && s.object.namespace !== '') return;
    const id = s.traceId + s.spanId;
    if (seen.has(id)) return;
    seen.add(id);
    out.push(compactSpan(s));
  };
  if (backend.scanSpans) {
    for await (const batch of backend.scanSpans({ cluster: q.cluster, namespace: q.namespace, startUs: q.startUs, endUs: q.endUs })) for (const s of batch) take(s);
    return out;
  }
  // fallback: every object of the range, then its raw traces
  const limit = q.maxObjects ?? 1_000_000;
  const found = [
    ...(await backend.findObjects({ cluster: q.cluster, namespace: q.namespace, startUs: q.startUs, endUs: q.endUs, limit })),
    ...(q.namespace !== undefined && q.namespace !== '' ? await backend.findObjects({ cluster: q.cluster, namespace: '', startUs: q.startUs, endUs: q.endUs, limit }) : []),
  ];
  const ids = found.flatMap((f) => f.windows.map((w) => rawTraceId(objectKey(f.object), w)));
  const CHUNK = 500;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const traces = backend.getRawTraces ? await backend.getRawTraces(chunk) : await Promise.all(chunk.map((id) => backend.getRawTrace(id)));
    for (const t of traces) for (const s of t) take(s);
  }
  return out;
}
