// A create carries a snapshot of the object it created.
import { Attr } from '../../core/model.ts';
import { snapshot } from '../../decorate/snapshot.ts';
import type { AuditEventStep } from './context.ts';

export const createSnapshot: AuditEventStep = (ctx) => {
  if (ctx.described || ctx.audit.verb !== 'create') return;
  ctx.described = true;
  if (ctx.obj) ctx.attributes[Attr.snapshot] = ctx.objJson = snapshot(ctx.obj);
};
