// A delete carries a snapshot: of the response object, or, when the API server answered with a
// Status, of the last known version (deleted objects stay cached: the informer's DELETED often
// arrives before the audit event of the delete).
import { Attr } from '../../core/model.ts';
import { snapshot } from '../../decorate/snapshot.ts';
import type { Describer } from './context.ts';

export const deleteSnapshot: Describer = (ctx) => {
  ctx.prev = ctx.last();
  if (ctx.obj) ctx.attributes[Attr.snapshot] = ctx.objJson = snapshot(ctx.obj);
  else if (ctx.prev) ctx.attributes[Attr.snapshot] = snapshot(ctx.prev);
};
