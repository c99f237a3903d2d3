// The parts of audit.k8s.io/v1 and v1beta1 Event that kubetrail reads.
// v1beta1 has the same field names, plus `timestamp` (request time) and, in old versions, no
// requestReceivedTimestamp/stageTimestamp (metadata.creationTimestamp then held the stage time).

export interface AuditUser {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface AuditStatus {
  code?: number;
  status?: string;
  reason?: string;
  message?: string;
}

export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level?: 'None' | 'Metadata' | 'Request' | 'RequestResponse';
  auditID?: string;
  stage?: string;
  requestURI?: string;
  verb?: string;
  user?: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: AuditStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  /** v1beta1 only. */
  timestamp?: string;
  metadata?: { creationTimestamp?: string };
  annotations?: Record<string, string>;
}

/** A Kubernetes object as JSON (unstructured). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[];
    managedFields?: { manager?: string; operation?: string; time?: string; subresource?: string; apiVersion?: string; fieldsV1?: unknown }[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
