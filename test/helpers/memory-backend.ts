// In-memory TraceBackend (and SpanSink) for unit tests, benchmarks and tools. Not bounded: do not
// use it for a live cluster.
import type { SpanRecord } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
import type { FoundObject, ObjectQuery, SpanScan, TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { findInSpans } from '../../frontend-plugin/backend/find-objects.ts';

export class MemoryBackend implements TraceBackend, SpanSink {
  readonly #traces = new Map<string, Map<string, SpanRecord>>();

  /** Stores spans; the same span ID twice in a trace keeps the last one (like an upsert). */
  async write(spans: SpanRecord[]): Promise<void> {
    this.add(spans);
  }

  add(spans: SpanRecord[]): void {
    for (const s of spans) {
      let t = this.#traces.get(s.traceId);
      if (!t) this.#traces.set(s.traceId, (t = new Map()));
      t.set(s.spanId, s);
    }
  }

  async getRawTrace(traceId: string): Promise<SpanRecord[]> {
    return [...(this.#traces.get(traceId)?.values() ?? [])];
  }

  async getRawTraces(traceIds: string[]): Promise<SpanRecord[][]> {
    return Promise.all(traceIds.map((id) => this.getRawTrace(id)));
  }

  /** The event and link spans of each raw trace of the scan's cluster and namespace (and cluster-scoped objects) that overlaps its range. */
  async *scanSpans(q: SpanScan): AsyncIterable<SpanRecord[]> {
    for (const t of this.#traces.values()) {
      const spans = [...t.values()];
      const o = spans[0]?.object;
      if (!o || (q.cluster !== undefined && o.cluster !== q.cluster)) continue;
      if (q.namespace !== undefined && o.namespace !== q.namespace && o.namespace !== '') continue;
      if (!spans.some((s) => s.startUs <= q.endUs && s.endUs >= q.startUs)) continue;
      yield spans.filter((s) => s.kind !== 'object');
    }
  }

  async findObjects(q: ObjectQuery): Promise<FoundObject[]> {
    return findInSpans(this.#allSpans(), q);
  }

  *#allSpans(): Iterable<SpanRecord> {
    for (const t of this.#traces.values()) yield* t.values();
  }

  async clusters(): Promise<string[]> {
    const set = new Set<string>();
    for (const s of this.#allSpans()) set.add(s.object.cluster);
    return [...set].sort();
  }

  pending(): number {
    return 0;
  }
  full(): boolean {
    return false;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
