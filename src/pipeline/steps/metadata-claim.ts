// Metadata-level audit (no bodies): the informer may already have delivered the change this
// event made; the oldest watch version no audit event explained yet is claimed, once, for its diff.
import { Attr } from '../../core/model.ts';
import type { Describer } from './context.ts';
import { rvOf } from './context.ts';

export const metadataClaim: Describer = (ctx) => {
  const claimed = ctx.versions.claim(ctx.key);
  if (!claimed) return;
  ctx.prev = claimed.prev;
  ctx.diff(claimed.prev, claimed.cur);
  ctx.attributes[Attr.newResourceVersion] = rvOf(claimed.cur);
};
