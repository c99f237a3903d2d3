// A failed request or a read changed nothing: no diff, no snapshot, no new version.
import { READ_VERBS } from '../../normalize/audit-event.ts';
import type { AuditEventStep } from './context.ts';

export const unchanged: AuditEventStep = (ctx) => {
  if (ctx.failed || READ_VERBS.has(ctx.audit.verb)) ctx.described = true;
};
