// Pod startup phases from recorded events (what clusterloader2's PodStartupLatency measures):
// create → scheduled (pods/binding) → running (status.phase Running), per pod, with percentiles
// overall and grouped by namespace, owner and node.
import type { ObjectRef, SpanRecord } from '../../src/core/model.ts';
import { diffValue, field, isBinding, isCreate, isDelete, stats, type SpanIndex, type Stats } from './span-index.ts';
import { isWrite } from '../../src/core/failed.ts';

export interface PodPhases {
  ref: ObjectRef;
  key: string;
  create: SpanRecord;
  /** The binding, or the create itself when the pod was created with spec.nodeName. */
  bind?: SpanRecord;
  /** The first write that set status.phase to Running (or straight to Succeeded/Failed). */
  run?: SpanRecord;
  /** The first delete after the create. */
  del?: SpanRecord;
  node?: string;
  /** Owner object key (owner-reference link), if any. */
  owner?: string;
}

const STARTED = new Set(['Running', 'Succeeded', 'Failed']);

/** One entry per pod incarnation created in the range (a re-created name gives another entry). */
export function podPhases(index: SpanIndex): PodPhases[] {
  return index.memo('podPhases', () => derivePodPhases(index));
}

function derivePodPhases(index: SpanIndex): PodPhases[] {
  const out: PodPhases[] = [];
  for (const h of index.objects.values()) {
    if (h.ref.resource !== 'pods' || h.ref.group !== '') continue;
    let cur: PodPhases | undefined;
    for (const e of h.events) {
      if (isCreate(e)) {
        cur = { ref: h.ref, key: h.key, create: e, owner: index.ownerOf(h.key) };
        const snap = index.snapshot(e);
        const node = field(snap, 'spec', 'nodeName');
        if (typeof node === 'string' && node) {
          cur.bind = e;
          cur.node = node;
        }
        if (STARTED.has(field(snap, 'status', 'phase') as string)) cur.run = e;
        out.push(cur);
        continue;
      }
      if (!cur || cur.del) continue;
      if (isDelete(e)) {
        cur.del = e;
        continue;
      }
      if (!isWrite(e)) continue;
      if (!cur.bind && isBinding(e)) {
        cur.bind = e;
        const l = index.diff(e).find((d) => d.path === 'spec.nodeName');
        const n = l ? diffValue(l.new) : undefined;
        if (typeof n === 'string') cur.node = n;
        continue;
      }
      if (!cur.run) {
        const l = index.diff(e).find((d) => d.path === 'status.phase');
        if (l && STARTED.has(diffValue(l.new) as string)) cur.run = e;
      }
    }
  }
  return out;
}

export interface PhaseStats {
  /** create → binding */
  scheduled: Stats;
  /** binding → Running */
  running: Stats;
  /** create → Running */
  startup: Stats;
}

export interface PodStartupReport extends PhaseStats {
  pods: number;
  /** pods created in the range that never reached Running in it */
  notRunning: number;
  byNamespace: Record<string, PhaseStats>;
  byOwner: Record<string, PhaseStats>;
  byNode: Record<string, PhaseStats>;
  /** the slowest pods (create → Running), seconds */
  slowest: { object: ObjectRef; startupSec: number; scheduledSec?: number; node?: string }[];
}

function phaseStats(pods: PodPhases[]): PhaseStats {
  const sched: number[] = [];
  const run: number[] = [];
  const total: number[] = [];
  for (const p of pods) {
    if (p.bind) sched.push((p.bind.startUs - p.create.startUs) / 1e6);
    if (p.bind && p.run) run.push(Math.max(0, (p.run.startUs - p.bind.startUs) / 1e6));
    if (p.run) total.push((p.run.startUs - p.create.startUs) / 1e6);
  }
  return { scheduled: stats(sched), running: stats(run), startup: stats(total) };
}

function grouped(pods: PodPhases[], keyOf: (p: PodPhases) => string | undefined): Record<string, PhaseStats> {
  const m = new Map<string, PodPhases[]>();
  for (const p of pods) {
    const k = keyOf(p);
    if (k === undefined) continue;
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(p);
  }
  return Object.fromEntries([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, l]) => [k, phaseStats(l)]));
}

export function podStartupReport(pods: PodPhases[]): PodStartupReport {
  const started = pods.filter((p) => p.run).sort((a, b) => b.run!.startUs - b.create.startUs - (a.run!.startUs - a.create.startUs));
  return {
    pods: pods.length,
    notRunning: pods.length - started.length,
    ...phaseStats(pods),
    byNamespace: grouped(pods, (p) => p.ref.namespace),
    byOwner: grouped(pods, (p) => p.owner),
    byNode: grouped(pods, (p) => p.node),
    slowest: started.slice(0, 10).map((p) => ({
      object: p.ref,
      startupSec: Math.round((p.run!.startUs - p.create.startUs) / 1e3) / 1e3,
      ...(p.bind ? { scheduledSec: Math.round((p.bind.startUs - p.create.startUs) / 1e3) / 1e3 } : {}),
      ...(p.node ? { node: p.node } : {}),
    })),
  };
}
