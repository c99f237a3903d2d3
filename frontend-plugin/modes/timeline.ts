// `timeline`: every event of every object in scope, flat, directly under the searched object's
// span — one chronological list of "who did what to which object".
import type { AssembledTrace } from '../assemble.ts';
import { addEventSpan, addObjectSpan, objectLabel, TraceBuilder, type JaegerTrace } from './jaeger-json.ts';

export function toTimeline(t: AssembledTrace, traceId: string): JaegerTrace {
  const b = new TraceBuilder(traceId, t.warnings);
  const rootId = addObjectSpan(b, t.searched, t);
  const all = t.nodes.flatMap((n) => n.events.map((e) => ({ n, e })));
  all.sort((x, y) => x.e.startUs - y.e.startUs);
  for (const { n, e } of all) {
    // Other objects' events name their object, so the flat list still reads on its own.
    const name = n === t.searched ? e.name : `${e.name} (${objectLabel(n)})`;
    addEventSpan(b, e, rootId, name);
  }
  return b.build();
}
