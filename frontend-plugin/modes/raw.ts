// A raw (object, window) trace exactly as stored, as a display trace: for debugging the write path.
import type { SpanRecord } from '../../src/core/model.ts';
import { tag, type DisplayTrace } from './display.ts';

export function rawTrace(traceId: string, spans: SpanRecord[]): DisplayTrace {
  return {
    traceId,
    spans: spans.map((s) => ({
      spanId: s.spanId,
      parents: s.parentSpanId ? [s.parentSpanId] : [],
      name: s.name,
      cluster: s.object.cluster,
      startTime: s.startUs,
      duration: Math.max(1, s.endUs - s.startUs), // never zero (old data: Event and link spans were written with none)
      tags: [
        tag('nestLevel', s.kind),
        ...Object.entries(s.attributes)
          .filter(([k]) => k !== 'nestLevel')
          .map(([k, v]) => tag(k, v)),
        ...(s.error ? [tag('error', true), tag('error.message', s.error)] : []),
      ],
      logs: [],
      warnings: [],
    })),
    warnings: [],
  };
}
