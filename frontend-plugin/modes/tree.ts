// `tree`: the object spans of `tracing`, with each event as a child span carrying all its tags.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { addEventSpan, addObjectSpan, failuresOf } from './jaeger-json.ts';
import { TraceBuilder, type DisplayTrace } from './display.ts';
import { addObjectTree } from './object-tree.ts';

export function toTree(t: AssembledTrace, traceId: string): DisplayTrace {
  const b = new TraceBuilder(traceId, t);
  addObjectTree(b, t, (n: ObjectNode, parent?: string) => {
    const id = addObjectSpan(b, n, t, parent);
    const failures = failuresOf(n);
    for (const e of n.events) addEventSpan(b, e, id, b.rangeOf(n), failures.get(e.spanId));
    return id;
  });
  return b.build();
}
