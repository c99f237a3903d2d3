// findObjects for backends that scan object spans themselves (Jaeger search results, the in-memory
// backend): one filter and one grouping, so every backend answers the same query the same way.
import { parseRawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { objectKey, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import type { FoundObject, ObjectQuery } from './backend.ts';

/** A name filter: exact, or a glob where `*` is any run of characters (`web-*`, `*node*`). */
export function nameMatches(name: string, pattern: string): boolean {
  if (!pattern.includes('*')) return name === pattern;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

/** Whether an object span (its object and time range) answers the query: every given field equal, span overlapping the range. */
export function matchesQuery(object: ObjectRef, startUs: number, endUs: number, q: ObjectQuery): boolean {
  if (q.cluster !== undefined && object.cluster !== q.cluster) return false;
  if (q.group !== undefined && object.group !== q.group) return false;
  if (q.resource !== undefined && object.resource !== q.resource) return false;
  if (q.namespace !== undefined && object.namespace !== q.namespace) return false;
  if (q.name !== undefined && !nameMatches(object.name, q.name)) return false;
  return !(endUs < q.startUs || startUs > q.endUs);
}

/**
 * Groups object spans per object with the windows of their raw traces: windows ascending, objects
 * by key, the first `limit`. The window comes from the raw trace ID; a foreign ID falls back to the
 * minute of the span's start.
 */
export function groupWindows(objectSpans: Iterable<SpanRecord>, limit: number): FoundObject[] {
  const found = new Map<string, FoundObject>();
  for (const s of objectSpans) {
    const key = objectKey(s.object);
    const ws = parseRawTraceId(s.traceId)?.windowStart ?? windowStartSec(s.startUs, 60);
    const f = found.get(key) ?? { object: s.object, windows: [] };
    if (!f.windows.includes(ws)) f.windows.push(ws);
    found.set(key, f);
  }
  const out = [...found.values()];
  for (const f of out) f.windows.sort((a, b) => a - b);
  out.sort((a, b) => objectKey(a.object).localeCompare(objectKey(b.object)));
  return out.slice(0, limit);
}

/** The object spans among `spans` that answer `q`, grouped as findObjects returns them. */
export function findInSpans(spans: Iterable<SpanRecord>, q: ObjectQuery): FoundObject[] {
  const matching: SpanRecord[] = [];
  for (const s of spans) if (s.kind === 'object' && matchesQuery(s.object, s.startUs, s.endUs, q)) matching.push(s);
  return groupWindows(matching, q.limit);
}
