// `timeline`: every event of every object in scope, flat, directly under the searched object's
// span — one chronological list of "who did what to which object".
import type { AssembledTrace } from '../assemble.ts';
import { addEventSpan, addObjectSpan, failuresOf, objectLabel } from './jaeger-json.ts';
import { TraceBuilder, type DisplayTrace } from './display.ts';
import type { Range } from './times.ts';

export function toTimeline(t: AssembledTrace, traceId: string): DisplayTrace {
  const b = new TraceBuilder(traceId, t);
  // The one span covers every event listed under it (children lie inside their parent).
  let outer: Range = b.rangeOf(t.searched);
  for (const n of t.nodes) {
    const r = b.rangeOf(n);
    outer = { start: Math.min(outer.start, r.start), end: Math.max(outer.end, r.end) };
  }
  b.times.set(t.searched, outer);
  const rootId = addObjectSpan(b, t.searched, t);
  const all = t.nodes.flatMap((n) => n.events.map((e) => ({ n, e })));
  all.sort((x, y) => x.e.startUs - y.e.startUs);
  for (const { n, e } of all) {
    // Other objects' events name their object, so the flat list still reads on its own.
    const name = n === t.searched ? e.name : `${e.name} (${objectLabel(n)})`;
    addEventSpan(b, e, rootId, b.rangeOf(n), failuresOf(n).get(e.spanId), name);
  }
  return b.build();
}
