// `tracing`: one span per object, the relation tree as references, events as span logs in time order.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { addObjectSpan, eventLog, TraceBuilder, type JaegerTrace } from './jaeger-json.ts';

export function toTracing(t: AssembledTrace, traceId: string): JaegerTrace {
  const b = new TraceBuilder(traceId, t.warnings);
  const visit = (n: ObjectNode, parent?: string): void => {
    const id = addObjectSpan(b, n, t, parent, n.events.map(eventLog));
    for (const c of n.children) visit(c, id);
  };
  visit(t.root);
  return b.build();
}
