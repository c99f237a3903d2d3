// Audit mode (informers beside the audit log): a watch change only feeds the version history, for
// the diffs of the audit events that explain it (metadata-claim.ts), and waits for that audit event
// (src/pipeline/unexplained.ts). No span: the audit event tells who made the change.
import { parseTimeUs } from '../../core/time.ts';
import type { ChangeStep } from './context.ts';
import { rvOf } from './context.ts';

export const watchHistory: ChangeStep = (ctx) => {
  const c = ctx.change;
  if (c.source !== 'watch' || c.managed !== undefined) return;
  const obj = ctx.obj!;
  ctx.versions.set(ctx.key, obj, true);
  if (ctx.unexplained && !ctx.excluded) {
    const md = c.rawObject.metadata!;
    const created = parseTimeUs(md.creationTimestamp);
    ctx.unexplained.watch(
      { ref: ctx.ref, version: c.version, uid: c.uid ?? '', rv: rvOf(obj), type: c.type },
      created === undefined ? undefined : created / 1000,
    );
  }
  return 'cache-only';
};
