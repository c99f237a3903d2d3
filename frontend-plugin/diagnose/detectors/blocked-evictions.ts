// Blocked evictions: a drain (or any evicting actor) whose evictions (`create pods/eviction`) the
// API server keeps answering 429 because a PodDisruptionBudget allows no disruption. One finding
// per (evicting actor, PodDisruptionBudget — else the pods' owner); the cause is the budget's create
// or last spec change. A drain whose refused pods were evicted in the end is information.
import { objectKey, type SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Evidence, Finding } from '../types.ts';
import { evidenceOf, field, formatSec, isCreate, isDelete, isoOf, redirectUrl, refText, sampleEvidence, trackFields, writeCause } from '../span-index.ts';
import type { ObjectHistory, SpanIndex } from '../span-index.ts';
import { codeOf, subresourceOf, actorOf, verbOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

const isEviction = (s: SpanRecord): boolean => verbOf(s) === 'create' && subresourceOf(s) === 'eviction' && s.object.resource === 'pods';
const isRefused = (s: SpanRecord): boolean => isEviction(s) && codeOf(s) === 429;

/** One evicting actor's refused evictions of the pods one budget (or owner) guards. */
interface Blocked {
  actor: string;
  pdb?: ObjectHistory;
  /** the pods' workload (owner of the owner), for the title */
  workload?: string;
  refusals: SpanRecord[];
  /** pod key → the eviction or delete that removed it after its refusals (absent: still there) */
  pods: Map<string, SpanRecord | undefined>;
}

type Labels = Record<string, unknown>;
interface Requirement {
  key?: unknown;
  operator?: unknown;
  values?: unknown;
}

/** Whether a label selector (matchLabels, matchExpressions) selects these labels. */
export function selects(selector: unknown, labels: Labels): boolean {
  const sel = (selector ?? {}) as { matchLabels?: Labels; matchExpressions?: Requirement[] };
  const eq = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  return (
    eq &&
    exprs.every((r) => {
      const has = typeof r.key === 'string' && r.key in labels;
      const inValues = has && Array.isArray(r.values) && r.values.includes(labels[r.key as string]);
      return r.operator === 'In' ? inValues : r.operator === 'NotIn' ? !inValues : r.operator === 'Exists' ? has : r.operator === 'DoesNotExist' ? !has : false;
    })
  );
}

/** An object's create snapshot field (labels, selector), if the record has its create. */
const createField = (index: SpanIndex, h: ObjectHistory | undefined, ...path: string[]): unknown => {
  const c = h?.events.find(isCreate);
  return c ? field(index.snapshot(c), ...path) : undefined;
};

/**
 * The PodDisruptionBudget that refused an eviction (the refusal's message does not name it): of the
 * budgets of the pod's namespace written before it, the one whose selector selects the pod's labels;
 * when the record has not both, the one written last.
 */
function budgetOf(index: SpanIndex, refusal: SpanRecord): ObjectHistory | undefined {
  const o = refusal.object;
  const written = (h: ObjectHistory): number => h.events.filter((e) => isWrite(e) && e.startUs <= refusal.startUs).at(-1)?.startUs ?? -Infinity;
  const budgets = index
    .ofResource('policy', 'poddisruptionbudgets')
    .filter((h) => h.ref.cluster === o.cluster && h.ref.namespace === o.namespace && written(h) > -Infinity)
    .sort((a, b) => written(b) - written(a));
  const labels = createField(index, index.history(objectKey(o)), 'metadata', 'labels');
  if (labels && typeof labels === 'object') {
    const match = budgets.find((b) => {
      const sel = createField(index, b, 'spec', 'selector');
      return sel !== undefined && selects(sel, labels as Labels);
    });
    if (match) return match;
  }
  return budgets[0];
}

/** `Deployment ns/web` of a pod (its owner's owner, else its owner), if the record links it. */
function workloadOf(index: SpanIndex, podKey: string): string | undefined {
  const owner = index.ownerOf(podKey);
  if (!owner) return undefined;
  return refText(index.refOf(index.ownerOf(owner) ?? owner));
}

/** What removed the pod after its last refused eviction: a successful eviction or a delete. */
function removedAfter(index: SpanIndex, podKey: string, us: number): SpanRecord | undefined {
  return index.history(podKey)?.events.find((e) => e.startUs > us && isWrite(e) && ((isEviction(e) && codeOf(e) < 300) || isDelete(e)));
}

function groupRefusals(index: SpanIndex, refusals: SpanRecord[]): Blocked[] {
  const groups = new Map<string, Blocked>();
  for (const r of refusals) {
    const podKey = objectKey(r.object);
    const pdb = budgetOf(index, r);
    const workload = workloadOf(index, podKey);
    const key = `${actorOf(r)}|${pdb?.key ?? workload ?? `${r.object.cluster}/${r.object.namespace}`}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { actor: actorOf(r), refusals: [], pods: new Map(), ...(pdb ? { pdb } : {}), ...(workload ? { workload } : {}) }));
    g.refusals.push(r);
    g.pods.set(podKey, undefined);
  }
  for (const g of groups.values()) {
    for (const podKey of g.pods.keys()) {
      const last = g.refusals.filter((r) => objectKey(r.object) === podKey).at(-1)!;
      g.pods.set(podKey, removedAfter(index, podKey, last.startUs));
    }
  }
  return [...groups.values()];
}

/** The budget's create or last spec change before the first refusal: who set the limit. */
function budgetWrite(index: SpanIndex, pdb: ObjectHistory, beforeUs: number): SpanRecord | undefined {
  return pdb.events
    .filter((e) => e.startUs <= beforeUs && (isCreate(e) || (isWrite(e) && subresourceOf(e) === '' && index.diff(e).some((l) => l.path.startsWith('spec.')))))
    .at(-1);
}

/** `allows 0 disruptions` from the budget's status when the record has it, else the budget's spec. */
function budgetState(index: SpanIndex, pdb: ObjectHistory, us: number): string {
  const rows = trackFields(index, pdb, ['status.disruptionsAllowed', 'spec.minAvailable', 'spec.maxUnavailable']).filter((r) => r.span.startUs <= us);
  const v = rows.at(-1)?.values ?? {};
  if (typeof v['status.disruptionsAllowed'] === 'number') return `allows ${v['status.disruptionsAllowed']} disruptions`;
  if (v['spec.minAvailable'] !== undefined) return `requires minAvailable ${String(v['spec.minAvailable'])}`;
  if (v['spec.maxUnavailable'] !== undefined) return `allows maxUnavailable ${String(v['spec.maxUnavailable'])}`;
  return 'refuses the evictions';
}

function finding(index: SpanIndex, g: Blocked, endUs: number, timeoutSec: number): Finding {
  const first = g.refusals[0]!;
  const last = g.refusals.at(-1)!;
  const done = [...g.pods.values()];
  const through = done.every((d) => d !== undefined);
  const untilUs = through ? Math.max(...done.map((d) => d!.startUs)) : endUs;
  const sec = (untilUs - first.startUs) / 1e6;
  const severity = !through && sec >= timeoutSec ? 'warning' : 'info';
  const n = g.pods.size;
  const pods = `${n} pod${n === 1 ? '' : 's'} ${g.workload ? `of ${g.workload}` : `in ${first.object.namespace}`}`;
  const state = g.pdb ? budgetState(index, g.pdb, last.startUs) : '';
  const blocker = g.pdb ? `PodDisruptionBudget ${g.pdb.ref.namespace}/${g.pdb.ref.name} ${state}` : 'a PodDisruptionBudget refuses them';
  const refusal = evidenceOf(last).message ?? 'Cannot evict pod as it would violate the pod’s disruption budget.';
  const title = through
    ? `${g.actor}'s evictions of ${pods} were refused for ${formatSec(sec)} before they went through: ${blocker}`
    : `${g.actor} could not evict ${pods} for ${formatSec(sec)}: ${blocker}`;
  const write = g.pdb ? budgetWrite(index, g.pdb, first.startUs) : undefined;
  const evidence: Evidence[] = [...(write ? [evidenceOf(write)] : []), ...sampleEvidence(g.refusals, 4)];
  for (const d of done) if (d) evidence.push(evidenceOf(d));
  const podKeys = [...g.pods.keys()];
  const nodes = [...new Set(podKeys.flatMap((k) => index.parentsOf(k, 'node')))].map((k) => index.refOf(k));
  const chain = [
    `${g.refusals.length} evictions by ${g.actor} answered 429 from ${isoOf(first.startUs)} to ${isoOf(last.startUs)}${through ? '' : ', never evicted'}`,
    blocker,
  ];
  const f: Finding = {
    detector: 'blocked-evictions',
    severity,
    title,
    objects: [...(g.pdb ? [g.pdb.ref] : []), ...podKeys.slice(0, 9).map((k) => index.refOf(k)), ...nodes.slice(0, 3)],
    actors: [...new Set([...(write ? [actorOf(write)] : []), g.actor])],
    evidence,
    traceId: first.traceId,
    redirect: redirectUrl(first.object, first.startUs),
    chain,
    data: { refused: g.refusals.length, pods: n, blockedSec: Math.round(sec * 1000) / 1000, wentThrough: through, timeoutSec, refusal },
  };
  if (write) {
    f.cause = writeCause(
      write,
      `${actorOf(write)} ${verbOf(write) === 'create' ? 'created' : 'changed'} ${refText(write.object)} (${state}), which refused the evictions`,
      refusal,
    );
    chain.push(`${actorOf(write)} ${verbOf(write) === 'create' ? 'created' : 'changed the spec of'} the budget at ${isoOf(write.startUs)}`);
  }
  return f;
}

export const blockedEvictions: Detector = {
  name: 'blocked-evictions',
  description: 'evictions (a drain) refused with 429 by a PodDisruptionBudget: who could not evict which pods, for how long, and who wrote the budget',
  detect({ spans, index, endUs, thresholds }) {
    const refusals = spans.filter(isRefused);
    if (!refusals.length) return [];
    return groupRefusals(index, refusals).map((g) => finding(index, g, endUs, thresholds.evictionBlockTimeoutSec));
  },
};
