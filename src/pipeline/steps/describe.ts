// What changed: exactly one description per change, chosen by one rule (describeChange) and made
// by its describer. The rule, in order:
//   a Kubernetes Event, or a request about no single object   → none (the tags say it all)
//   a watch change                                            → diff (MODIFIED) or snapshot
//   a failed request or a read                                → unchanged
//   pods/binding with its Binding body                        → binding  (spec.nodeName)
//   create                                                    → create   (snapshot)
//   delete, deletecollection                                  → delete   (snapshot)
//   the new version is known (response or request body)      → update   (diff, or first-seen snapshot)
//   */scale                                                   → scale    (spec.replicas)
//   no body at all (Metadata level)                           → claim    (the watch change it explains)
import { READ_VERBS } from '../../normalize/audit-event.ts';
import type { ChangeContext, ChangeStep, Describer } from './context.ts';
import { binding, isBinding } from './binding.ts';
import { createSnapshot } from './create-snapshot.ts';
import { deleteSnapshot } from './delete-snapshot.ts';
import { updateDiff } from './update-diff.ts';
import { scale } from './scale.ts';
import { metadataClaim } from './metadata-claim.ts';
import { watchDiff, watchSnapshot } from './watch-snapshot.ts';

export type Description = 'none' | 'watch-diff' | 'watch-snapshot' | 'unchanged' | 'binding' | 'create' | 'delete' | 'update' | 'scale' | 'claim';

export function describeChange(ctx: ChangeContext): Description {
  const c = ctx.change;
  if (c.source === 'event' || (c.source === 'audit' && c.onNamespace)) return 'none';
  if (c.source === 'watch') return c.type === 'MODIFIED' ? 'watch-diff' : 'watch-snapshot';
  const a = c.audit;
  if (ctx.failed || READ_VERBS.has(a.verb)) return 'unchanged';
  if (a.subresource === 'binding' && isBinding(ctx.request)) return 'binding';
  if (a.verb === 'create') return 'create';
  if (a.verb === 'delete' || a.verb === 'deletecollection') return 'delete';
  if (ctx.obj) return 'update';
  if (a.subresource === 'scale') return 'scale';
  if (ctx.response === undefined && ctx.request === undefined) return 'claim';
  return 'none';
}

const nothing: Describer = () => {};

export const DESCRIBERS: Readonly<Record<Description, Describer>> = {
  none: nothing,
  'watch-diff': watchDiff,
  'watch-snapshot': watchSnapshot,
  unchanged: nothing,
  binding,
  create: createSnapshot,
  delete: deleteSnapshot,
  update: updateDiff,
  scale,
  claim: metadataClaim,
};

export const describe: ChangeStep = (ctx) => {
  DESCRIBERS[describeChange(ctx)](ctx);
};
