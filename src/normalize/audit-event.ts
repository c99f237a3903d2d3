// audit.k8s.io/v1 or v1beta1 Event (untrusted JSON) → the fields kubetrail uses, validated,
// or a stable skip reason / a human-readable error. No object content is touched here.
import { isRecord } from '../core/audit-event.ts';
import type { AuditEvent } from '../core/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';
import { isClusterScoped, kindToResource } from '../core/kinds.ts';

/** A bad value in an error message (and so in a log line): JSON, at most 80 characters. */
function quoted(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = `<${typeof v}>`; // too deep or circular
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

export const READ_VERBS = new Set(['get', 'list', 'watch']);

export interface NormalizedAudit {
  auditId: string;
  level: string;
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  /** '' for a generateName create (the name is in the response) and collection requests. */
  name: string;
  uid: string;
  user: string;
  impersonatedBy: string;
  userAgent: string;
  sourceIP: string;
  /** HTTP status code, 0 when the event does not say. */
  code: number;
  /** `<reason>: <message>` of a failed request (code ≥ 300). */
  error?: string;
  startUs: number;
  endUs: number;
  requestObject: unknown;
  responseObject: unknown;
}

export type AuditOutcome = { event: NormalizedAudit } | { skipped: string } | { error: string };

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function normalizeAudit(raw: unknown): AuditOutcome {
  if (!isRecord(raw)) return { error: 'audit event is not a JSON object' };
  const ev = raw as AuditEvent;
  const av = ev.apiVersion;
  if (av !== undefined && av !== 'audit.k8s.io/v1' && av !== 'audit.k8s.io/v1beta1') {
    return { error: `unsupported audit event apiVersion ${quoted(av)} (want audit.k8s.io/v1 or v1beta1)` };
  }
  if (ev.kind !== undefined && ev.kind !== 'Event') return { error: `not an audit Event: kind ${quoted(ev.kind)}` };
  if (typeof ev.auditID !== 'string' || ev.auditID === '') return { error: 'audit event has no auditID' };
  const id = ev.auditID.length > 64 ? `${ev.auditID.slice(0, 64)}…` : ev.auditID; // for messages only
  if (typeof ev.stage !== 'string') return { error: `audit event ${id} has no stage` };
  if (typeof ev.verb !== 'string' || ev.verb === '') return { error: `audit event ${id} has no verb` };
  if (ev.stage !== 'ResponseComplete') return { skipped: 'stage' };
  const ref = ev.objectRef;
  if (!isRecord(ref) || typeof ref.resource !== 'string' || ref.resource === '') return { skipped: 'non-resource' };
  const endUs = parseTimeUs(ev.stageTimestamp) ?? parseTimeUs(ev.metadata?.creationTimestamp) ?? parseTimeUs(ev.timestamp);
  const startUs = parseTimeUs(ev.requestReceivedTimestamp) ?? parseTimeUs(ev.timestamp) ?? endUs;
  if (endUs === undefined || startUs === undefined) return { error: `audit event ${id} has no valid stageTimestamp/requestReceivedTimestamp` };

  const authenticated = str(ev.user?.username);
  const impersonated = str(ev.impersonatedUser?.username);
  const status = isRecord(ev.responseStatus) ? ev.responseStatus : undefined;
  const code = typeof status?.code === 'number' ? status.code : 0;
  let error: string | undefined;
  if (code >= 300) {
    const resp = isRecord(ev.responseObject) && ev.responseObject.kind === 'Status' ? (ev.responseObject as Record<string, unknown>) : undefined;
    const reason = str(status?.reason) || str(resp?.reason) || String(code);
    const message = str(status?.message) || str(resp?.message);
    error = message ? `${reason}: ${message}` : reason;
  }
  return {
    event: {
      auditId: ev.auditID,
      level: str(ev.level),
      verb: ev.verb,
      group: str(ref.apiGroup),
      version: str(ref.apiVersion),
      resource: ref.resource,
      subresource: str(ref.subresource),
      namespace: str(ref.namespace),
      name: str(ref.name),
      uid: str(ref.uid),
      user: impersonated || authenticated,
      impersonatedBy: impersonated ? authenticated : '',
      userAgent: str(ev.userAgent),
      sourceIP: Array.isArray(ev.sourceIPs) ? str(ev.sourceIPs[0]) : '',
      code,
      error,
      startUs,
      endUs,
      requestObject: ev.requestObject,
      responseObject: ev.responseObject,
    },
  };
}

/**
 * The object key an audit event is about (for partitioning a Kafka topic by object), without
 * tracing it: `cluster/group/resource/namespace/name`, the involved object's key for writes of
 * Events, undefined when there is no single object (non-resource, collections).
 */
export function auditObjectKey(raw: unknown, cluster: string): string | undefined {
  if (!isRecord(raw) || !isRecord(raw.objectRef)) return undefined;
  const ref = raw.objectRef as Record<string, unknown>;
  const group = str(ref.apiGroup);
  const resource = str(ref.resource);
  if (!resource) return undefined;
  const body = isRecord(raw.responseObject) ? raw.responseObject : isRecord(raw.requestObject) ? raw.requestObject : undefined;
  if (resource === 'events' && (group === '' || group === 'events.k8s.io') && body) {
    const inv = isRecord(body.regarding) ? body.regarding : isRecord(body.involvedObject) ? body.involvedObject : undefined;
    if (inv && typeof inv.kind === 'string' && typeof inv.name === 'string') {
      const r = kindToResource(inv.apiVersion, inv.kind);
      return `${cluster}/${r.group}/${r.resource}/${isClusterScoped(r.group, r.resource) ? '' : str(inv.namespace)}/${inv.name}`;
    }
  }
  let name = str(ref.name);
  if (!name && body && isRecord(body.metadata)) name = str(body.metadata.name);
  if (!name) return undefined;
  return `${cluster}/${group}/${resource}/${isClusterScoped(group, resource) ? '' : str(ref.namespace)}/${name}`;
}
