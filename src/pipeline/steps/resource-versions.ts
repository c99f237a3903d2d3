// resourceVersion.old = the version the change started from, resourceVersion.new = the new one.
import { Attr } from '../../core/model.ts';
import type { AuditEventStep } from './context.ts';
import { rvOf } from './context.ts';

export const resourceVersions: AuditEventStep = (ctx) => {
  if (ctx.prev && rvOf(ctx.prev)) ctx.attributes[Attr.oldResourceVersion] = rvOf(ctx.prev);
  const newRv = ctx.fromRequest ? '' : rvOf(ctx.obj);
  if (newRv) ctx.attributes[Attr.newResourceVersion] = newRv;
};
