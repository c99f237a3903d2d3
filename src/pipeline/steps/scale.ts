// */scale answers with a Scale, not the object: its spec.replicas is diffed against the cached
// object (`spec.replicas 2 -> 4`) and the cache gets the scaled version. A Scale's resourceVersion
// is the object's new one: when the informer already delivered that version, the diff starts
// from the version before it, not from the already-scaled one.
import { Attr } from '../../core/model.ts';
import { isRecord, type KubeObject } from '../../core/audit-event.ts';
import type { Describer } from './context.ts';
import { rvOf } from './context.ts';

export const scale: Describer = (ctx) => {
  const { response: resp, request: req } = ctx;
  const body = isRecord(resp) && resp.kind === 'Scale' ? resp : isRecord(req) && req.kind === 'Scale' ? req : undefined;
  const replicas = (body?.spec as { replicas?: unknown } | undefined)?.replicas;
  const scaleRv = body ? rvOf(body as KubeObject) : '';
  const base = (scaleRv ? ctx.versions.previous(ctx.key, scaleRv) : undefined) ?? ctx.last();
  if (!base || typeof replicas !== 'number') return;
  ctx.prev = base;
  const spec = isRecord(base.spec) ? base.spec : {};
  const next: KubeObject = { ...base, spec: { ...spec, replicas } };
  if (scaleRv) next.metadata = { ...base.metadata, resourceVersion: scaleRv };
  ctx.diff(base, next);
  ctx.last(); // uid and links come from the version before the scale
  ctx.versions.set(ctx.key, next, false);
  if (scaleRv) ctx.attributes[Attr.newResourceVersion] = scaleRv;
};
