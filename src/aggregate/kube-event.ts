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
  return isRecord(obj) && obj.kind === 'Event' && (obj.apiVersion === 'v1' || obj.apiVersion === 'events.k8s.io/v1' || obj.apiVersion === 'events.k8s.io/v1beta1');
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
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
  const timeUs =
    parseTimeUs(series?.lastObservedTime) ??
    parseTimeUs(obj.lastTimestamp) ??
    parseTimeUs(obj.deprecatedLastTimestamp) ??
    parseTimeUs(obj.eventTime) ??
    parseTimeUs(obj.firstTimestamp) ??
    parseTimeUs(obj.deprecatedFirstTimestamp) ??
    parseTimeUs(md.creationTimestamp);
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
