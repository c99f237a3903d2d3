// A delete carries a snapshot: of the response object, or, when the API server answered with a
// Status, of the last known version (deleted objects stay cached: the informer's DELETED often
// arrives before the audit event of the delete).
import { Attr } from '../../core/model.ts';
import { snapshot } from '../../decorate/snapshot.ts';
import type { Describer } from './context.ts';

export const deleteSnapshot: Describer = (ctx) => {
  if (ctx.obj) {
    // only the last version's resourceVersion is shown: no need to parse it
    ctx.prevRv = ctx.versions.lastRv(ctx.key);
    ctx.attributes[Attr.snapshot] = ctx.objJson = snapshot(ctx.obj);
    return;
  }
  ctx.prev = ctx.last();
  if (ctx.prev) ctx.attributes[Attr.snapshot] = snapshot(ctx.prev);
};
