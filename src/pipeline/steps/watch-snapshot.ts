// A watch change with no audit event to explain it (list-watch only): a MODIFIED carries the diff
// from the previous version (watch-attribution.ts found it), an ADDED or DELETED a snapshot.
import { Attr } from '../../core/model.ts';
import { snapshot } from '../../decorate/snapshot.ts';
import type { Describer } from './context.ts';

export const watchDiff: Describer = (ctx) => {
  if (ctx.prev) ctx.diff(ctx.prev, ctx.obj!);
};

export const watchSnapshot: Describer = (ctx) => {
  ctx.attributes[Attr.snapshot] = snapshot(ctx.obj!);
};
