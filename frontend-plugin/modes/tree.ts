// `tree`: the object spans of `tracing`, with each event as a child span carrying all its tags.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { addEventSpan, addObjectSpan, failuresOf, TraceBuilder, type JaegerTrace } from './jaeger-json.ts';

export function toTree(t: AssembledTrace, traceId: string): JaegerTrace {
  const b = new TraceBuilder(traceId, t);
  const visit = (n: ObjectNode, parent?: string): void => {
    const id = addObjectSpan(b, n, t, parent);
    const failures = failuresOf(n);
    for (const e of n.events) addEventSpan(b, e, id, b.rangeOf(n), failures.get(e.spanId));
    for (const c of n.children) visit(c, id);
  };
  visit(t.root);
  return b.build();
}
