// A Kubernetes Event (core/v1 or events.k8s.io/v1) → one event span on the object it is about,
// per occurrence: the span ID is derived from `event/<event uid>/<count>`, so count 1 → 2 adds
// one span and a redelivery (informer resync, audit replay) adds none.
import { Attr } from '../core/model.ts';
import type { AttrValue } from '../core/model.ts';
import { isRecord } from '../core/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';
import type { EventInput } from './span-builder.ts';
import { kindToResource } from '../core/kinds.ts';

export function isKubeEvent(obj: unknown): boolean {
  return (
    isRecord(obj) && obj.kind === 'Event' && (obj.apiVersion === 'v1' || obj.apiVersion === 'events.k8s.io/v1' || obj.apiVersion === 'events.k8s.io/v1beta1')
  );
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Events of the same second in causal order. core/v1 timestamps (lastTimestamp, firstTimestamp)
 * have whole seconds, so two Events of one second would tie (and show in any order). When the
 * time has no fraction: the Event's own eventTime (microseconds) if it falls in that second, else
 * the Event's resourceVersion (an etcd revision: later writes have higher ones) modulo 10^6 as
 * microseconds. The span stays in its second (and window); its ID does not depend on the time.
 */
function inSecond(timeUs: number, text: string, eventTime: unknown, resourceVersion: unknown): number {
  if (/^[^.]*\.\d/.test(text)) return timeUs; // already sub-second (MicroTime)
  const micro = parseTimeUs(eventTime);
  if (micro !== undefined && Math.floor(micro / 1e6) * 1e6 === timeUs) return micro;
  const rv = typeof resourceVersion === 'string' && /^\d{1,15}$/.test(resourceVersion) ? Number(resourceVersion) : undefined;
  return rv === undefined ? timeUs : timeUs + (rv % 1_000_000);
}

/** The span input of a Kubernetes Event, or an error message for a malformed one. */
export function kubeEventInput(obj: unknown, cluster: string): EventInput | string {
  if (!isRecord(obj)) return 'Kubernetes Event is not an object';
  const newApi = typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('events.k8s.io/');
  const regarding = newApi ? (obj.regarding ?? obj.involvedObject) : (obj.involvedObject ?? obj.regarding);
  if (!isRecord(regarding)) return `Event has no ${newApi ? 'regarding' : 'involvedObject'}`;
  const { group, version, resource } = kindToResource(regarding.apiVersion, regarding.kind);
  const name = str(regarding.name);
  if (!resource || !name) return 'Event involved object has no kind or name';
  const md = isRecord(obj.metadata) ? obj.metadata : {};
  const series = isRecord(obj.series) ? obj.series : undefined;
  const deprecatedSource = isRecord(obj.deprecatedSource) ? obj.deprecatedSource : undefined;
  const source = isRecord(obj.source) ? obj.source : undefined;
  const count = Math.max(num(series?.count) ?? 0, num(obj.count) ?? 0, num(obj.deprecatedCount) ?? 0, 1);
  const reason = str(obj.reason);
  const message = newApi ? str(obj.note) || str(obj.message) : str(obj.message) || str(obj.note);
  const component = str(obj.reportingController) || str(obj.reportingComponent) || str(source?.component) || str(deprecatedSource?.component);
  const when = [
    series?.lastObservedTime,
    obj.lastTimestamp,
    obj.deprecatedLastTimestamp,
    obj.eventTime,
    obj.firstTimestamp,
    obj.deprecatedFirstTimestamp,
    md.creationTimestamp,
  ].find((t) => parseTimeUs(t) !== undefined);
  const timeUs = when === undefined ? undefined : inSecond(parseTimeUs(when)!, when as string, obj.eventTime, md.resourceVersion);
  if (timeUs === undefined) return 'Event has no timestamp (lastTimestamp, eventTime, series.lastObservedTime)';
  const eventUid = str(md.uid) || `${str(md.namespace)}/${str(md.name)}`;
  const attributes: Record<string, AttrValue> = {
    [Attr.source]: 'event',
    [Attr.eventReason]: reason,
    [Attr.eventMessage]: message,
    [Attr.eventType]: str(obj.type),
    [Attr.eventComponent]: component,
    [Attr.eventCount]: count,
  };
  return {
    ref: { cluster, group, resource, namespace: str(regarding.namespace), name },
    version,
    uid: str(regarding.uid) || undefined,
    eventId: `event/${eventUid}/${count}`,
    name: `event ${reason}`,
    startUs: timeUs,
    endUs: timeUs,
    attributes,
    links: [],
  };
}
