// pods/binding: the scheduler's Binding sets spec.nodeName of an unbound pod (binding a bound pod
// fails); the response is only a Status. The cached pod gets the node, so kwok's following status
// patch diffs only the status. The informer may have delivered the bound pod already.
import { Attr } from '../../core/model.ts';
import { isRecord } from '../../core/audit-event.ts';
import { NONE } from '../../decorate/diff.ts';
import type { Describer } from './context.ts';

/** The request is a Binding (describe.ts chose this describer). */
export function isBinding(request: unknown): boolean {
  return isRecord(request) && request.kind === 'Binding';
}

export const binding: Describer = (ctx) => {
  const node = ((ctx.request as { target?: unknown }).target as { name?: unknown } | undefined)?.name;
  if (typeof node !== 'string' || !node) return;
  ctx.attributes[Attr.diff] = `spec.nodeName ${NONE} -> ${JSON.stringify(node)}`;
  ctx.attributes[Attr.diffEntries] = JSON.stringify([{ path: 'spec.nodeName', new: node }]);
  const last = ctx.last();
  if (!last) return;
  ctx.prev = last;
  const spec = isRecord(last.spec) ? last.spec : {};
  if (spec.nodeName !== node) ctx.versions.replaceLast(ctx.key, { ...last, spec: { ...spec, nodeName: node } });
};
