// resourceVersion.old = the version the change started from, resourceVersion.new = the new one;
// an audit event that does not say the object's API version takes the new version's.
import { Attr } from '../../core/model.ts';
import type { ChangeStep } from './context.ts';
import { rvOf } from './context.ts';

export const resourceVersions: ChangeStep = (ctx) => {
  const oldRv = ctx.prev ? rvOf(ctx.prev) : ctx.prevRv;
  if (oldRv) ctx.attributes[Attr.oldResourceVersion] = oldRv;
  const newRv = ctx.fromRequest ? '' : rvOf(ctx.obj);
  if (newRv) ctx.attributes[Attr.newResourceVersion] = newRv;
  const apiVersion = ctx.obj?.apiVersion;
  if (!ctx.version && ctx.change.source === 'audit' && typeof apiVersion === 'string') ctx.version = apiVersion.split('/').pop()!;
};
