// Churn / hot loop: an owner (ReplicaSet, Job, StatefulSet, DaemonSet) that creates far more pods
// than it ever wanted, and objects deleted and re-created under the same name again and again.
import { objectKey, type SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { field, isCreate, isDelete, redirectUrl, refText, sampleEvidence, trackFields, userOf } from '../span-index.ts';

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
        out.push({
          detector: 'churn',
          severity: creates.length > 3 * t.churnFactor * desired ? 'error' : 'warning',
          title: `${refText(owner)} created ${creates.length} pods while it wanted at most ${desired}`,
          objects: [owner],
          actors: [...new Set(creates.map(userOf))],
          evidence: sampleEvidence(creates),
          traceId: creates[0]!.traceId,
          redirect: redirectUrl(owner, creates[0]!.startUs),
          data: { creates: creates.length, desired, factor: Math.round((creates.length / desired) * 10) / 10 },
        });
      }
    }
    // 2. the same name deleted and re-created again and again
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
        out.push({
          detector: 'churn',
          severity: recreations >= 3 * t.recreateMin ? 'error' : 'warning',
          title: `${refText(h.ref)} was deleted and re-created ${recreations} times`,
          objects: [h.ref],
          actors: [...new Set(cycle.map(userOf))],
          evidence: sampleEvidence(cycle, 10),
          traceId: cycle[0]!.traceId,
          redirect: redirectUrl(h.ref, cycle[0]!.startUs),
          data: { recreations, creates: cycle.filter(isCreate).length, deletes: cycle.filter(isDelete).length },
        });
      }
    }
    return out;
  },
};

/** The controller owner's key from a create snapshot's ownerReferences (when no link span is in range). */
function ownerFromSnapshot(index: import('../span-index.ts').SpanIndex, create: SpanRecord | undefined): string | undefined {
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
