// The request body: needed by pods/binding and */scale (their responses are not the object), and,
// at Request level (no response body), a create/update request body is the new object. Patches
// are not whole objects; neither are subresource bodies except a status update.
import type { ChangeStep } from './context.ts';
import { asObject } from './context.ts';

export const requestBody: ChangeStep = (ctx) => {
  if (ctx.change.source !== 'audit') return;
  const a = ctx.change.audit;
  if (a.requestObject === undefined || ctx.failed) return;
  const wholeObjectVerb = a.verb === 'create' || a.verb === 'update';
  if (!((!ctx.obj && wholeObjectVerb) || a.subresource === 'binding' || a.subresource === 'scale')) return;
  ctx.request = ctx.clean(a.requestObject);
  if (ctx.obj || !wholeObjectVerb || !(a.subresource === '' || (a.subresource === 'status' && a.verb === 'update'))) return;
  // The request body's resourceVersion is the one it was based on, never the new one: drop it.
  const r = asObject(ctx.request, ctx.ref.name);
  if (!r) return;
  const obj = { ...r, metadata: { ...r.metadata } };
  delete obj.metadata.resourceVersion;
  ctx.obj = obj;
  ctx.fromRequest = true;
};
