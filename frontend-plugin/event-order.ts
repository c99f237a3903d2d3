// Kubernetes Events in causal order with the writes they report. A core/v1 Event has whole-second
// time (the write path keeps it in its second, ordered among Events by resourceVersion), so an
// Event can show before the write it reports that happened later in the same second. The read
// side places such an Event 1 µs after the latest write it names in its second: ScalingReplicaSet
// (on a Deployment: "Scaled up replica set X …") after the create or spec.replicas change of
// ReplicaSet X, Scheduled (on a pod) after its pods/binding. Applied to the writes at hand: the
// objects of an assembled trace (UI, Jaeger JSON) and the spans of a diagnosis range, alike.
import { isWrite } from '../src/core/failed.ts';
import { Attr, objectKey, type SpanRecord } from '../src/core/model.ts';
import { isKubeEvent, subresourceOf as sub } from '../src/core/span-view.ts';

const SECOND = 1e6;
/** How far before the write it reports a Kubernetes Event's whole-second time can lie (µs). */
export const KUBE_EVENT_EARLY_US = SECOND;

interface Reported {
  key: string;
  matches: (w: SpanRecord) => boolean;
}

const changesReplicas = (s: SpanRecord): boolean => /(^|\n)spec\.replicas /.test(String(s.attributes[Attr.diff] ?? ''));

/** The write a Kubernetes Event reports (its object and which of its writes), if it is one we know. */
function reportedWrite(e: SpanRecord): Reported | undefined {
  const a = e.attributes;
  if (!isKubeEvent(e)) return undefined;
  const reason = a[Attr.eventReason];
  if (reason === 'ScalingReplicaSet' && e.object.group === 'apps' && e.object.resource === 'deployments') {
    const name = /replica set ([a-z0-9][-a-z0-9.]*[a-z0-9])/.exec(String(a[Attr.eventMessage] ?? ''))?.[1];
    if (!name) return undefined;
    return {
      key: objectKey({ ...e.object, resource: 'replicasets', name }),
      matches: (w) => sub(w) === '' && (w.attributes[Attr.verb] === 'create' || changesReplicas(w)),
    };
  }
  if (reason === 'Scheduled' && e.object.group === '' && e.object.resource === 'pods')
    return { key: objectKey(e.object), matches: (w) => sub(w) === 'binding' };
  return undefined;
}

/**
 * New start times of the Kubernetes Events among `spans` that would show before the write they
 * report (the latest such write in the Event's second); `spans` holds the writes of any objects.
 */
export function kubeEventPlacement(spans: readonly SpanRecord[]): Map<SpanRecord, number> {
  const wanted = new Map<SpanRecord, Reported>();
  const keys = new Set<string>();
  for (const s of spans) {
    const r = reportedWrite(s);
    if (!r) continue;
    wanted.set(s, r);
    keys.add(r.key);
  }
  const out = new Map<SpanRecord, number>();
  if (!wanted.size) return out;
  const writes = new Map<string, SpanRecord[]>();
  // the spans of one object mostly share one ObjectRef: its key is worked out once
  let lastRef: SpanRecord['object'] | undefined;
  let k = '';
  for (const s of spans) {
    if (s.object !== lastRef) {
      lastRef = s.object;
      k = objectKey(s.object);
    }
    if (!keys.has(k) || !isWrite(s)) continue;
    let l = writes.get(k);
    if (!l) writes.set(k, (l = []));
    l.push(s);
  }
  for (const [e, r] of wanted) {
    const second = Math.floor(e.startUs / SECOND) * SECOND;
    let latest = -Infinity;
    for (const w of writes.get(r.key) ?? []) if (w.startUs >= second && w.startUs < second + SECOND && w.startUs > latest && r.matches(w)) latest = w.startUs;
    if (latest >= e.startUs && latest + 1 < second + SECOND) out.set(e, latest + 1);
  }
  return out;
}

/** `spans` with each Kubernetes Event placed after the write it reports (moved ones copied, not changed). */
export function placeKubeEvents<T extends SpanRecord>(spans: T[]): T[] {
  const moved = kubeEventPlacement(spans);
  if (!moved.size) return spans;
  return spans.map((s) => {
    const t = moved.get(s);
    return t === undefined ? s : { ...s, startUs: t, endUs: t };
  });
}

/**
 * `placeKubeEvents` for a range that starts at `startUs`, given the spans from `startUs` −
 * `KUBE_EVENT_EARLY_US` on: a write before the start is left out; a Kubernetes Event is kept when
 * it is placed at or after the start (after a write of the range it reports), or, not placed, when
 * its whole second reaches into the range (it may have happened there, as the range's first writes).
 */
export function placeKubeEventsFrom<T extends SpanRecord>(spans: T[], startUs: number): T[] {
  const moved = kubeEventPlacement(spans);
  const out: T[] = [];
  for (const s of spans) {
    const t = moved.get(s);
    if (t !== undefined) {
      if (t >= startUs) out.push({ ...s, startUs: t, endUs: t });
    } else if (s.kind !== 'event' || s.startUs >= startUs || (isKubeEvent(s) && s.startUs + SECOND > startUs)) out.push(s);
  }
  return out;
}
