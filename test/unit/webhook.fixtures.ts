// Builders of audit.k8s.io/v1 events as kube-apiserver sends them (RequestResponse level),
// shared by the webhook, replay and CLI tests.
import { randomUUID } from 'node:crypto';

export const BASE_MS = Date.parse('2026-03-01T10:00:00Z');

export interface WriteSpec {
  verb: 'create' | 'update' | 'patch' | 'delete';
  group?: string;
  version?: string;
  resource: string;
  kind: string;
  namespace?: string;
  name: string;
  /** Seconds after BASE_MS. */
  at: number;
  object?: Record<string, unknown>;
  user?: string;
  code?: number;
  rv?: string;
}

export function auditEvent(w: WriteSpec): Record<string, unknown> {
  const ts = new Date(BASE_MS + w.at * 1000)
    .toISOString()
    .replace('Z', '000Z')
    .replace(/\.(\d{3})000Z$/, '.$1000Z');
  const apiVersion = w.group ? `${w.group}/${w.version ?? 'v1'}` : (w.version ?? 'v1');
  const obj = {
    apiVersion,
    kind: w.kind,
    metadata: { name: w.name, ...(w.namespace ? { namespace: w.namespace } : {}), uid: `uid-${w.name}`, resourceVersion: w.rv ?? String(100 + w.at) },
    ...(w.object ?? {}),
  };
  const code = w.code ?? (w.verb === 'create' ? 201 : 200);
  const path = w.group ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: randomUUID(),
    stage: 'ResponseComplete',
    requestURI: `${path}${w.namespace ? `/namespaces/${w.namespace}` : ''}/${w.resource}${w.verb === 'create' ? '' : `/${w.name}`}`,
    verb: w.verb,
    user: { username: w.user ?? 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
    sourceIPs: ['10.0.0.1'],
    userAgent: 'kubectl/v1.33.0',
    objectRef: { resource: w.resource, namespace: w.namespace, name: w.name, apiGroup: w.group ?? '', apiVersion: w.version ?? 'v1' },
    responseStatus: { metadata: {}, code },
    requestObject: w.verb === 'delete' ? undefined : obj,
    responseObject:
      code >= 300 ? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', message: 'the object has been modified', code } : obj,
    requestReceivedTimestamp: ts,
    stageTimestamp: ts,
  };
}

export function eventList(items: unknown[]): Record<string, unknown> {
  return { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items };
}

export const deploymentEvents = (name = 'web', ns = 'default') => [
  auditEvent({ verb: 'create', group: 'apps', resource: 'deployments', kind: 'Deployment', namespace: ns, name, at: 0, object: { spec: { replicas: 2 } } }),
  auditEvent({ verb: 'update', group: 'apps', resource: 'deployments', kind: 'Deployment', namespace: ns, name, at: 5, object: { spec: { replicas: 4 } } }),
];

export const SECRET_VALUE = 'c3VwZXItc2VjcmV0LXBhc3N3b3Jk'; // base64 of a password
export const secretEvent = () =>
  auditEvent({
    verb: 'create',
    resource: 'secrets',
    kind: 'Secret',
    namespace: 'default',
    name: 'db-creds',
    at: 2,
    object: { type: 'Opaque', data: { password: SECRET_VALUE }, stringData: { token: 'plain-token-value' } },
  });
