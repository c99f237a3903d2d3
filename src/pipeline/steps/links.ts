// The object's uid and its relations (linkers/), from the new version or the last known one;
// a pods/binding request adds the pod → node link. A Kubernetes Event and a request about no
// single object link nothing (their uid, if any, is the change's).
import { isRecord, type KubeObject } from '../../core/audit-event.ts';
import type { ChangeStep } from './context.ts';

export const links: ChangeStep = (ctx) => {
  const c = ctx.change;
  if (c.source === 'event' || (c.source === 'audit' && c.onNamespace)) return;
  if (c.source === 'watch') {
    ctx.links.push(...ctx.findLinks(ctx.obj!));
    return;
  }
  ctx.uid = c.audit.uid || (ctx.obj?.metadata?.uid as string | undefined) || (ctx.last()?.metadata?.uid as string | undefined);
  // a failed generateName create has only its request body (steps/failed-create.ts)
  const source = ctx.obj ?? ctx.last() ?? (ctx.failed && isRecord(ctx.request) ? (ctx.request as KubeObject) : undefined);
  if (source) ctx.links.push(...ctx.findLinks(source));
  if (isRecord(ctx.request) && ctx.request.kind === 'Binding') ctx.links.push(...ctx.findLinks(ctx.request as KubeObject));
};
