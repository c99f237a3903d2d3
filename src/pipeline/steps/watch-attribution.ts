// List-watch only (no audit log): who wrote a watch change and when, from its managedFields
// (src/normalize/watch-change.ts), compared to the previous version's. The new version joins the
// history with them at once (even when it makes no span): the next change is attributed against it.
import { Attr } from '../../core/model.ts';
import type { AttrValue } from '../../core/model.ts';
import { parseTimeUs } from '../../core/time.ts';
import { attributeChange, changedPaths, watchVerb, type Attribution, type FieldManagerInfo } from '../../normalize/watch-change.ts';
import type { WatchObjectChange } from '../change.ts';
import type { ChangeStep } from './context.ts';
import { rvOf } from './context.ts';

/** When the change happened: recorded, else what the object says; never in the future. */
function changeTimeUs(c: WatchObjectChange, who: Attribution, md: Record<string, unknown>): number {
  const nowUs = Date.now() * 1000;
  // a graceful deletion's deletionTimestamp is when its grace period ends: never in the future
  return (
    c.recorded?.atUs ??
    (c.type === 'ADDED'
      ? (parseTimeUs(md.creationTimestamp) ?? nowUs)
      : c.type === 'DELETED'
        ? Math.min(parseTimeUs(md.deletionTimestamp) ?? nowUs, nowUs)
        : (who.entry?.timeUs ?? nowUs))
  );
}

/** Who wrote it, as tags: verb, attribution, field manager, subresource. */
function attributionTags(c: WatchObjectChange, who: Attribution): Record<string, AttrValue> {
  const manager = who.entry;
  const verb = who.write?.verb ?? watchVerb(c.type, manager);
  const t: Record<string, AttrValue> = { [Attr.source]: c.recorded?.source ?? 'watch', [Attr.verb]: verb, [Attr.attribution]: who.kind };
  if (manager) {
    t[Attr.fieldManager] = manager.manager;
    t[Attr.user] = manager.manager;
  }
  const subresource = who.write?.subresource ?? manager?.subresource;
  if (subresource && c.type === 'MODIFIED') t[Attr.subresource] = subresource;
  return t;
}

export const watchAttribution: ChangeStep = (ctx) => {
  const c = ctx.change;
  if (c.source !== 'watch' || c.managed === undefined) return;
  const obj = ctx.obj!;
  // Parsed back from the cache only when it becomes a span.
  const prevRv = ctx.versions.lastRv(ctx.key);
  const prevWatch = ctx.versions.lastWatch(ctx.key);
  const prev = prevRv !== undefined ? ctx.versions.last(ctx.key) : undefined;
  const rv = rvOf(obj);
  const unchanged = c.type !== 'DELETED' && prevRv !== undefined && rv !== '' && prevRv === rv;
  const paths = c.type === 'MODIFIED' && prev && !ctx.excluded && !unchanged ? changedPaths(prev, obj) : [];
  const who = attributeChange(c.type, prevWatch && parseManaged(prevWatch.managed), c.managed, paths);
  const at = changeTimeUs(c, who, obj.metadata ?? {});
  // managedFields times have one-second precision: same-second changes keep their resourceVersion order
  const timeUs = prevWatch && at <= prevWatch.atUs ? prevWatch.atUs + 1 : at;
  // With no audit events to explain them, watch versions are the story: keep only the newest.
  ctx.versions.set(ctx.key, obj, false, undefined, unchanged ? prevWatch : { managed: JSON.stringify(c.managed), atUs: timeUs });
  if (ctx.excluded) return 'excluded-resource';
  if (unchanged) return 'unchanged';
  ctx.prev = prev;
  const tags = attributionTags(c, who);
  Object.assign(ctx.attributes, tags);
  const sub = tags[Attr.subresource];
  ctx.name = sub ? `${tags[Attr.verb]} ${sub}` : String(tags[Attr.verb]);
  ctx.startUs = ctx.endUs = timeUs;
};

/** The managedFields entries kept with a version (WatchMeta.managed); undefined when unreadable. */
function parseManaged(text: string): FieldManagerInfo[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as FieldManagerInfo[]) : undefined;
  } catch {
    return undefined;
  }
}
