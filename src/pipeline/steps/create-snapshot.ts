// A create carries a snapshot of the object it created.
import { Attr } from '../../core/model.ts';
import { snapshot } from '../../decorate/snapshot.ts';
import type { Describer } from './context.ts';

export const createSnapshot: Describer = (ctx) => {
  if (ctx.obj) ctx.attributes[Attr.snapshot] = ctx.objJson = snapshot(ctx.obj);
};
