// A create that failed before the API server made a name (generateName, e.g. 403 because the
// namespace is terminating) is traced on an object named by the prefix (`pods default/web-7d9f-`):
// its request body is kept for the links (the controller owner), so the failure shows in the
// owner's tree. Every failure of one prefix lands on the same timeline.
import { Attr } from '../../core/model.ts';
import { isRecord } from '../../core/audit-event.ts';
import type { ChangeStep } from './context.ts';

export const failedCreate: ChangeStep = (ctx) => {
  if (ctx.change.source !== 'audit') return;
  const a = ctx.change.audit;
  if (!ctx.failed || a.verb !== 'create' || a.name || a.subresource || a.requestObject === undefined) return;
  const req = ctx.clean(a.requestObject);
  const md = isRecord(req) && isRecord(req.metadata) ? req.metadata : undefined;
  if (md?.generateName !== ctx.ref.name) return;
  ctx.request = req;
  ctx.attributes[Attr.generateName] = ctx.ref.name;
};
