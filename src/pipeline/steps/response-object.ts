// The body that shows the object, cleaned: an audit event's response (when it is the object
// itself, it is the object's new version), a watch change's object (always the new version).
import type { KubeObject } from '../../core/audit-event.ts';
import type { ChangeStep } from './context.ts';
import { asObject } from './context.ts';

export const responseObject: ChangeStep = (ctx) => {
  const c = ctx.change;
  if (c.source === 'watch') {
    ctx.obj = ctx.clean(c.rawObject) as KubeObject;
    return;
  }
  if (c.source !== 'audit' || ctx.failed || c.rawResponse === undefined) return;
  ctx.response = ctx.clean(c.rawResponse);
  ctx.obj = asObject(ctx.response, ctx.ref.name);
};
