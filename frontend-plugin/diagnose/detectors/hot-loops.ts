// Hot loops / write storms: one actor rewriting one object far above its own and the cluster's
// normal per-object rate, sustained (a controller re-annotating an object twice a second for
// minutes). Names the field(s) that keep changing and the period (median interval between writes).
// Leases, node status heartbeats and Events are left out unless `hotLoopHeartbeats` is 1.
import { objectKey, type ObjectRef, type SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding, Thresholds } from '../types.ts';
import { isoOf, percentile, redirectUrl, refText, sampleEvidence } from '../span-index.ts';
import type { ObjectHistory, SpanIndex } from '../span-index.ts';
import { subresourceOf, actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

interface Run {
  actor: string;
  ref: ObjectRef;
  writes: SpanRecord[];
}

/** Leases, node status heartbeats (kubelet, kwok) and Events: routine high-rate writes. */
export function isHeartbeat(ref: ObjectRef, s: SpanRecord): boolean {
  if (ref.group === 'coordination.k8s.io' || ref.resource === 'events') return true;
  return ref.group === '' && ref.resource === 'nodes' && subresourceOf(s) === 'status';
}

const median = (values: number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
/** `40 ms`, `0.5 s`, `1.2 s`, `15 s`: one decimal from 0.1 s to 10 s. */
const periodText = (sec: number): string => (sec < 0.1 ? `${Math.round(sec * 1000)} ms` : sec < 10 ? `${sec.toFixed(1)} s` : `${Math.round(sec)} s`);

/** An accepted update/patch (any subresource) that counts: not a create or delete, not a heartbeat unless asked. */
const counts = (ref: ObjectRef, e: SpanRecord, heartbeats: boolean): boolean =>
  isWrite(e) && !['create', 'delete', 'deletecollection'].includes(verbOf(e)) && (heartbeats || !isHeartbeat(ref, e));

/** Counted writes of one object per actor, in time order. */
function writesByActor(h: ObjectHistory, heartbeats: boolean): Map<string, SpanRecord[]> {
  const out = new Map<string, SpanRecord[]>();
  for (const e of h.events) {
    if (!counts(h.ref, e, heartbeats)) continue;
    const actor = actorOf(e);
    let l = out.get(actor);
    if (!l) out.set(actor, (l = []));
    l.push(e);
  }
  return out;
}

/** Normal per-object write rates: writes of an (actor, object) pair over the range, per actor and over all pairs. */
function normalRates(index: SpanIndex, heartbeats: boolean, rangeSec: number): { cluster: number; byActor: Map<string, number[]> } {
  const all: number[] = [];
  const byActor = new Map<string, number[]>();
  for (const h of index.objects.values()) {
    const n = new Map<string, number>();
    for (const e of h.events) if (counts(h.ref, e, heartbeats)) n.set(actorOf(e), (n.get(actorOf(e)) ?? 0) + 1);
    for (const [actor, c] of n) {
      all.push(c / rangeSec);
      let l = byActor.get(actor);
      if (!l) byActor.set(actor, (l = []));
      l.push(c / rangeSec);
    }
  }
  for (const l of byActor.values()) l.sort((a, b) => a - b);
  return { cluster: median(all), byActor };
}

/** The median (as `percentile`) of an ascending list with one copy of `v` taken out; undefined if nothing is left. */
function medianWithout(sortedAsc: readonly number[], v: number): number | undefined {
  const n = sortedAsc.length - 1;
  if (n < 1) return undefined;
  const at = sortedAsc.indexOf(v);
  const i = Math.max(0, Math.ceil(0.5 * n) - 1);
  return sortedAsc[at >= 0 && i >= at ? i + 1 : i];
}

/** Stretches of writes with no gap longer than twice the floor period (1 / minRate). */
function runsOf(p: Run, maxGapUs: number): Run[] {
  const out: Run[] = [];
  let cur: SpanRecord[] = [];
  for (const w of p.writes) {
    if (cur.length && w.startUs - cur[cur.length - 1]!.startUs > maxGapUs) {
      out.push({ ...p, writes: cur });
      cur = [];
    }
    cur.push(w);
  }
  if (cur.length) out.push({ ...p, writes: cur });
  return out;
}

/** Diff paths changed by at least half of the run's writes, most often changed first. */
function loopFields(index: SpanIndex, writes: readonly SpanRecord[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const w of writes) for (const path of new Set(index.diff(w).map((l) => l.path))) counts.set(path, (counts.get(path) ?? 0) + 1);
  const kept = [...counts].filter(([, n]) => n * 2 >= writes.length).sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(kept);
}

/**
 * Share of the run's intervals in which another actor wrote the object, one of its owners or one
 * of what it owns, in the later half of the interval (just before the actor's next write): a
 * controller following the world (a Deployment's status as its ReplicaSet's pods start) reacts; a
 * loop rewrites with nothing upstream changing, whatever the others do in answer to it.
 */
function reactionShare(index: SpanIndex, key: string, run: Run): number {
  const from = run.writes[0]!.startUs;
  const to = run.writes[run.writes.length - 1]!.startUs;
  const related = new Set([key, ...(index.parents.get(key)?.keys() ?? []), ...(index.children.get(key)?.keys() ?? [])]);
  const times: number[] = [];
  for (const k of related)
    for (const e of index.history(k)?.events ?? []) if (e.startUs > from && e.startUs <= to && isWrite(e) && actorOf(e) !== run.actor) times.push(e.startUs);
  times.sort((a, b) => a - b);
  let reacted = 0;
  let j = 0;
  for (let i = 1; i < run.writes.length; i++) {
    const start = run.writes[i - 1]!.startUs;
    const end = run.writes[i]!.startUs;
    // upstream only when nearer the actor's next write than its previous one: a write soon after the
    // actor's own is the world reacting to the loop (a Deployment's controller answering each
    // annotation change), not what the actor follows
    let hit = false;
    while (j < times.length && times[j]! <= end) {
      if (times[j]! - start > end - times[j]!) hit = true;
      j++;
    }
    if (hit) reacted++;
  }
  return reacted / Math.max(1, run.writes.length - 1);
}

/** Median interval between writes in seconds; for a storm, the median over its objects of each one's. */
function periodOf(writes: readonly SpanRecord[], storm: boolean): number {
  if (storm) {
    const per = new Map<string, SpanRecord[]>();
    for (const w of writes) {
      const k = objectKey(w.object);
      const l = per.get(k);
      if (l) l.push(w);
      else per.set(k, [w]);
    }
    return median([...per.values()].filter((l) => l.length > 1).map((l) => periodOf(l, false)));
  }
  return median(writes.slice(1).map((w, i) => (w.startUs - writes[i]!.startUs) / 1e6));
}

/** A loop of one object, or (with `storm`, the objects) a storm over objects of one kind. */
function finding(index: SpanIndex, run: Run, normal: { actor?: number; cluster: number; reactionShare: number }, storm?: ObjectRef[]): Finding {
  const { actor, ref, writes } = run;
  const first = writes[0]!;
  const durationSec = (writes[writes.length - 1]!.startUs - first.startUs) / 1e6;
  const periodSec = periodOf(writes, storm !== undefined);
  const fields = loopFields(index, writes);
  const names = Object.keys(fields);
  const what = names.length ? `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` (+${names.length - 3} more)` : ''}` : 'nothing (writes without a change)';
  const sub = subresourceOf(first);
  const some = storm?.slice(0, 3).map((o) => (o.namespace ? `${o.namespace}/${o.name}` : o.name));
  const subject = storm ? `${storm.length} ${refText(ref).split(' ')[0]} objects (${some!.join(', ')}${storm.length > 3 ? ', …' : ''})` : refText(ref);
  const every = `every ${periodText(periodSec)}${storm ? ' each' : ''}`;
  const title = `${actor} rewrites ${what} of ${subject} ${every} (${writes.length} writes in ${Math.round(durationSec)} s)`;
  return {
    detector: 'hot-loops',
    severity: 'warning',
    title,
    objects: storm ?? [ref],
    actors: [actor],
    evidence: sampleEvidence(writes, 8, names.length ? (l) => l.path in fields : undefined),
    traceId: first.traceId,
    redirect: redirectUrl(ref, first.startUs),
    cause: {
      actor,
      verb: verbOf(first),
      ...(sub ? { subresource: sub } : {}),
      object: ref,
      time: isoOf(first.startUs),
      summary: `${actor} started the ${storm ? 'storm' : 'loop'}: its first of ${writes.length} writes of ${subject}, ${every}`,
      redirect: redirectUrl(ref, first.startUs),
    },
    chain: [
      `${subject}: ${writes.length} writes in ${Math.round(durationSec)} s, ${what} changed ${every}`,
      `← ${actor} ${verbOf(first)}${sub ? ` ${sub}` : ''} ${refText(ref)} at ${isoOf(first.startUs)}: the first write of the ${storm ? 'storm' : 'loop'}`,
    ],
    data: {
      writes: writes.length,
      durationSec: round(durationSec, 1),
      ratePerSec: round((writes.length - 1) / durationSec),
      periodSec: round(periodSec),
      fields,
      actorNormalRatePerSec: normal.actor === undefined ? null : round(normal.actor, 4),
      clusterNormalRatePerSec: round(normal.cluster, 4),
      reactionShare: round(normal.reactionShare, 2),
      ...(storm ? { storm: true, objects: storm.length } : {}),
    },
  };
}

/** Writes of one actor to one kind, per object (pairs below the per-object thresholds). */
type KindWrites = Map<string, { actor: string; perObject: Map<string, SpanRecord[]> }>;

/**
 * A storm: one actor rewriting many objects of one kind, each again and again (≥ a quarter of
 * `hotLoopMinWrites` in the stretch), none a loop on its own, together sustained above the rate floor
 * and each far above the cluster's normal per-object rate; reactions left out as for loops.
 */
function storms(index: SpanIndex, kinds: KindWrites, t: Thresholds, cluster: number, maxGapUs: number): Finding[] {
  const out: Finding[] = [];
  const minPerObject = Math.max(2, Math.ceil(t.hotLoopMinWrites / 4));
  for (const { actor, perObject } of kinds.values()) {
    const objects = [...perObject].filter(([, w]) => w.length >= minPerObject);
    if (objects.length < t.hotLoopStormMinObjects) continue;
    const all = objects.flatMap(([, w]) => w).sort((a, b) => a.startUs - b.startUs);
    for (const run of runsOf({ actor, ref: all[0]!.object, writes: all }, maxGapUs)) {
      const keys = new Map<string, SpanRecord[]>();
      for (const w of run.writes) {
        const l = keys.get(objectKey(w.object));
        if (l) l.push(w);
        else keys.set(objectKey(w.object), [w]);
      }
      const rewritten = [...keys].filter(([, w]) => w.length >= minPerObject);
      const n = run.writes.length;
      const durationSec = (run.writes[n - 1]!.startUs - run.writes[0]!.startUs) / 1e6;
      if (rewritten.length < t.hotLoopStormMinObjects || n < t.hotLoopMinWrites || durationSec < t.hotLoopMinDurationSec) continue;
      const rate = (n - 1) / durationSec;
      if (rate < t.hotLoopMinRate || rate / keys.size < t.hotLoopFactor * cluster) continue;
      const shares = rewritten.map(([k, w]) => reactionShare(index, k, { actor, ref: w[0]!.object, writes: w }));
      const reacting = median(shares);
      if (reacting >= t.hotLoopReactionShare) continue;
      out.push(
        finding(
          index,
          run,
          { cluster, reactionShare: reacting },
          rewritten.map(([, w]) => w[0]!.object),
        ),
      );
    }
  }
  return out;
}

export const hotLoops: Detector = {
  name: 'hot-loops',
  description: 'one actor rewriting one object far above its own and the cluster’s normal rate, sustained',
  detect({ index, thresholds: t, startUs, endUs }) {
    const heartbeats = t.hotLoopHeartbeats >= 1;
    const rangeSec = Math.max(t.hotLoopMinDurationSec, (endUs - startUs) / 1e6, 1);
    const { cluster, byActor } = normalRates(index, heartbeats, rangeSec);
    const maxGapUs = (2 / Math.max(t.hotLoopMinRate, 1e-6)) * 1e6;
    const out: Finding[] = [];
    const kinds: KindWrites = new Map();
    for (const h of index.objects.values()) {
      for (const [actorName, writes] of writesByActor(h, heartbeats)) {
        const kk = `${actorName}\u0000${h.ref.cluster}/${h.ref.group}/${h.ref.resource}`;
        let kw = kinds.get(kk);
        if (!kw) kinds.set(kk, (kw = { actor: actorName, perObject: new Map() }));
        kw.perObject.set(h.key, writes);
        if (writes.length < t.hotLoopMinWrites) continue;
        // the actor's normal: its other objects (this pair's rate taken out once)
        const actor = medianWithout(byActor.get(actorName)!, writes.length / rangeSec);
        for (const run of runsOf({ actor: actorName, ref: h.ref, writes }, maxGapUs)) {
          const n = run.writes.length;
          const durationSec = (run.writes[n - 1]!.startUs - run.writes[0]!.startUs) / 1e6;
          if (n < t.hotLoopMinWrites || durationSec < t.hotLoopMinDurationSec) continue;
          const rate = (n - 1) / durationSec;
          if (rate < t.hotLoopMinRate || rate < t.hotLoopFactor * Math.max(cluster, actor ?? 0)) continue;
          const reacting = reactionShare(index, h.key, run);
          if (reacting >= t.hotLoopReactionShare) continue;
          out.push(finding(index, run, { actor, cluster, reactionShare: reacting }));
          kw.perObject.delete(h.key); // a loop of its own is not part of a storm
        }
      }
    }
    return [...out, ...storms(index, kinds, t, cluster, maxGapUs)];
  },
};
