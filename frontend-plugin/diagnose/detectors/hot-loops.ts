// Hot loops / write storms: one actor rewriting one object far above its own and the cluster's
// normal per-object rate, sustained (a controller re-annotating an object twice a second for
// minutes). Names the field(s) that keep changing and the period (median interval between writes).
// Leases, node status heartbeats and Events are left out unless `hotLoopHeartbeats` is 1.
import type { ObjectRef, SpanRecord } from '../../../src/core/model.ts';
import type { Detector, DetectorInput, Finding } from '../types.ts';
import { isoOf, isWrite, percentile, redirectUrl, refText, sampleEvidence, subresourceOf, userOf, verbOf, type SpanIndex } from '../span-index.ts';

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

/** Accepted updates/patches (any subresource) per actor and object, in time order. */
function writesByPair(input: DetectorInput): Map<string, Run> {
  const pairs = new Map<string, Run>();
  for (const h of input.index.objects.values()) {
    for (const e of h.events) {
      if (!isWrite(e) || ['create', 'delete', 'deletecollection'].includes(verbOf(e))) continue;
      if (input.thresholds.hotLoopHeartbeats < 1 && isHeartbeat(h.ref, e)) continue;
      const actor = userOf(e);
      const k = `${actor}\u0000${h.key}`;
      let p = pairs.get(k);
      if (!p) pairs.set(k, (p = { actor, ref: h.ref, writes: [] }));
      p.writes.push(e);
    }
  }
  return pairs;
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

function finding(index: SpanIndex, run: Run, normal: { actor?: number; cluster: number }): Finding {
  const { actor, ref, writes } = run;
  const first = writes[0]!;
  const durationSec = (writes[writes.length - 1]!.startUs - first.startUs) / 1e6;
  const gaps = writes.slice(1).map((w, i) => (w.startUs - writes[i]!.startUs) / 1e6);
  const periodSec = median(gaps);
  const fields = loopFields(index, writes);
  const names = Object.keys(fields);
  const what = names.length ? `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` (+${names.length - 3} more)` : ''}` : 'nothing (writes without a change)';
  const sub = subresourceOf(first);
  const title = `${actor} rewrites ${what} of ${refText(ref)} every ${periodText(periodSec)} (${writes.length} writes in ${Math.round(durationSec)} s)`;
  return {
    detector: 'hot-loops',
    severity: 'warning',
    title,
    objects: [ref],
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
      summary: `${actor} started the loop: its first of ${writes.length} writes of ${refText(ref)}, one every ${periodText(periodSec)}`,
      redirect: redirectUrl(ref, first.startUs),
    },
    chain: [
      `${refText(ref)}: ${writes.length} writes in ${Math.round(durationSec)} s, ${what} changed every ${periodText(periodSec)}`,
      `← ${actor} ${verbOf(first)}${sub ? ` ${sub}` : ''} at ${isoOf(first.startUs)}: the first write of the loop`,
    ],
    data: {
      writes: writes.length,
      durationSec: round(durationSec, 1),
      ratePerSec: round((writes.length - 1) / durationSec),
      periodSec: round(periodSec),
      fields,
      actorNormalRatePerSec: normal.actor === undefined ? null : round(normal.actor, 4),
      clusterNormalRatePerSec: round(normal.cluster, 4),
    },
  };
}

export const hotLoops: Detector = {
  name: 'hot-loops',
  description: 'one actor rewriting one object far above its own and the cluster’s normal rate, sustained',
  detect(input) {
    const t = input.thresholds;
    const pairs = writesByPair(input);
    // normal per-object rate: writes of an (actor, object) pair over the range, median over pairs
    const rangeSec = Math.max(t.hotLoopMinDurationSec, (input.endUs - input.startUs) / 1e6, 1);
    const rates = new Map<string, number>();
    const byActor = new Map<string, number[]>();
    for (const [k, p] of pairs) {
      const r = p.writes.length / rangeSec;
      rates.set(k, r);
      let l = byActor.get(p.actor);
      if (!l) byActor.set(p.actor, (l = []));
      l.push(r);
    }
    const cluster = median([...rates.values()]);
    const maxGapUs = (2 / Math.max(t.hotLoopMinRate, 1e-6)) * 1e6;
    const out: Finding[] = [];
    for (const [k, p] of pairs) {
      if (p.writes.length < t.hotLoopMinWrites) continue;
      // the actor's normal: its other objects (one copy of this pair's rate removed)
      const others = [...byActor.get(p.actor)!];
      others.splice(others.indexOf(rates.get(k)!), 1);
      const actor = others.length ? median(others) : undefined;
      for (const run of runsOf(p, maxGapUs)) {
        const n = run.writes.length;
        const durationSec = (run.writes[n - 1]!.startUs - run.writes[0]!.startUs) / 1e6;
        if (n < t.hotLoopMinWrites || durationSec < t.hotLoopMinDurationSec) continue;
        const rate = (n - 1) / durationSec;
        if (rate < t.hotLoopMinRate || rate < t.hotLoopFactor * Math.max(cluster, actor ?? 0)) continue;
        out.push(finding(input.index, run, { actor, cluster }));
      }
    }
    return out;
  },
};
