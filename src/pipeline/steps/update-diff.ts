// An update or patch that shows the new version: the diff from the version it started from (the
// newest known one older than the new resourceVersion). When kubetrail knows no version of the
// object at all (it started after the create), a whole-object response is the object's first seen
// state: it is kept as a snapshot with `firstSeen: true`.
import { Attr } from '../../core/model.ts';
import { snapshot } from '../../decorate/snapshot.ts';
import type { Describer } from './context.ts';
import { rvOf } from './context.ts';

export const updateDiff: Describer = (ctx) => {
  const obj = ctx.obj!;
  if (ctx.fromRequest) {
    ctx.prev = ctx.last();
    // A request body has no new resourceVersion: compare without one.
    if (ctx.prev) ctx.diff(ctx.prev, { ...obj, metadata: { ...obj.metadata, resourceVersion: ctx.prev.metadata?.resourceVersion } });
    return;
  }
  ctx.prev = ctx.versions.previous(ctx.key, rvOf(obj));
  if (ctx.prev) ctx.diff(ctx.prev, obj);
  else if (ctx.versions.lastRv(ctx.key) === undefined) {
    ctx.attributes[Attr.snapshot] = ctx.objJson = snapshot(obj);
    ctx.attributes[Attr.firstSeen] = true;
  }
};
