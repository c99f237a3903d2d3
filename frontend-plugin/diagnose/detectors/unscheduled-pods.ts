// Pods that never schedule (no pods/binding within a threshold; the FailedScheduling Events say
// why) or are bound but never Running. One finding per owner (or per pod without one).
import { Attr, objectKey, type ObjectRef, type SpanRecord } from '../../../src/core/model.ts';
import type { Detector, Finding } from '../types.ts';
import { podPhases, type PodPhases } from '../pod-startup.ts';
import { evidenceOf, formatSec, isKubeEvent, redirectUrl, refText } from '../span-index.ts';

export const unscheduledPods: Detector = {
  name: 'unscheduled-pods',
  description: 'pods without a pods/binding within a threshold, or bound but never Running',
  detect({ index, endUs, thresholds: t }) {
    const unscheduled = new Map<string, { pod: PodPhases; waitedSec: number }[]>();
    const notRunning = new Map<string, { pod: PodPhases; waitedSec: number }[]>();
    for (const p of podPhases(index)) {
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
        out.push({
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
