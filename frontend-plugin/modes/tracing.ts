// `tracing`: one span per object, the relation tree as references, events as span logs in time order.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { addObjectSpan, eventLog, failuresOf, TraceBuilder, type JaegerTrace } from './jaeger-json.ts';

export function toTracing(t: AssembledTrace, traceId: string): JaegerTrace {
  const b = new TraceBuilder(traceId, t);
  const visit = (n: ObjectNode, parent?: string): void => {
    const failures = failuresOf(n);
    const id = addObjectSpan(
      b,
      n,
      t,
      parent,
      n.events.map((e) => eventLog(e, failures.get(e.spanId))),
    );
    for (const c of n.children) visit(c, id);
  };
  visit(t.root);
  return b.build();
}
