// The response body, cleaned; when it is the object itself, it is the object's new version.
import type { AuditEventStep } from './context.ts';
import { asObject } from './context.ts';

export const responseObject: AuditEventStep = (ctx) => {
  if (ctx.failed || ctx.rawResponse === undefined) return;
  ctx.response = ctx.clean(ctx.rawResponse);
  ctx.obj = asObject(ctx.response, ctx.ref.name);
};
