// Who did what, from where, with which outcome: the tags every audit event span carries.
import { Attr } from '../../core/model.ts';
import type { AttrValue } from '../../core/model.ts';
import type { NormalizedAudit } from '../../normalize/audit-event.ts';
import type { ChangeStep } from './context.ts';

function auditTags(a: NormalizedAudit, t: Record<string, AttrValue> = {}): Record<string, AttrValue> {
  t[Attr.source] = 'audit';
  t[Attr.auditId] = a.auditId;
  t[Attr.user] = a.user;
  t[Attr.userAgent] = a.userAgent;
  t[Attr.sourceIP] = a.sourceIP;
  t[Attr.verb] = a.verb;
  if (a.impersonatedBy) t[Attr.impersonatedBy] = a.impersonatedBy;
  if (a.subresource) t[Attr.subresource] = a.subresource;
  if (a.code) t[Attr.code] = a.code;
  if (a.error) t[Attr.error] = a.error;
  return t;
}

export const auditAttributes: ChangeStep = (ctx) => {
  const c = ctx.change;
  if (c.source !== 'audit') return;
  auditTags(c.audit, ctx.attributes);
  // a request about no single object: which request, on its namespace's trace (src/pipeline/change.ts)
  if (c.onNamespace) Object.assign(ctx.attributes, c.onNamespace);
};
