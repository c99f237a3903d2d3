// Stuck rollouts: Deployments / StatefulSets / DaemonSets whose status does not reach the spec
// (observedGeneration, updated / ready / available replicas) and made no progress towards it for a
// threshold after the last spec change; and owners that could not create pods (forbidden / quota errors, FailedCreate Events).
import { Attr, objectKey, type SpanRecord } from '../../../src/core/model.ts';
import type { Cause, Detector, Finding } from '../types.ts';
import {
  diffValue,
  evidenceOf,
  field,
  formatSec,
  isCreate,
  isDelete,
  isoOf,
  parseDiff,
  pastOf,
  redirectUrl,
  refText,
  sampleEvidence,
  statusRecorded,
  writeCause,
} from '../span-index.ts';
import type { ObjectHistory, SpanIndex } from '../span-index.ts';
import { isKubeEvent, subresourceOf, actorOf } from '../../../src/core/span-view.ts';
import { isFailed, isWrite } from '../../../src/core/failed.ts';

interface Workload {
  /** fields whose values must all equal the desired count */
  desired: (v: Record<string, unknown>) => number | undefined;
  status: string[];
  /** extra condition (e.g. no old pods left) */
  done?: (v: Record<string, unknown>, want: number) => boolean;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

const WORKLOADS: Record<string, Workload> = {
  'apps/deployments': {
    desired: (v) => (v['spec.replicas'] === undefined ? undefined : num(v['spec.replicas'])),
    status: ['status.updatedReplicas', 'status.readyReplicas', 'status.availableReplicas'],
    done: (v, want) => num(v['status.replicas']) === want,
  },
  'apps/statefulsets': {
    desired: (v) => (v['spec.replicas'] === undefined ? undefined : num(v['spec.replicas'])),
    status: ['status.updatedReplicas', 'status.readyReplicas'],
  },
  'apps/daemonsets': {
    desired: (v) => (v['status.desiredNumberScheduled'] === undefined ? undefined : num(v['status.desiredNumberScheduled'])),
    status: ['status.updatedNumberScheduled', 'status.numberReady', 'status.numberAvailable'],
  },
};

const TRACKED = [
  'spec.replicas',
  'status.replicas',
  'status.observedGeneration',
  'status.desiredNumberScheduled',
  'status.updatedReplicas',
  'status.readyReplicas',
  'status.availableReplicas',
  'status.updatedNumberScheduled',
  'status.numberReady',
  'status.numberAvailable',
];

export const stuckRollouts: Detector = {
  name: 'stuck-rollouts',
  description: 'workloads whose status does not reach the spec within a threshold of the last spec change; owners that cannot create pods',
  detect(input) {
    const out: Finding[] = [];
    const { index } = input;
    for (const [gr, w] of Object.entries(WORKLOADS)) {
      const [group, resource] = gr.split('/') as [string, string];
      for (const h of index.ofResource(group, resource)) {
        const f = checkRollout(index, h, w, input.endUs, input.thresholds.rolloutTimeoutSec);
        if (f) out.push(f);
      }
    }
    const refused = failedCreates(index);
    for (const f of out) linkRefusal(index, f, refused);
    out.push(...refused.values());
    return out;
  },
};

interface RolloutScan {
  values: Record<string, unknown>;
  lastSpec?: SpanRecord;
  completedUs?: number;
  deadline?: SpanRecord;
  deleted?: SpanRecord;
  /** the last write after the last spec change that brought the status nearer the spec (else that change) */
  lastProgressUs: number;
  /** the longest time without progress since the last spec change, until completion (s) */
  longestStallSec: number;
}

/** How far the status is from the spec: the sum over the status counts (and surplus replicas) of their gap. */
function distance(w: Workload, v: Record<string, unknown>): number {
  const want = w.desired(v) ?? 0;
  const gaps = w.status.map((p) => Math.abs(want - num(v[p])));
  if (w.done) gaps.push(Math.abs(num(v['status.replicas']) - want));
  return gaps.reduce((a, b) => a + b, 0);
}

/** Replays a workload's writes: its tracked values, the last spec change, completion and progress since. */
function scanRollout(index: SpanIndex, h: ObjectHistory, w: Workload): RolloutScan | undefined {
  const r: RolloutScan = { values: {}, lastProgressUs: 0, longestStallSec: 0 };
  let generation: number | undefined;
  let known = false;
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    if (isDelete(e)) {
      r.deleted = e;
      break;
    }
    let spec = false;
    const before = distance(w, r.values);
    if (isCreate(e)) {
      const snap = index.snapshot(e);
      if (!snap) continue;
      r.values = {};
      for (const p of TRACKED) r.values[p] = field(snap, ...p.split('.'));
      const g = field(snap, 'metadata', 'generation');
      generation = typeof g === 'number' ? g : undefined;
      spec = known = true;
    } else {
      for (const l of index.diff(e)) {
        if (TRACKED.includes(l.path)) r.values[l.path] = diffValue(l.new);
        if (l.path.startsWith('spec.') && subresourceOf(e) !== 'status') spec = true;
        if (l.path === 'status.conditions[type=Progressing].reason' && diffValue(l.new) === 'ProgressDeadlineExceeded') r.deadline = e;
      }
      for (const l of parseDiff(e.attributes[Attr.diffVerbose])) if (l.path === 'metadata.generation') generation = num(diffValue(l.new));
    }
    if (spec) {
      r.lastSpec = e;
      r.completedUs = undefined;
      r.lastProgressUs = e.startUs;
      r.longestStallSec = 0;
    } else if (r.lastSpec && r.completedUs === undefined && distance(w, r.values) < before) {
      r.longestStallSec = Math.max(r.longestStallSec, (e.startUs - r.lastProgressUs) / 1e6);
      r.lastProgressUs = e.startUs;
    }
    if (known && r.lastSpec && r.completedUs === undefined && isComplete(w, r.values, generation)) r.completedUs = e.startUs;
  }
  return known && r.lastSpec ? r : undefined;
}

/**
 * A rollout is stuck when it made no progress (no status write bringing it nearer the spec) for the
 * timeout — as Kubernetes' progressDeadlineSeconds judges it —, not when it merely takes long: a
 * 1,000-replica Deployment created at a few pods a second progresses for minutes and is healthy.
 */
function checkRollout(index: SpanIndex, h: ObjectHistory, w: Workload, endUs: number, timeoutSec: number): Finding | undefined {
  const r = scanRollout(index, h, w);
  if (!r || !statusRecorded(h)) return undefined;
  const { values, lastSpec, completedUs, deadline, deleted } = r;
  const want = w.desired(values) ?? 0;
  const state = Object.fromEntries([['desired', want], ...w.status.map((p) => [p.replace('status.', ''), num(values[p])])]);
  const untilUs = deleted?.startUs ?? endUs;
  const waitedSec = ((completedUs ?? untilUs) - lastSpec!.startUs) / 1e6;
  const stalledSec = completedUs === undefined ? (untilUs - r.lastProgressUs) / 1e6 : r.longestStallSec;
  const specEvents = h.events.filter(
    (e) => isWrite(e) && (isCreate(e) || (index.diff(e).some((l) => l.path.startsWith('spec.')) && subresourceOf(e) !== 'status')),
  );
  const statusEvents = h.events.filter((e) => isWrite(e) && e.startUs >= lastSpec!.startUs && subresourceOf(e) === 'status');
  const base = {
    detector: 'stuck-rollouts',
    objects: [h.ref],
    traceId: lastSpec!.traceId,
    redirect: redirectUrl(h.ref, lastSpec!.startUs),
  };
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  if (completedUs === undefined && (deadline || stalledSec > timeoutSec)) {
    const progress = w.status.map((p) => `${p.replace('status.', '')} ${num(values[p])}/${want}`).join(', ');
    // the stall named only when the rollout progressed for a while first
    const stall = stalledSec < 0.9 * waitedSec ? `, no progress for ${formatSec(stalledSec)}` : '';
    return {
      ...base,
      severity: 'error',
      title: `${refText(h.ref)} has not reached its spec ${formatSec(waitedSec)} after the last change${deadline ? ' (ProgressDeadlineExceeded)' : ''}${stall}: ${progress}${deleted ? ' when it was deleted' : ''}`,
      evidence: [evidenceOf(lastSpec!), ...sampleEvidence(statusEvents.slice(-3), 3), ...(deadline ? [evidenceOf(deadline)] : [])],
      data: { ...state, waitedSec: round3(waitedSec), noProgressSec: round3(stalledSec), thresholdSec: timeoutSec, specChanges: specEvents.length },
    };
  }
  if (completedUs !== undefined && stalledSec > timeoutSec) {
    return {
      ...base,
      severity: 'warning',
      title: `${refText(h.ref)} took ${formatSec(waitedSec)} to reach its spec after the last change, with no progress for ${formatSec(stalledSec)}`,
      evidence: [evidenceOf(lastSpec!), ...sampleEvidence(statusEvents.filter((e) => e.startUs <= completedUs!).slice(-2), 2)],
      data: { ...state, tookSec: round3(waitedSec), noProgressSec: round3(stalledSec), thresholdSec: timeoutSec },
    };
  }
  return undefined;
}

function isComplete(w: Workload, v: Record<string, unknown>, generation: number | undefined): boolean {
  const want = w.desired(v);
  if (want === undefined) return false;
  if (generation !== undefined && v['status.observedGeneration'] !== undefined && num(v['status.observedGeneration']) < generation) return false;
  return w.status.every((p) => num(v[p]) === want) && (!w.done || w.done(v, want));
}

/** Owners whose pod creates were refused (FailedCreate Events, failed pod creates by controllers), by owner key. */
function failedCreates(index: SpanIndex): Map<string, Finding> {
  const byOwner = new Map<string, SpanRecord[]>();
  for (const h of index.objects.values()) {
    for (const e of h.events) {
      const owner =
        isKubeEvent(e) && e.attributes[Attr.eventReason] === 'FailedCreate'
          ? h.key
          : h.ref.resource === 'pods' && isFailed(e) && e.attributes[Attr.verb] === 'create' && [403, 422].includes(Number(e.attributes[Attr.code]))
            ? (index.ownerOf(h.key) ?? h.key)
            : undefined;
      if (!owner) continue;
      let l = byOwner.get(owner);
      if (!l) byOwner.set(owner, (l = []));
      l.push(e);
    }
  }
  const out = new Map<string, Finding>();
  for (const [key, spans] of byOwner) {
    spans.sort((a, b) => a.startUs - b.startUs);
    const ref = index.refOf(key);
    const ev = evidenceOf(spans[0]!);
    const refusal = refusalOf(index, ref.cluster, ref.namespace, spans);
    const f: Finding = {
      detector: 'stuck-rollouts',
      severity: 'error',
      title: `${refText(ref)} could not create pods (${spans.length}×)${ev.message ? `: ${ev.message.slice(0, 160)}` : ''}`,
      objects: [ref],
      evidence: [...(refusal?.write ? [evidenceOf(refusal.write)] : []), ...sampleEvidence(spans, 5)],
      traceId: spans[0]!.traceId,
      redirect: redirectUrl(ref, spans[0]!.startUs),
      data: { failedCreates: spans.length, ...(refusal ? { refusedBy: refusal.by } : {}) },
      chain: [
        `${refText(ref)} could not create pods (${spans.length}× from ${isoOf(spans[0]!.startUs)})`,
        `${actorOf(spans[0]!)}'s creates refused: ${refusal?.message ?? ev.message ?? 'no message'}`,
      ],
    };
    if (refusal?.cause) {
      f.cause = refusal.cause;
      f.actors = [refusal.cause.actor, actorOf(spans[0]!)];
      f.chain!.push(refusal.cause.summary);
    }
    out.set(key, f);
  }
  return out;
}

/** A stuck Deployment whose ReplicaSet's pod creates were refused: that refusal is why (symptom ← refusal ← cause). */
function linkRefusal(index: SpanIndex, f: Finding, refused: Map<string, Finding>): void {
  if (f.severity !== 'error') return;
  const key = [...refused.keys()].find((k) => index.ownerOf(k) === objectKey(f.objects[0]!));
  const r = key ? refused.get(key) : undefined;
  if (!r?.chain) return;
  f.chain = [f.title, ...r.chain];
  if (r.cause) f.cause = r.cause;
}

interface Refusal {
  message: string;
  /** `ResourceQuota demo/q`, `ValidatingAdmissionPolicy p`, … */
  by: string;
  /** The create (or last spec change) of the refusing object before the first refusal. */
  write?: SpanRecord;
  cause?: Cause;
}

const VAP = 'admissionregistration.k8s.io';

/** The object that refused the creates, named by the refusal message; its last write before the first refusal. */
function refusalOf(index: SpanIndex, cluster: string, namespace: string, spans: SpanRecord[]): Refusal | undefined {
  for (const s of spans) {
    const message = evidenceOf(s).message;
    if (!message) continue;
    const quota = /exceeded quota: ([\w.-]+)/.exec(message);
    const vap = /ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied/.exec(message);
    const hook = /admission webhook "([^"]+)" denied/.exec(message);
    const candidates: [string, ObjectHistory | undefined][] = quota
      ? [[`ResourceQuota ${namespace}/${quota[1]}`, index.history(objectKey({ cluster, group: '', resource: 'resourcequotas', namespace, name: quota[1]! }))]]
      : vap
        ? [
            [
              `ValidatingAdmissionPolicy ${vap[1]}`,
              index.history(objectKey({ cluster, group: VAP, resource: 'validatingadmissionpolicies', namespace: '', name: vap[1]! })),
            ],
            [
              `ValidatingAdmissionPolicyBinding ${vap[2]}`,
              index.history(objectKey({ cluster, group: VAP, resource: 'validatingadmissionpolicybindings', namespace: '', name: vap[2]! })),
            ],
          ]
        : hook
          ? webhookConfigs(index, cluster, hook[1]!)
          : [];
    if (!candidates.length) continue;
    const before = spans[0]!.startUs;
    const writes = candidates.flatMap(([by, h]) => (h ? lastSpecWrite(index, h, before) : []).map((w) => [by, w] as const));
    writes.sort((a, b) => a[1].startUs - b[1].startUs);
    const last = writes.at(-1);
    const by = last?.[0] ?? candidates[0]![0];
    if (!last) return { message, by };
    const w = last[1];
    const summary = `${actorOf(w)} ${pastOf(w)} ${by} at ${isoOf(w.startUs)}, which refuses the creates`;
    return { message, by, write: w, cause: writeCause(w, summary, message) };
  }
  return undefined;
}

/** The webhook configurations (validating, mutating) whose create snapshot lists a webhook of that name. */
function webhookConfigs(index: SpanIndex, cluster: string, webhook: string): [string, ObjectHistory][] {
  const out: [string, ObjectHistory][] = [];
  for (const [resource, kind] of [
    ['validatingwebhookconfigurations', 'ValidatingWebhookConfiguration'],
    ['mutatingwebhookconfigurations', 'MutatingWebhookConfiguration'],
  ] as const) {
    for (const h of index.ofResource(VAP, resource)) {
      if (h.ref.cluster !== cluster) continue;
      const names = h.events.flatMap((e) => {
        const hooks = isCreate(e) ? field(index.snapshot(e), 'webhooks') : undefined;
        return Array.isArray(hooks) ? hooks.map((w) => field(w, 'name')) : [];
      });
      if (names.includes(webhook)) out.push([`${kind} ${h.ref.name} (webhook ${webhook})`, h]);
    }
  }
  return out;
}

/** The last create or non-status change of an object before `beforeUs` (else its first one). */
function lastSpecWrite(index: SpanIndex, h: ObjectHistory, beforeUs: number): SpanRecord[] {
  const writes = h.events.filter((e) => isCreate(e) || (isWrite(e) && !isDelete(e) && subresourceOf(e) !== 'status' && index.diff(e).length > 0));
  const w = writes.filter((e) => e.startUs <= beforeUs).at(-1) ?? writes[0];
  return w ? [w] : [];
}
