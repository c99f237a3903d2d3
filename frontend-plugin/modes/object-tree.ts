// The object spans of the tracing, tree and grouped modes: each root's tree, depth first, parent
// before child; then each object's other parents (a second owner, a pod's node drawn as a root of
// its own) as further parents after its display parent (CHILD_OF references in v1, links in v3). Jaeger UIs and the built-in
// UI nest a span under its first reference and list the others.
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import type { DisplaySpan, TraceBuilder } from './display.ts';

/** `add` adds the spans of one object (its object span first) under `parent`; returns the object span's ID. */
export function addObjectTree(b: TraceBuilder, t: AssembledTrace, add: (n: ObjectNode, parent?: string) => string): void {
  const ids = new Map<ObjectNode, string>();
  const visit = (n: ObjectNode, parent?: string): void => {
    const id = add(n, parent);
    ids.set(n, id);
    for (const c of n.children) visit(c, id);
  };
  for (const r of t.roots) visit(r);
  let byId: Map<string, DisplaySpan> | undefined;
  for (const [n, id] of ids) {
    for (const p of n.otherParents) {
      const parentId = ids.get(p.node);
      if (!parentId) continue;
      byId ??= new Map(b.spans.map((s) => [s.spanId, s]));
      byId.get(id)?.parents.push(parentId);
    }
  }
}
