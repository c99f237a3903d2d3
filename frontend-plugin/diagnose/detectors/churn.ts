// Churn / hot loop: an owner (ReplicaSet, Job, StatefulSet, DaemonSet) that creates far more pods
// than it ever wanted, objects deleted and re-created under the same name again and again, and a
// Node deleted while workload pods ran on it (not drained): the pod GC deletes them, their owners
// replace them — a disruption whose cause is who deleted the Node.
import { objectKey, type SpanRecord } from '../../../src/core/model.ts';
import type { Cause, Detector, Finding, Thresholds } from '../types.ts';
import {
  evidenceOf,
  field,
  formatSec,
  isBinding,
  isCreate,
  isRoutine,
  isDelete,
  isoOf,
  redirectUrl,
  refText,
  sampleEvidence,
  trackFields,
  writeCause,
} from '../span-index.ts';
import type { SpanIndex } from '../span-index.ts';
import { subresourceOf, actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

const OWNERS: Record<string, string[]> = {
  'apps/replicasets': ['spec.replicas'],
  'apps/statefulsets': ['spec.replicas'],
  'batch/jobs': ['spec.parallelism', 'spec.completions'],
};

export const churn: Detector = {
  name: 'churn',
  description: 'owners creating far more children than desired, and objects deleted and re-created under one name again and again',
  detect({ index, thresholds: t }) {
    const out: Finding[] = [];
    // 1. owners creating children beyond their desired count
    const createsByOwner = new Map<string, SpanRecord[]>();
    for (const h of index.objects.values()) {
      if (h.ref.resource !== 'pods' || h.ref.group !== '') continue;
      const owner = index.ownerOf(h.key) ?? ownerFromSnapshot(index, h.events.find(isCreate));
      if (!owner) continue;
      for (const e of h.events) {
        if (!isCreate(e)) continue;
        let l = createsByOwner.get(owner);
        if (!l) createsByOwner.set(owner, (l = []));
        l.push(e);
      }
    }
    for (const [ownerKey, creates] of createsByOwner) {
      const owner = index.refOf(ownerKey);
      const paths = OWNERS[`${owner.group}/${owner.resource}`];
      const oh = index.history(ownerKey);
      let desired = 1;
      if (paths && oh) {
        for (const v of trackFields(index, oh, paths))
          for (const p of paths) if (typeof v.values[p] === 'number') desired = Math.max(desired, v.values[p] as number);
      } else if (owner.resource === 'daemonsets') {
        desired = Math.max(1, new Set(creates.map((c) => field(index.snapshot(c), 'spec', 'nodeName') ?? c.object.name)).size);
      }
      const extra = creates.length - desired;
      if (creates.length > t.churnFactor * desired && extra >= t.churnMinExtra) {
        creates.sort((a, b) => a.startUs - b.startUs);
        const why = removalCause(index, creates);
        const title = `${refText(owner)} created ${creates.length} pods while it wanted at most ${desired}`;
        out.push({
          detector: 'churn',
          severity: creates.length > 3 * t.churnFactor * desired ? 'error' : 'warning',
          title,
          objects: [owner],
          actors: [...new Set([...creates.map(actorOf), ...(why ? [why.cause.actor] : [])])],
          evidence: [...sampleEvidence(creates, why ? 5 : 8), ...(why ? sampleEvidence(why.removals, 3) : [])],
          traceId: creates[0]!.traceId,
          redirect: redirectUrl(owner, creates[0]!.startUs),
          data: { creates: creates.length, desired, factor: Math.round((creates.length / desired) * 10) / 10, ...(why ? { removedBy: why.counts } : {}) },
          ...(why
            ? {
                cause: why.cause,
                chain: [title, `${[...new Set(creates.map(actorOf))].join(', ')} re-created the pods it lost`, why.cause.summary],
              }
            : {}),
        });
      }
    }
    out.push(...recreated(index, t));
    out.push(...nodeDeletions(index));
    return out;
  },
};

/** 2. the same name deleted and re-created again and again */
function recreated(index: SpanIndex, t: Thresholds): Finding[] {
  const out: Finding[] = [];
  for (const h of index.objects.values()) {
    if (h.ref.resource === 'events') continue;
    const cycle: SpanRecord[] = [];
    let recreations = 0;
    let deleted = false;
    for (const e of h.events) {
      if (isDelete(e)) {
        if (!deleted) cycle.push(e);
        deleted = true;
      } else if (isCreate(e)) {
        if (deleted) recreations++;
        deleted = false;
        cycle.push(e);
      }
    }
    if (recreations >= t.recreateMin) {
      const title = `${refText(h.ref)} was deleted and re-created ${recreations} times`;
      out.push({
        detector: 'churn',
        severity: recreations >= 3 * t.recreateMin ? 'error' : 'warning',
        title,
        ...recreateCause(cycle, title),
        objects: [h.ref],
        actors: [...new Set(cycle.map(actorOf))],
        evidence: sampleEvidence(cycle, 10),
        traceId: cycle[0]!.traceId,
        redirect: redirectUrl(h.ref, cycle[0]!.startUs),
        data: { recreations, creates: cycle.filter(isCreate).length, deletes: cycle.filter(isDelete).length },
      });
    }
  }
  return out;
}

/** The controller owner's key from a create snapshot's ownerReferences (when no link span is in range). */
function ownerFromSnapshot(index: SpanIndex, create: SpanRecord | undefined): string | undefined {
  if (!create) return undefined;
  const refs = field(index.snapshot(create), 'metadata', 'ownerReferences');
  if (!Array.isArray(refs)) return undefined;
  const c = refs.find((r) => r && typeof r === 'object' && (r as { controller?: unknown }).controller === true) as
    | { kind?: string; name?: string; apiVersion?: string }
    | undefined;
  if (!c || typeof c.name !== 'string') return undefined;
  const group = typeof c.apiVersion === 'string' && c.apiVersion.includes('/') ? c.apiVersion.split('/')[0]! : '';
  const resource = { ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', Job: 'jobs', DaemonSet: 'daemonsets' }[c.kind ?? ''];
  if (!resource) return undefined;
  return objectKey({ ...create.object, group, resource, name: c.name });
}

/** The actor of most deletes of a delete/re-create cycle, and who re-created it. */
function recreateCause(cycle: SpanRecord[], title: string): Pick<Finding, 'cause' | 'chain'> {
  const deletes = cycle.filter(isDelete);
  const counts = new Map<string, SpanRecord[]>();
  for (const d of deletes) counts.set(actorOf(d), [...(counts.get(actorOf(d)) ?? []), d]);
  const top = [...counts.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  if (!top) return {};
  const [actor, mine] = top;
  const first = mine[0]!;
  const summary = `${actor} deleted it ${mine.length} time${mine.length === 1 ? '' : 's'}`;
  const creators = [...new Set(cycle.filter(isCreate).map(actorOf))].join(', ');
  return {
    cause: { actor, verb: verbOf(first), object: first.object, time: isoOf(first.startUs), summary, redirect: redirectUrl(first.object, first.startUs) },
    chain: [title, `${creators} re-created it`, summary],
  };
}

/** The pod GC deletes the pods of a deleted node: their cause is the node's delete. */
const POD_GC = 'system:serviceaccount:kube-system:pod-garbage-collector';

/**
 * Who removed the pods an owner replaced: per pod of the owner, its first removal before the
 * owner's last create (a delete, or a pods/eviction by the evicting actor); a pod deleted by the
 * pod GC after its node's delete counts for the node's delete. The actor of most removals is the cause.
 */
function removalCause(index: SpanIndex, creates: SpanRecord[]): { cause: Cause; removals: SpanRecord[]; counts: Record<string, number> } | undefined {
  const lastUs = creates[creates.length - 1]!.startUs;
  const byActor = new Map<string, SpanRecord[]>();
  for (const key of new Set(creates.map((c) => objectKey(c.object)))) {
    const removal = index
      .history(key)
      ?.events.find((e) => e.startUs < lastUs && (isDelete(e) || (isWrite(e) && verbOf(e) === 'create' && subresourceOf(e) === 'eviction')));
    if (!removal) continue;
    const span = (actorOf(removal) === POD_GC && nodeDeleteBefore(index, key, removal.startUs)) || removal;
    let l = byActor.get(actorOf(span));
    if (!l) byActor.set(actorOf(span), (l = []));
    l.push(span);
  }
  const top = [...byActor.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  if (!top) return undefined;
  const [actor, spans] = top;
  const unique = [...new Map(spans.map((s) => [s.spanId, s])).values()].sort((a, b) => a.startUs - b.startUs);
  const first = unique[0]!;
  const removed = spans.length;
  const summary =
    first.object.resource === 'nodes'
      ? `${actor} deleted ${refText(first.object)}; the pod garbage collector then deleted ${removed} of its pods`
      : `${actor} ${subresourceOf(first) === 'eviction' ? 'evicted' : 'deleted'} ${removed} of its pods`;
  const cause: Cause = {
    actor,
    verb: verbOf(first),
    object: first.object,
    time: isoOf(first.startUs),
    summary,
    redirect: redirectUrl(first.object, first.startUs),
  };
  if (subresourceOf(first)) cause.subresource = subresourceOf(first);
  return { cause, removals: unique, counts: Object.fromEntries([...byActor].map(([a, l]) => [a, l.length])) };
}

/** The delete of the pod's node before `us`, if the node is gone. */
function nodeDeleteBefore(index: SpanIndex, podKey: string, us: number): SpanRecord | undefined {
  for (const n of index.parentsOf(podKey, 'node')) {
    const d = index.deletedAt(n);
    if (d && d.startUs <= us) return d;
  }
  return undefined;
}

interface LostPod {
  key: string;
  owner: string;
  /** its delete after the Node's (the pod GC's, usually) */
  removal?: SpanRecord;
  /** the owner's next pod create after it was removed */
  replacement?: SpanRecord;
}

/** Pods of workloads on the Node when it was deleted (bound before, not deleted before), with their removal and replacement. */
function lostPods(index: SpanIndex, nodeKey: string, del: SpanRecord): LostPod[] {
  const out: LostPod[] = [];
  const used = new Set<SpanRecord>();
  for (const key of index.childrenOf(nodeKey, 'node')) {
    const events = index.history(key)?.events ?? [];
    const placed = events.find((e) => isBinding(e) || isCreate(e));
    if (!placed || placed.startUs > del.startUs || events.some((e) => isDelete(e) && e.startUs < del.startUs)) continue;
    const owner = index.ownerOf(key);
    if (!owner || index.refOf(owner).resource === 'daemonsets') continue; // a DaemonSet's pod goes with its node
    const removal = events.find((e) => isDelete(e) && e.startUs >= del.startUs);
    const after = removal?.startUs ?? del.startUs;
    let replacement: SpanRecord | undefined;
    for (const sibling of index.childrenOf(owner, 'children')) {
      for (const e of index.history(sibling)?.events ?? []) {
        if (isCreate(e) && e.startUs > after && !used.has(e) && (!replacement || e.startUs < replacement.startUs)) replacement = e;
      }
    }
    if (replacement) used.add(replacement);
    out.push({ key, owner, removal, replacement });
  }
  return out;
}

/**
 * 3. a Node deleted while pods of workloads ran on it: nobody drained it (a drain evicts or deletes
 * them first), so the pods went down with it and their owners replaced them. A warning, unless a
 * built-in controller deleted it, or the actor who deleted it also created it in the record (a
 * test scaling its own fake nodes away): info then.
 */
function nodeDeletions(index: SpanIndex): Finding[] {
  const out: Finding[] = [];
  for (const node of index.ofResource('', 'nodes')) {
    const del = node.events.find(isDelete);
    if (!del) continue;
    const lost = lostPods(index, node.key, del);
    const replaced = lost.filter((l) => l.replacement);
    if (!replaced.length) continue;
    const actor = actorOf(del);
    const owners = [...new Set(lost.map((l) => l.owner))].map((k) => index.refOf(k));
    const top = [...new Set(lost.map((l) => index.ownerOf(l.owner)).filter((k): k is string => !!k))].map((k) => index.refOf(k));
    const removals = lost.flatMap((l) => (l.removal ? [l.removal] : [])).sort((a, b) => a.startUs - b.startUs);
    const remover = removals[0] ? actorOf(removals[0]) : '';
    const delaySec = removals.length ? (removals.at(-1)!.startUs - del.startUs) / 1e6 : 0;
    const title = `${actor} deleted ${refText(node.ref)} while ${lost.length} pod${lost.length === 1 ? '' : 's'} of ${owners.map(refText).join(', ')} ran on it (not drained): ${replaced.length} replaced`;
    const summary = `${actor} deleted ${refText(node.ref)} at ${isoOf(del.startUs)} with its pods still on it`;
    const planned = isRoutine(del) || node.events.some((e) => isCreate(e) && actorOf(e) === actor);
    out.push({
      detector: 'churn',
      severity: planned ? 'info' : 'warning',
      title,
      objects: [node.ref, ...top, ...owners, ...lost.map((l) => index.refOf(l.key))],
      actors: [...new Set([actor, ...removals.map(actorOf), ...replaced.map((l) => actorOf(l.replacement!))])],
      evidence: [
        evidenceOf(del),
        ...sampleEvidence(removals, 3),
        ...sampleEvidence(
          replaced.map((l) => l.replacement!),
          3,
        ),
      ],
      traceId: del.traceId,
      redirect: redirectUrl(node.ref, del.startUs),
      cause: writeCause(del, summary),
      chain: [
        title,
        `${[...new Set(replaced.map((l) => actorOf(l.replacement!)))].join(', ')} re-created ${replaced.length} of them`,
        ...(removals.length ? [`${remover} deleted ${removals.length} of them within ${formatSec(delaySec)} of the Node's delete`] : []),
        summary,
      ],
      data: { node: node.ref.name, pods: lost.length, replaced: replaced.length, removedBy: remover, podGcDelaySec: Math.round(delaySec * 10) / 10, planned },
    });
  }
  return out;
}
