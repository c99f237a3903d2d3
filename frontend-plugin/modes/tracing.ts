// `tracing`: one span per object, the relation tree as references, events as span logs in time order.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { addObjectSpan, eventLog, failuresOf } from './jaeger-json.ts';
import { TraceBuilder, type DisplayTrace } from './display.ts';
import { addObjectTree } from './object-tree.ts';

export function toTracing(t: AssembledTrace, traceId: string): DisplayTrace {
  const b = new TraceBuilder(traceId, t);
  addObjectTree(b, t, (n: ObjectNode, parent?: string) => {
    const failures = failuresOf(n);
    return addObjectSpan(
      b,
      n,
      t,
      parent,
      n.events.map((e) => eventLog(e, failures.get(e.spanId))),
    );
  });
  return b.build();
}
