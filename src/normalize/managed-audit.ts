// Audit exports of managed clusters, turned into audit.k8s.io/v1 Events for `kubetrail replay`.
// Detected per record (a line, or an element of a JSON document); docs/usage.md lists the fields used.
//
// - GKE: Cloud Logging LogEntry whose protoPayload is a google.cloud.audit.AuditLog of service
//   `k8s.io` (gcloud logging read --format=json, or a Log Router sink to Cloud Storage). Mapped
//   field by field; what the AuditLog does not carry (user groups, impersonation, the original
//   auditID) is absent, and insertId stands in for the auditID.
// - EKS: CloudWatch Logs records of a `kube-apiserver-audit-*` stream, whose `message` is the
//   audit event JSON: single log events ({timestamp, message}), `aws logs filter-log-events` /
//   `get-log-events` output ({events: [...]}), subscription payloads ({messageType, logEvents: [...]}),
//   Logs Insights rows (`@message`); and S3 export lines `<ISO time> <message>` (see stripExportTime).
// - AKS: Azure Monitor diagnostic records of category kube-audit / kube-audit-admin, whose
//   `properties.log` is the audit event JSON, one per line or wrapped in {records: [...]};
//   Log Analytics AzureDiagnostics rows (`log_s`) and AKSAudit / AKSAuditAdmin table rows.
// A record that has one of these shapes but cannot be mapped yields an error saying why.
import { isRecord } from '../core/audit-event.ts';

export type Unwrapped = { event: unknown } | { error: string };

const AUDIT_LOG_TYPE = 'type.googleapis.com/google.cloud.audit.AuditLog';

/**
 * The audit events a managed-cluster export record holds (or why it cannot be mapped);
 * undefined when `v` is none of these shapes (then it is read as it is).
 */
export function unwrapManagedAudit(v: unknown): Unwrapped[] | undefined {
  if (!isRecord(v)) return undefined;
  if (isRecord(v.protoPayload)) return [fromGke(v, v.protoPayload)];
  if (v.kind !== undefined || typeof v.auditID === 'string') return undefined; // an audit or core Event itself
  if (Array.isArray(v.logEvents)) {
    // CloudWatch Logs subscription payload (Kinesis, Firehose, Lambda); CONTROL_MESSAGE carries no data
    if (v.messageType === 'CONTROL_MESSAGE') return [];
    if (typeof v.logStream === 'string' && !isAuditStream(v.logStream)) {
      return [{ error: `CloudWatch log stream ${JSON.stringify(v.logStream)} is not a kube-apiserver-audit stream` }];
    }
    return v.logEvents.flatMap((e) => fromCloudWatchEvent(e));
  }
  if (Array.isArray(v.events) && v.events.some((e) => isRecord(e) && typeof e.message === 'string')) {
    return v.events.flatMap((e) => fromCloudWatchEvent(e)); // aws logs filter-log-events / get-log-events
  }
  if (typeof v.message === 'string' || typeof v['@message'] === 'string') return fromCloudWatchEvent(v);
  if (Array.isArray(v.records)) return v.records.flatMap((r) => unwrapManagedAudit(r) ?? [{ error: 'an Azure diagnostic record without properties.log' }]);
  if ((isRecord(v.properties) && 'log' in v.properties) || typeof v.log_s === 'string') return [fromAks(v)];
  if (v.Type === 'AKSAudit' || v.Type === 'AKSAuditAdmin' || (typeof v.AuditId === 'string' && typeof v.Verb === 'string')) return [fromAksTable(v)];
  return undefined;
}

// ---- EKS (CloudWatch Logs) -------------------------------------------------------------------

const isAuditStream = (s: string) => s.startsWith('kube-apiserver-audit');

function fromCloudWatchEvent(e: unknown): Unwrapped[] {
  if (!isRecord(e)) return [{ error: 'a CloudWatch log event that is not an object' }];
  const stream = typeof e.logStreamName === 'string' ? e.logStreamName : typeof e['@logStream'] === 'string' ? e['@logStream'] : undefined;
  if (stream !== undefined && !isAuditStream(stream)) {
    return [{ error: `CloudWatch log stream ${JSON.stringify(stream)} is not a kube-apiserver-audit stream` }];
  }
  const message = typeof e.message === 'string' ? e.message : e['@message'];
  if (typeof message !== 'string') return [{ error: 'a CloudWatch log event without a message' }];
  return [parseEmbedded(message, 'CloudWatch message')];
}

/** An audit event carried as a JSON string (EKS `message`, AKS `properties.log`). */
function parseEmbedded(text: string, where: string): Unwrapped {
  let ev: unknown;
  try {
    ev = JSON.parse(text);
  } catch (e) {
    return { error: `${where} is not JSON (${(e as Error).message}): not an audit log stream?` };
  }
  if (!isRecord(ev) || typeof ev.auditID !== 'string') return { error: `${where} holds no audit event (no auditID)` };
  return { event: ev };
}

/**
 * A line of a CloudWatch Logs export to S3 (`aws logs create-export-task`): `<ISO time> <message>`.
 * Returns the message when the line has that shape, else undefined.
 */
export function stripExportTime(line: string): string | undefined {
  const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z (\{.*)$/s.exec(line);
  return m ? m[1] : undefined;
}

// ---- AKS (Azure Monitor diagnostic logs) -----------------------------------------------------

const AKS_AUDIT_CATEGORIES = new Set(['kube-audit', 'kube-audit-admin']);

function fromAks(r: Record<string, unknown>): Unwrapped {
  const category = typeof r.category === 'string' ? r.category : typeof r.Category === 'string' ? r.Category : undefined;
  if (category !== undefined && !AKS_AUDIT_CATEGORIES.has(category.toLowerCase())) {
    return { error: `Azure diagnostic category ${JSON.stringify(category)} is not kube-audit or kube-audit-admin` };
  }
  const log = isRecord(r.properties) ? r.properties.log : r.log_s;
  if (typeof log !== 'string') return { error: 'Azure diagnostic record: properties.log is not a string' };
  return parseEmbedded(log, 'Azure properties.log');
}

/** A Log Analytics `dynamic` column: an object, or (az monitor log-analytics query) its JSON text. */
function dynamic(v: unknown): unknown {
  if (typeof v !== 'string' || !/^\s*[[{]/.test(v)) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/**
 * A row of the resource-specific Log Analytics tables AKSAudit / AKSAuditAdmin: the audit event's
 * fields as columns (AuditId, Verb, ObjectRef, …). Request/response objects the table stored as
 * "skipped-too-big-size-object" are left out.
 */
function fromAksTable(r: Record<string, unknown>): Unwrapped {
  const auditID = str(r.AuditId);
  if (!auditID) return { error: 'AKSAudit row without AuditId' };
  const verb = str(r.Verb);
  if (!verb) return { error: `AKSAudit row ${auditID.slice(0, 64)} without Verb` };
  const object = (v: unknown) => {
    const o = dynamic(v);
    return isRecord(o) ? o : undefined;
  };
  const event: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: str(r.Level),
    auditID,
    stage: str(r.Stage),
    requestURI: str(r.RequestUri),
    verb,
    user: object(r.User),
    sourceIPs: Array.isArray(dynamic(r.SourceIps)) ? dynamic(r.SourceIps) : undefined,
    userAgent: str(r.UserAgent),
    objectRef: object(r.ObjectRef),
    responseStatus: object(r.ResponseStatus),
    requestObject: object(r.RequestObject),
    responseObject: object(r.ResponseObject),
    requestReceivedTimestamp: str(r.RequestReceivedTime),
    stageTimestamp: str(r.StageReceivedTime) ?? str(r.TimeGenerated),
    annotations: object(r.Annotations),
  };
  return { event: Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)) };
}

// ---- GKE (Cloud Logging, Cloud Audit Logs) ---------------------------------------------------

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** google.rpc.Code → the HTTP status and Status reason the API server would have answered. */
const GRPC_TO_HTTP: Record<number, [number, string]> = {
  1: [499, 'Canceled'],
  2: [500, 'InternalError'],
  3: [400, 'BadRequest'],
  4: [504, 'Timeout'],
  5: [404, 'NotFound'],
  6: [409, 'AlreadyExists'],
  7: [403, 'Forbidden'],
  8: [429, 'TooManyRequests'],
  9: [400, 'BadRequest'],
  10: [409, 'Conflict'],
  11: [400, 'BadRequest'],
  12: [501, 'NotImplemented'],
  13: [500, 'InternalError'],
  14: [503, 'ServiceUnavailable'],
  15: [500, 'InternalError'],
  16: [401, 'Unauthorized'],
};

interface Target {
  apiGroup: string;
  apiVersion: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * `resourceName` (`apps/v1/namespaces/default/deployments/web[/scale]`, `core/v1/nodes/n1`,
 * `core/v1/namespaces/foo`) read with the resource named in `methodName`
 * (`io.k8s.apps.v1.deployments.scale.update`), which tells `namespaces/foo/status` apart from a
 * namespaced resource called status.
 */
export function parseGkeTarget(resourceName: string, methodName: string): Target | undefined {
  const parts = resourceName
    .replace(/^\/+/, '')
    .split('/')
    .filter((p) => p !== '');
  if (parts.length < 3) return undefined;
  const [group, version, ...rest] = parts as [string, string, ...string[]];
  const target: Target = { apiGroup: group === 'core' ? '' : group, apiVersion: version };
  // resource [and subresource] from the method: the segments between the version and the verb
  const m = methodName.replace(/^io\.k8s\./, '').split('.');
  const vi = m.lastIndexOf(version, m.length - 2);
  const methodResource = vi >= 0 && vi + 1 < m.length - 1 ? m[vi + 1] : undefined;
  let i = 0;
  if (rest[0] === 'namespaces' && methodResource !== 'namespaces' && rest.length >= 3) {
    target.namespace = rest[1];
    i = 2;
  }
  target.resource = rest[i];
  target.name = rest[i + 1];
  target.subresource = rest[i + 2];
  return target.resource ? target : undefined;
}

/** The request/response object without Cloud Logging's `@type`, with apiVersion/kind restored. */
function kubeObject(v: unknown, t: Target | undefined): Record<string, unknown> | undefined {
  if (!isRecord(v)) return undefined;
  const { '@type': type, ...obj } = v;
  // an object type, e.g. "apps.k8s.io/v1.Deployment", "core.k8s.io/v1.Pod", "meta.k8s.io/v1.Status";
  // anything else (a patch body's type) is left as it is
  const kind = typeof type === 'string' ? /^[^/]+\/[^/.]+\.([A-Z][A-Za-z0-9]*)$/.exec(type)?.[1] : undefined;
  if (kind && t) {
    if (obj.kind === undefined) obj.kind = kind;
    if (obj.apiVersion === undefined) {
      obj.apiVersion = kind === 'Status' ? 'v1' : t.apiGroup ? `${t.apiGroup}/${t.apiVersion}` : t.apiVersion;
    }
  }
  return obj;
}

function fromGke(entry: Record<string, unknown>, p: Record<string, unknown>): Unwrapped {
  if (p['@type'] !== AUDIT_LOG_TYPE) return { error: `GKE log entry: protoPayload @type ${JSON.stringify(p['@type'])} is not ${AUDIT_LOG_TYPE}` };
  if (p.serviceName !== 'k8s.io') {
    return { error: `GKE audit entry of service ${JSON.stringify(p.serviceName)}, not the Kubernetes API (serviceName k8s.io)` };
  }
  const methodName = str(p.methodName);
  if (!methodName) return { error: 'GKE audit entry without methodName' };
  const auditID = str(entry.insertId);
  if (!auditID) return { error: 'GKE audit entry without insertId' };
  const time = str(entry.timestamp) ?? str(entry.receiveTimestamp);
  if (!time) return { error: 'GKE audit entry without timestamp' };
  const verb = methodName.split('.').at(-1)!;
  const resourceName = str(p.resourceName) ?? '';
  const target = parseGkeTarget(resourceName, methodName);
  const authn = isRecord(p.authenticationInfo) ? p.authenticationInfo : {};
  const meta = isRecord(p.requestMetadata) ? p.requestMetadata : {};
  const request = kubeObject(p.request, target);
  const response = kubeObject(p.response, target);

  let responseStatus: Record<string, unknown>;
  const st = isRecord(p.status) ? p.status : {};
  const grpc = typeof st.code === 'number' ? st.code : 0;
  if (response?.kind === 'Status' && typeof response.code === 'number') {
    responseStatus = { code: response.code, status: response.status, reason: response.reason, message: response.message };
  } else if (grpc !== 0) {
    const [code, reason] = GRPC_TO_HTTP[grpc] ?? [500, 'InternalError'];
    responseStatus = { code, status: 'Failure', reason, message: str(st.message) };
  } else {
    responseStatus = { code: verb === 'create' ? 201 : 200 };
  }

  const annotations: Record<string, string> = {};
  if (isRecord(entry.labels)) for (const [k, v] of Object.entries(entry.labels)) if (typeof v === 'string') annotations[k] = v;

  const event: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: request || response ? 'RequestResponse' : 'Metadata',
    auditID,
    stage: 'ResponseComplete',
    requestURI: gkeRequestUri(resourceName, target),
    verb,
    user: { username: str(authn.principalEmail) ?? 'unknown' },
    sourceIPs: str(meta.callerIp) ? [meta.callerIp] : [],
    userAgent: str(meta.callerSuppliedUserAgent),
    responseStatus,
    requestReceivedTimestamp: time,
    stageTimestamp: time,
    annotations,
  };
  if (target) event.objectRef = Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined));
  if (request) event.requestObject = request;
  if (response) event.responseObject = response;
  return { event };
}

/** The request path the API server saw, rebuilt from resourceName (`/api/v1/…`, `/apis/apps/v1/…`). */
function gkeRequestUri(resourceName: string, t: Target | undefined): string {
  if (!t) return `/${resourceName.replace(/^\/+/, '')}`;
  const parts = [t.apiGroup ? `/apis/${t.apiGroup}/${t.apiVersion}` : `/api/${t.apiVersion}`];
  if (t.namespace !== undefined) parts.push('namespaces', t.namespace);
  for (const p of [t.resource, t.name, t.subresource]) if (p !== undefined) parts.push(p);
  return parts.join('/');
}
