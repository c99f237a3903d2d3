// `tree`: the object spans of `tracing`, with each event as a child span carrying all its tags.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { addEventSpan, addObjectSpan, TraceBuilder, type JaegerTrace } from './jaeger-json.ts';

export function toTree(t: AssembledTrace, traceId: string): JaegerTrace {
  const b = new TraceBuilder(traceId, t.warnings);
  const visit = (n: ObjectNode, parent?: string): void => {
    const id = addObjectSpan(b, n, t, parent);
    for (const e of n.events) addEventSpan(b, e, id);
    for (const c of n.children) visit(c, id);
  };
  visit(t.root);
  return b.build();
}
