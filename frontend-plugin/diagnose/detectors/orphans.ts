// Orphans and dangling references: objects that outlive their deleted owner past a grace period
// (garbage collection stuck, or `--cascade=orphan`), and pods still bound to a deleted node.
import type { ObjectRef, SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { evidenceOf, formatSec, isCreate, isDelete, isoOf, isRoutine, pastOf, redirectUrl, refText, writeCause } from '../span-index.ts';
import type { SpanIndex } from '../span-index.ts';
import { actorOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

interface Survivor {
  ref: ObjectRef;
  key: string;
  /** seconds it stayed after the parent's delete (until its own delete or the range end) */
  staySec: number;
  deleted?: SpanRecord;
  /** the write that removed the owner reference (orphan deletion) */
  released?: SpanRecord;
}

export const orphans: Detector = {
  name: 'orphans',
  description: 'objects that outlive their deleted owner, and pods still bound to a deleted node',
  detect({ index, endUs, thresholds: t }) {
    const out: Finding[] = [];
    for (const [parentKey, children] of index.children) {
      const parentDelete = index.deletedAt(parentKey);
      if (!parentDelete) continue;
      const td = parentDelete.startUs;
      for (const cls of ['children', 'node'] as const) {
        const survivors: Survivor[] = [];
        for (const [childKey, c] of children) {
          if (c !== cls || (cls === 'children' && ownedByAnother(index, childKey, parentKey, td))) continue;
          const s = survivorOf(index, childKey, td, endUs, cls, parentKey);
          if (s && s.staySec > t.orphanGraceSec) survivors.push(s);
        }
        if (!survivors.length) continue;
        survivors.sort((a, b) => b.staySec - a.staySec);
        const parent = index.refOf(parentKey);
        const released = survivors.filter((s) => s.released);
        const longest = formatSec(survivors[0]!.staySec);
        const still = survivors.filter((s) => !s.deleted).length;
        const n = survivors.length;
        const title =
          cls === 'node'
            ? `${n} pod${n === 1 ? '' : 's'} stayed bound to deleted ${refText(parent)} for up to ${longest}${still ? ` (${still} still there at the end)` : ''}`
            : `${n} object${n === 1 ? '' : 's'} outlived ${n === 1 ? 'its' : 'their'} deleted owner ${refText(parent)} by up to ${longest}${released.length ? ` (orphaned: owner reference removed by ${actorOf(released[0]!.released!)})` : ''}`;
        const evidence = [evidenceOf(parentDelete)];
        for (const s of survivors.slice(0, 6)) {
          if (s.released) evidence.push(evidenceOf(s.released, (l) => l.path === 'metadata.ownerReferences'));
          if (s.deleted) evidence.push(evidenceOf(s.deleted));
        }
        out.push({
          ...(cls === 'children' ? orphanCause(survivors[0]!, released[0], parent, parentDelete) : {}),
          detector: 'orphans',
          severity: collected(survivors, t.orphanGraceSec) ? 'info' : 'warning',
          title,
          objects: [parent, ...survivors.slice(0, 9).map((s) => s.ref)],
          actors: [...new Set([actorOf(parentDelete), ...released.map((s) => actorOf(s.released!))])],
          evidence,
          traceId: parentDelete.traceId,
          redirect: redirectUrl(survivors[0]!.ref, td),
          data: {
            relation: cls === 'node' ? 'node' : 'owner',
            parentDeleted: new Date(td / 1000).toISOString(),
            survivors: n,
            stillThere: still,
            orphaned: released.length,
            maxStaySec: Math.round(survivors[0]!.staySec * 1000) / 1000,
            graceSec: t.orphanGraceSec,
          },
        });
      }
    }
    return out;
  },
};

/**
 * Why objects outlived their owner: the write that removed the owner reference (a script's patch);
 * when the garbage collector removed it (`--cascade=orphan`), the delete that asked for that.
 */
function orphanCause(longest: Survivor, orphaned: Survivor | undefined, parent: ObjectRef, parentDelete: SpanRecord): Pick<Finding, 'cause' | 'chain'> {
  const chain = [
    `${refText(longest.ref)} outlived its owner ${refText(parent)} by ${formatSec(longest.staySec)}`,
    `${actorOf(parentDelete)} deleted ${refText(parent)} at ${isoOf(parentDelete.startUs)}`,
  ];
  const r = orphaned?.released;
  if (!r) return { chain };
  const what = `${actorOf(r)} ${pastOf(r)} ${refText(r.object)} removing its owner reference to ${refText(parent)} at ${isoOf(r.startUs)}`;
  chain.push(what);
  if (!isRoutine(r)) return { chain, cause: writeCause(r, what) };
  const asked = `${actorOf(parentDelete)} deleted ${refText(parent)} leaving its dependents (orphan propagation) at ${isoOf(parentDelete.startUs)}`;
  return { chain, cause: writeCause(parentDelete, asked) };
}

/**
 * Garbage collection doing its routine work: every survivor deleted by a built-in controller (the
 * pod garbage collector waits ~40 s before it removes the pods of a deleted node; the garbage
 * collector works through dependents) within 10 × the grace, none orphaned on purpose.
 */
function collected(survivors: Survivor[], graceSec: number): boolean {
  return survivors.every((s) => s.deleted && !s.released && isRoutine(s.deleted) && s.staySec <= 10 * graceSec);
}

/** Another owner, not deleted by `td`, still owns it: the garbage collector only drops the gone owner's reference. */
function ownedByAnother(index: SpanIndex, key: string, gone: string, td: number): boolean {
  return index.parentsOf(key, 'children').some((k) => k !== gone && !((index.deletedAt(k)?.startUs ?? Infinity) <= td));
}

/** The child's incarnation alive when its parent was deleted at `td`, and how long it stayed. */
function survivorOf(index: SpanIndex, key: string, td: number, endUs: number, cls: string, parentKey: string): Survivor | undefined {
  const h = index.history(key);
  if (!h?.events.length) return undefined;
  let alive = false;
  let onParent = true;
  for (const e of h.events) {
    if (e.startUs >= td) break;
    if (isCreate(e)) alive = true;
    else if (isDelete(e)) alive = false;
    else if (isWrite(e)) alive = true;
  }
  // a pod bound elsewhere before the node went away is not a pod of that node
  if (cls === 'node') {
    const lastBind = [...h.events].reverse().find((e) => e.startUs < td && isWrite(e) && index.diff(e).some((l) => l.path === 'spec.nodeName'));
    const nodeName = index.refOf(parentKey).name;
    if (lastBind && nodeName && !index.diff(lastBind).some((l) => l.path === 'spec.nodeName' && l.new === JSON.stringify(nodeName))) onParent = false;
  }
  if (!alive || !onParent) return undefined;
  const after = h.events.filter((e) => e.startUs >= td);
  const deleted = after.find(isDelete);
  // the release may be logged just before the owner's final delete: look a little earlier too
  const released =
    cls === 'children'
      ? h.events
          .filter((e) => e.startUs >= td - 60e6)
          .find(
            (e) =>
              (!deleted || e.startUs <= deleted.startUs) &&
              isWrite(e) &&
              index.diff(e).some((l) => l.path === 'metadata.ownerReferences' || l.path.startsWith('metadata.ownerReferences')),
          )
      : undefined;
  const s: Survivor = { ref: h.ref, key, staySec: ((deleted?.startUs ?? endUs) - td) / 1e6 };
  if (deleted) s.deleted = deleted;
  if (released) s.released = released;
  return s;
}
