// The new version joins the object's history (staged until the sink acknowledged the spans).
// A snapshot is the JSON of `obj` already (no managedFields): the history reuses the text.
import type { AuditEventStep } from './context.ts';

export const rememberVersion: AuditEventStep = (ctx) => {
  if (ctx.obj && !ctx.failed) ctx.versions.set(ctx.key, ctx.obj, false, ctx.objJson);
};
