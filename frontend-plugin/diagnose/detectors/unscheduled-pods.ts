// Pods that never schedule (no pods/binding within a threshold; the FailedScheduling Events say
// why) or are bound but never Running. One finding per owner (or per pod without one).
import { Attr, objectKey, type ObjectRef, type SpanRecord } from '../../../src/core/model.ts';
import type { Cause, Detector, Finding } from '../types.ts';
import { podPhases, type PodPhases } from '../pod-startup.ts';
import {
  diffValue,
  evidenceOf,
  field,
  formatSec,
  isCreate,
  isoOf,
  isRoutine,
  pastOf,
  redirectUrl,
  refText,
  statusRecorded,
  writeCause,
} from '../span-index.ts';
import type { SpanIndex } from '../span-index.ts';
import { isKubeEvent, subresourceOf, actorOf } from '../../../src/core/span-view.ts';
import { isWrite } from '../../../src/core/failed.ts';

export const unscheduledPods: Detector = {
  name: 'unscheduled-pods',
  description: 'pods without a pods/binding within a threshold, or bound but never Running',
  detect({ index, endUs, thresholds: t }) {
    const unscheduled = new Map<string, { pod: PodPhases; waitedSec: number }[]>();
    const notRunning = new Map<string, { pod: PodPhases; waitedSec: number }[]>();
    for (const p of podPhases(index)) {
      const h = index.history(p.key);
      if (!p.run && h && !statusRecorded(h)) continue;
      const until = p.del?.startUs ?? endUs;
      const group = p.owner ?? p.key;
      if (!p.bind) {
        const waited = (until - p.create.startUs) / 1e6;
        if (waited > t.scheduleTimeoutSec) add(unscheduled, group, { pod: p, waitedSec: waited });
      } else if (!p.run) {
        const waited = (until - p.bind.startUs) / 1e6;
        if (waited > t.runTimeoutSec) add(notRunning, group, { pod: p, waitedSec: waited });
      }
    }
    const out: Finding[] = [];
    for (const [kind, groups] of [
      ['unscheduled', unscheduled],
      ['not running', notRunning],
    ] as const) {
      for (const [groupKey, pods] of groups) {
        pods.sort((a, b) => b.waitedSec - a.waitedSec);
        const owner = index.objects.get(groupKey)?.ref ?? (pods[0]!.pod.key === groupKey ? pods[0]!.pod.ref : index.refOf(groupKey));
        const isOwner = pods[0]!.pod.key !== groupKey;
        const messages = new Map<string, SpanRecord>();
        for (const { pod } of pods) {
          for (const e of index.history(pod.key)?.events ?? []) {
            // Event times have whole seconds (lastTimestamp): one in the second of the create counts
            if (!isKubeEvent(e) || e.startUs < pod.create.startUs - 1e6) continue;
            const reason = String(e.attributes[Attr.eventReason] ?? '');
            if (kind === 'unscheduled' ? reason !== 'FailedScheduling' : e.attributes[Attr.eventType] !== 'Warning') continue;
            const m = String(e.attributes[Attr.eventMessage] ?? '');
            if (!messages.has(m)) messages.set(m, e);
          }
        }
        const what =
          kind === 'unscheduled'
            ? `never scheduled (no binding after ${formatSec(pods[0]!.waitedSec)})`
            : `bound but never Running (after ${formatSec(pods[0]!.waitedSec)})`;
        const title = isOwner
          ? `${pods.length} pod${pods.length === 1 ? '' : 's'} of ${refText(owner)} ${pods.length === 1 ? 'was' : 'were'} ${what}`
          : `${refText(owner)} was ${what}`;
        const first = pods[0]!.pod;
        const objects: ObjectRef[] = isOwner ? [owner, ...pods.slice(0, 9).map((p) => p.pod.ref)] : [owner];
        const evidence = [
          ...pods.slice(0, 5).map((p) => evidenceOf(kind === 'unscheduled' ? p.pod.create : p.pod.bind!)),
          ...[...messages.values()].slice(0, 3).map((e) => evidenceOf(e)),
        ];
        const why = kind === 'unscheduled' ? scheduleCause(index, first, owner, [...messages.keys()][0]) : undefined;
        out.push({
          ...why,
          detector: 'unscheduled-pods',
          severity: 'error',
          title: messages.size && kind === 'unscheduled' ? `${title}: ${firstLine([...messages.keys()][0]!)}` : title,
          objects,
          evidence,
          traceId: first.create.traceId,
          redirect: redirectUrl(first.ref, (kind === 'unscheduled' ? first.create : first.bind!).startUs),
          data: {
            problem: kind,
            pods: pods.length,
            maxWaitSec: Math.round(pods[0]!.waitedSec * 1000) / 1000,
            thresholdSec: kind === 'unscheduled' ? t.scheduleTimeoutSec : t.runTimeoutSec,
            ...(messages.size ? { messages: [...messages.keys()].slice(0, 5) } : {}),
            ...(isOwner ? { owner: objectKey(owner) } : {}),
          },
        });
      }
    }
    return out;
  },
};

function add<T>(m: Map<string, T[]>, k: string, v: T): void {
  let l = m.get(k);
  if (!l) m.set(k, (l = []));
  l.push(v);
}

const firstLine = (s: string): string => (s.length > 160 ? `${s.slice(0, 157)}…` : s).split('\n')[0]!;

/** Pod template paths (of a workload; a bare pod's without `template.`) that constrain scheduling, by the scheduler's reason. */
const CONSTRAINTS: [RegExp, string, string[]][] = [
  [/affinity\/selector|node selector|node affinity/i, 'node selector', ['nodeSelector', 'affinity']],
  [/Insufficient/i, 'resource', ['containers']],
  [/untolerated taint|taint/i, 'tolerations', ['tolerations']],
];

/**
 * Why pods stay unscheduled: the last write of the pod template (the top owner's create or spec
 * change by someone other than a built-in controller) before the first pod, with the constraint
 * the scheduler names; a taint added to a node after that write is the cause instead.
 */
function scheduleCause(index: SpanIndex, pod: PodPhases, owner: ObjectRef, message: string | undefined): Pick<Finding, 'cause' | 'chain'> {
  const chain = [
    `pods of ${refText(owner)} Pending since ${isoOf(pod.create.startUs)}`,
    message ? `scheduler: "${firstLine(message)}"` : 'scheduler: no FailedScheduling Event in the range',
  ];
  const c = message ? CONSTRAINTS.find(([re]) => re.test(message)) : undefined;
  const w = templateWrite(index, pod);
  let cause: Cause | undefined;
  if (w) {
    // without the scheduler's reason: every scheduling constraint written
    const facts = constraintFacts(index, w.span, w.prefix, c?.[2] ?? ['nodeSelector', 'affinity', 'tolerations', 'containers']);
    const what = `${actorOf(w.span)} ${pastOf(w.span)} ${refText(w.span.object)}${facts ? ` with ${c?.[1] ?? 'scheduling constraints'} ${facts}` : ''} at ${isoOf(w.span.startUs)}`;
    chain.push(what);
    cause = writeCause(w.span, what, message);
  }
  const taint = c?.[1] === 'tolerations' ? taintWrite(index, message!) : undefined;
  if (taint) {
    const what = `${actorOf(taint)} ${pastOf(taint)} ${refText(taint.object)} adding a taint at ${isoOf(taint.startUs)}`;
    chain.push(what);
    if (!w || taint.startUs > w.span.startUs) cause = writeCause(taint, what, message);
  }
  return cause ? { cause, chain } : { chain };
}

/** The pod's top owner whose template was written by someone other than a built-in controller, and that write. */
function templateWrite(index: SpanIndex, pod: PodPhases): { span: SpanRecord; prefix: string } | undefined {
  const keys = [pod.key];
  for (let k = index.ownerOf(pod.key); k && keys.length < 6 && !keys.includes(k); k = index.ownerOf(k)) keys.push(k);
  for (const key of keys.reverse()) {
    const prefix = key === pod.key ? 'spec' : 'spec.template.spec';
    const writes = (index.history(key)?.events ?? []).filter(
      (e) =>
        e.startUs <= pod.create.startUs &&
        !isRoutine(e) &&
        (isCreate(e) || (isWrite(e) && subresourceOf(e) === '' && index.diff(e).some((l) => l.path.startsWith(prefix)))),
    );
    const last = writes.at(-1);
    if (last) return { span: last, prefix };
  }
  return undefined;
}

/** The constraint's values as written (`{"disktype":"ssd"}`, `cpu 64`), from the create snapshot or the diff. */
function constraintFacts(index: SpanIndex, w: SpanRecord, prefix: string, keys: string[]): string {
  const facts: string[] = [];
  if (isCreate(w)) {
    const spec = field(index.snapshot(w), ...prefix.split('.'));
    for (const k of keys) {
      const v = field(spec, k);
      if (v === undefined) continue;
      const texts = k === 'containers' && Array.isArray(v) ? v.map((c) => JSON.stringify(field(c, 'resources', 'requests') ?? {})) : [JSON.stringify(v)];
      facts.push(...texts.filter((t) => t !== '{}' && t !== '[]').map((t) => (k === 'containers' ? `requests ${t}` : t)));
    }
  } else {
    for (const l of index.diff(w)) if (keys.some((k) => l.path.startsWith(`${prefix}.${k}`))) facts.push(`${l.path.slice(prefix.length + 1)}=${l.new}`);
  }
  return facts.slice(0, 3).join(', ');
}

/** The last write that added a taint with the key the scheduler names (`{key: value}`) to a node. */
function taintWrite(index: SpanIndex, message: string): SpanRecord | undefined {
  const key = /untolerated taint\(?s?\)? ?\{([^:}]+)/.exec(message)?.[1]?.trim();
  let found: SpanRecord | undefined;
  for (const h of index.ofResource('', 'nodes'))
    for (const e of h.events) {
      if (!isWrite(e) || isCreate(e)) continue;
      const added = index.diff(e).some((l) => l.path.startsWith('spec.taints') && JSON.stringify(diffValue(l.new) ?? '').includes(key ?? '"key"'));
      if (added && (!found || e.startUs > found.startUs)) found = e;
    }
  return found;
}
