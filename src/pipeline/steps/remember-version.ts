// The new version an audit event showed joins the object's history (staged until the sink
// acknowledged the spans). A snapshot is the JSON of `obj` already (no managedFields): the history
// reuses the text. (A watch change's version joined it already: watch-history.ts, watch-attribution.ts.)
import type { ChangeStep } from './context.ts';

export const rememberVersion: ChangeStep = (ctx) => {
  if (ctx.change.source === 'audit' && ctx.obj && !ctx.failed) ctx.versions.set(ctx.key, ctx.obj, false, ctx.objJson);
};
