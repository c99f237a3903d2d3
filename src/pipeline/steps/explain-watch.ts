// Audit mode with informers: a successful audit event explains the watch change of its object's
// new version, which then never becomes an `attribution: unexplained` span (src/pipeline/unexplained.ts).
import { Attr } from '../../core/model.ts';
import type { ChangeStep } from './context.ts';

export const explainWatch: ChangeStep = (ctx) => {
  const c = ctx.change;
  if (c.source !== 'audit' || c.onNamespace || ctx.failed) return;
  ctx.unexplained?.audit(ctx.ref, String(ctx.attributes[Attr.newResourceVersion] ?? ''));
};
