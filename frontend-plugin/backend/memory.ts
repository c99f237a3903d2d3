// In-memory TraceBackend (and SpanSink) for unit tests, benchmarks and tools. Not bounded: do not
// use it for a live cluster.
import { parseRawTraceId, windowStartSec } from '../../src/ids.ts';
import { objectKey, type SpanRecord } from '../../src/model.ts';
import type { SpanSink } from '../../src/sinks/sink.ts';
import type { FoundObject, ObjectQuery, TraceBackend } from './backend.ts';

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

  async findObjects(q: ObjectQuery): Promise<FoundObject[]> {
    const found = new Map<string, FoundObject>();
    for (const [traceId, spans] of this.#traces) {
      for (const s of spans.values()) {
        if (s.kind !== 'object') continue;
        const o = s.object;
        if (q.cluster !== undefined && o.cluster !== q.cluster) continue;
        if (q.group !== undefined && o.group !== q.group) continue;
        if (q.resource !== undefined && o.resource !== q.resource) continue;
        if (q.namespace !== undefined && o.namespace !== q.namespace) continue;
        if (q.name !== undefined && o.name !== q.name) continue;
        if (s.endUs < q.startUs || s.startUs > q.endUs) continue;
        const key = objectKey(o);
        const ws = parseRawTraceId(traceId)?.windowStart ?? windowStartSec(s.startUs, 60);
        const f = found.get(key) ?? { object: o, windows: [] };
        if (!f.windows.includes(ws)) f.windows.push(ws);
        found.set(key, f);
      }
    }
    const out = [...found.values()];
    for (const f of out) f.windows.sort((a, b) => a - b);
    out.sort((a, b) => objectKey(a.object).localeCompare(objectKey(b.object)));
    return out.slice(0, q.limit);
  }

  async clusters(): Promise<string[]> {
    const set = new Set<string>();
    for (const t of this.#traces.values()) for (const s of t.values()) set.add(s.object.cluster);
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
