// Slow reactions: per controller, the delay from a cause write to its first effect, as p50 / p99
// with the outliers named: Deployment spec change → ReplicaSet created/scaled, ReplicaSet scale →
// pod creates, pod create → binding (scheduler), binding → Running (kubelet / kwok).
import { objectKey } from '../../../src/core/model.ts';
import type { ObjectRef, SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { podPhases } from '../pod-startup.ts';
import { diffValue, evidenceOf, field, formatSec, isCreate, redirectUrl, refText, stats } from '../span-index.ts';
import type { SpanIndex } from '../span-index.ts';
import { subresourceOf, actorOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

/** Diff lines worth showing as a cause or effect. */
const RELEVANT = (l: { path: string }): boolean =>
  l.path === 'spec.replicas' || l.path === 'spec.nodeName' || l.path === 'status.phase' || l.path.startsWith('spec.template');

interface Reaction {
  cause: SpanRecord;
  effect: SpanRecord;
  /** the object the delay is attributed to (the one that reacted late) */
  object: ObjectRef;
}

const STAGES: { name: string; title: string; collect: (index: SpanIndex) => Reaction[] }[] = [
  { name: 'deployment→replicaset', title: 'Deployment spec change → ReplicaSet created or scaled', collect: deploymentReactions },
  { name: 'replicaset→pods', title: 'ReplicaSet scale-up → first pod create', collect: replicaSetReactions },
  {
    name: 'create→binding',
    title: 'pod create → pods/binding',
    collect: (i) =>
      podPhases(i)
        .filter((p) => p.bind && p.bind !== p.create)
        .map((p) => ({ cause: p.create, effect: p.bind!, object: p.ref })),
  },
  {
    name: 'binding→running',
    title: 'pods/binding → status Running',
    collect: (i) =>
      podPhases(i)
        .filter((p) => p.bind && p.run && p.run !== p.bind)
        .map((p) => ({ cause: p.bind!, effect: p.run!, object: p.ref })),
  },
];

export const slowReactions: Detector = {
  name: 'slow-reactions',
  description: 'per controller, the delay from a cause write to its first effect (p50 / p99, outliers named)',
  detect({ index, thresholds: t }) {
    const out: Finding[] = [];
    for (const stage of STAGES) {
      const reactions = stage.collect(index);
      if (!reactions.length) continue;
      const delays = reactions.map((r) => Math.max(0, (r.effect.startUs - r.cause.startUs) / 1e6));
      const st = stats(delays);
      const order = reactions.map((r, i) => ({ r, d: delays[i]! })).sort((a, b) => b.d - a.d);
      const outliers = order.slice(0, 3);
      const controllers = [...new Set(reactions.map((r) => actorOf(r.effect)))];
      const slow = st.p99 > t.slowReactionSec;
      out.push({
        detector: 'slow-reactions',
        severity: slow ? 'warning' : 'info',
        title: `${stage.title}: p50 ${formatSec(st.p50)}, p99 ${formatSec(st.p99)} over ${st.count} reactions${slow ? ` (above ${formatSec(t.slowReactionSec)}); slowest ${refText(outliers[0]!.r.object)} ${formatSec(outliers[0]!.d)}` : ''}`,
        objects: [...new Map(outliers.map((o) => [objectKey(o.r.object), o.r.object])).values()],
        actors: controllers,
        evidence: outliers.flatMap((o) => [evidenceOf(o.r.cause, RELEVANT), evidenceOf(o.r.effect, RELEVANT)]),
        traceId: outliers[0]!.r.effect.traceId,
        redirect: redirectUrl(outliers[0]!.r.object, outliers[0]!.r.cause.startUs),
        data: {
          stage: stage.name,
          ...st,
          thresholdSec: t.slowReactionSec,
          outliers: outliers.map((o) => ({ object: o.r.object, delaySec: Math.round(o.d * 1000) / 1000 })),
        },
      });
    }
    return out;
  },
};

const specChanged = (index: SpanIndex, e: SpanRecord): boolean =>
  isWrite(e) && (isCreate(e) || (subresourceOf(e) !== 'status' && index.diff(e).some((l) => l.path.startsWith('spec.'))));

/** The events of an owner's children (ownerReferences) that `keep` selects, in time order. */
function childEvents(index: SpanIndex, owner: string, keep: (e: SpanRecord) => boolean): SpanRecord[] {
  return index
    .childrenOf(owner, 'children')
    .flatMap((k) => index.history(k)?.events ?? [])
    .filter(keep)
    .sort((a, b) => a.startUs - b.startUs);
}

function deploymentReactions(index: SpanIndex): Reaction[] {
  const out: Reaction[] = [];
  for (const d of index.ofResource('apps', 'deployments')) {
    const rsEvents = childEvents(
      index,
      d.key,
      (e) => isWrite(e) && (isCreate(e) || index.diff(e).some((l) => l.path === 'spec.replicas' || l.path.startsWith('spec.template'))),
    );
    const causes = d.events.filter((e) => specChanged(index, e));
    for (const [cause, effect] of firstEffects(causes, rsEvents)) out.push({ cause, effect, object: effect.object });
  }
  return out;
}

function replicaSetReactions(index: SpanIndex): Reaction[] {
  const out: Reaction[] = [];
  for (const rs of index.ofResource('apps', 'replicasets')) {
    const creates = childEvents(index, rs.key, (e) => isCreate(e) && e.object.resource === 'pods');
    if (!creates.length) continue;
    const causes = rs.events.filter((e) => {
      if (!isWrite(e)) return false;
      if (isCreate(e)) return Number(field(index.snapshot(e), 'spec', 'replicas') ?? 0) > 0;
      const l = index.diff(e).find((x) => x.path === 'spec.replicas');
      return !!l && Number(diffValue(l.new) ?? 0) > Number(diffValue(l.old) ?? 0);
    });
    for (const [cause, effect] of firstEffects(causes, creates)) out.push({ cause, effect, object: rs.ref });
  }
  return out;
}

/** Each cause (in time order) with the first effect at or after it and before the next cause, if any. */
function firstEffects(causes: SpanRecord[], effects: SpanRecord[]): [SpanRecord, SpanRecord][] {
  const out: [SpanRecord, SpanRecord][] = [];
  causes.forEach((c, i) => {
    const next = causes[i + 1]?.startUs ?? Infinity;
    const effect = effects.find((e) => e.startUs >= c.startUs && e.startUs < next);
    if (effect) out.push([c, effect]);
  });
  return out;
}
