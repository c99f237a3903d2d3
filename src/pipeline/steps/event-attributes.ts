// A Kubernetes Event's tags (reason, message, type, reporting component, count): made by
// src/aggregate/kube-event.ts when the Event became a change.
import type { ChangeStep } from './context.ts';

export const eventAttributes: ChangeStep = (ctx) => {
  if (ctx.change.source === 'event') Object.assign(ctx.attributes, ctx.change.tags);
};
