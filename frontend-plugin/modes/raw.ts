// A raw (object, window) trace exactly as stored, in Jaeger JSON: for debugging the write path.
import type { SpanRecord } from '../../src/core/model.ts';
import { kv, type JaegerTrace } from './jaeger-json.ts';

export function rawToJaeger(traceId: string, spans: SpanRecord[]): JaegerTrace {
  const processes: JaegerTrace['processes'] = {};
  const pid = new Map<string, string>();
  const processOf = (cluster: string): string => {
    let id = pid.get(cluster);
    if (!id) {
      pid.set(cluster, (id = `p${pid.size + 1}`));
      processes[id] = { serviceName: cluster, tags: [kv('cluster', cluster)] };
    }
    return id;
  };
  return {
    traceID: traceId,
    spans: spans.map((s) => ({
      traceID: traceId,
      spanID: s.spanId,
      operationName: s.name,
      references: s.parentSpanId ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: s.parentSpanId }] : [],
      flags: 1,
      startTime: s.startUs,
      duration: Math.max(1, s.endUs - s.startUs), // never zero (old data: Event and link spans were written with none)
      tags: [
        kv('nestLevel', s.kind),
        ...Object.entries(s.attributes)
          .filter(([k]) => k !== 'nestLevel')
          .map(([k, v]) => kv(k, v)),
        ...(s.error ? [kv('error', true), kv('error.message', s.error)] : []),
      ],
      logs: [],
      processID: processOf(s.object.cluster),
      warnings: null,
    })),
    processes,
    warnings: null,
  };
}
