// The object's uid and its relations (linkers/), from the new version or the last known one;
// a pods/binding request adds the pod → node link.
import { isRecord, type KubeObject } from '../../core/audit-event.ts';
import { findLinks } from '../../../linkers/index.ts';
import type { AuditEventStep } from './context.ts';

export const links: AuditEventStep = (ctx) => {
  ctx.uid = ctx.audit.uid || (ctx.obj?.metadata?.uid as string | undefined) || (ctx.last()?.metadata?.uid as string | undefined);
  // a failed generateName create has only its request body (steps/failed-create.ts)
  const source = ctx.obj ?? ctx.last() ?? (ctx.failed && isRecord(ctx.request) ? (ctx.request as KubeObject) : undefined);
  if (source) ctx.links.push(...findLinks(source, ctx.ref));
  if (isRecord(ctx.request) && ctx.request.kind === 'Binding') ctx.links.push(...findLinks(ctx.request as KubeObject, ctx.ref));
};
