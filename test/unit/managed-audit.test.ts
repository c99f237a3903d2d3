// Audit exports of managed clusters (GKE, EKS, AKS) replayed like a kube-apiserver audit log:
// the same story in each shape (create with 2 replicas, update to 4, a create refused with 409)
// traces the same way, and records that cannot be mapped are reported per line.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { classifyItem, readAuditLogs } from '../../src/sources/audit-log.ts';
import { replay } from '../../src/sources/replay.ts';
import { Attr } from '../../src/core/model.ts';
import { parseGkeTarget, unwrapManagedAudit } from '../../src/normalize/managed-audit.ts';
import { memorySink } from '../helpers/fixtures.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/managed');

async function replayFixture(name: string) {
  const sink = memorySink();
  const summary = await replay({ items: readAuditLogs([`${FIXTURES}/${name}`]), classify: classifyItem, pipeline: new Pipeline(), sink, cluster: 'managed' });
  const events = sink.spans
    .filter((s) => s.kind === 'event' && s.object.resource === 'deployments' && s.object.namespace === 'shop' && s.object.name === 'cart')
    .sort((a, b) => a.startUs - b.startUs);
  return { summary, events };
}

describe('managed-cluster audit exports', () => {
  const cases: [string, number, RegExp[]][] = [
    ['gke-audit.jsonl', 4, [/gke-audit\.jsonl:5: .*service "container\.googleapis\.com", not the Kubernetes API/]],
    ['gke-gcloud-read.json', 3, []],
    // the same newest-first array on one line (`| jq -c .`): still replayed oldest first
    ['gke-gcloud-read-compact.json', 3, []],
    [
      'eks-filter-log-events.json',
      3,
      [/eks-filter-log-events\.json:1: CloudWatch log stream "kube-apiserver-0d1e2f3a4b5c" is not a kube-apiserver-audit stream/],
    ],
    ['eks-subscription.jsonl', 3, []],
    ['eks-s3-export.log', 3, []],
    [
      'aks-kube-audit.jsonl',
      3,
      [/aks-kube-audit\.jsonl:4: Azure diagnostic category "kube-apiserver" is not kube-audit/, /aks-kube-audit\.jsonl:5: Azure properties\.log is not JSON/],
    ],
    ['aks-records.json', 3, []],
    ['aks-aksaudit-table.json', 3, [/aks-aksaudit-table\.json:1: AKSAudit row without AuditId/]],
  ];
  for (const [file, mapped, errors] of cases) {
    it(`${file}: create, update with its diff, and the refused create are traced; unmappable records are reported`, async () => {
      const { summary, events } = await replayFixture(file);
      expect(summary.traced + Object.values(summary.skipped).reduce((a, b) => a + b, 0), JSON.stringify(summary)).toBe(mapped);
      expect(summary.errors, summary.errorSamples.join('\n')).toBe(errors.length);
      errors.forEach((re, i) => expect(summary.errorSamples[i]).toMatch(re));
      expect(events.map((e) => e.attributes[Attr.verb])).toEqual(['create', 'update', 'create']);
      const [created, updated, refused] = events as [(typeof events)[0], (typeof events)[0], (typeof events)[0]];
      expect(created.attributes[Attr.user]).toBe('dev@example.com');
      expect(created.attributes[Attr.sourceIP]).toBe('10.20.30.40');
      expect(String(updated.attributes[Attr.diff])).toContain('spec.replicas 2 -> 4');
      expect(refused.attributes[Attr.code]).toBe(409);
      expect(refused.error).toMatch(/already exists/);
    });
  }

  it('reads GKE resource names with the resource the method names', () => {
    expect(parseGkeTarget('apps/v1/namespaces/shop/deployments/cart/scale', 'io.k8s.apps.v1.deployments.scale.update')).toEqual({
      apiGroup: 'apps',
      apiVersion: 'v1',
      namespace: 'shop',
      resource: 'deployments',
      name: 'cart',
      subresource: 'scale',
    });
    expect(parseGkeTarget('core/v1/namespaces/shop/status', 'io.k8s.core.v1.namespaces.status.update')).toEqual({
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'namespaces',
      name: 'shop',
      subresource: 'status',
      namespace: undefined,
    });
    expect(parseGkeTarget('core/v1/nodes/n1', 'io.k8s.core.v1.nodes.patch')).toMatchObject({ apiGroup: '', resource: 'nodes', name: 'n1' });
    expect(parseGkeTarget('networking.k8s.io/v1/namespaces/shop/ingresses', 'io.k8s.networking.v1.ingresses.list')).toMatchObject({
      apiGroup: 'networking.k8s.io',
      namespace: 'shop',
      resource: 'ingresses',
      name: undefined,
    });
  });

  it('maps a GKE patch: the patch body keeps its shape, the response object gets apiVersion and kind back, a gRPC error becomes the HTTP status', () => {
    const [r] = unwrapManagedAudit({
      insertId: 'p1',
      timestamp: '2026-03-02T09:10:00.000Z',
      labels: { 'authorization.k8s.io/decision': 'allow' },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'k8s.io',
        methodName: 'io.k8s.core.v1.pods.status.patch',
        resourceName: 'core/v1/namespaces/shop/pods/cart-1/status',
        authenticationInfo: { principalEmail: 'system:node:gke-n1' },
        request: { '@type': 'k8s.io/Patch', status: { phase: 'Running' } },
        response: { '@type': 'core.k8s.io/v1.Pod', metadata: { name: 'cart-1', namespace: 'shop' }, status: { phase: 'Running' } },
        status: { code: 10, message: 'the object has been modified' },
      },
    })!;
    const ev = (r as { event: Record<string, any> }).event;
    expect(ev).toMatchObject({
      verb: 'patch',
      auditID: 'p1',
      requestURI: '/api/v1/namespaces/shop/pods/cart-1/status',
      user: { username: 'system:node:gke-n1' },
      objectRef: { apiGroup: '', apiVersion: 'v1', namespace: 'shop', resource: 'pods', name: 'cart-1', subresource: 'status' },
      responseStatus: { code: 409, reason: 'Conflict', message: 'the object has been modified' },
      annotations: { 'authorization.k8s.io/decision': 'allow' },
    });
    expect(ev.requestObject).toEqual({ status: { phase: 'Running' } });
    expect(ev.responseObject).toMatchObject({ apiVersion: 'v1', kind: 'Pod' });
  });

  it('leaves plain audit events and core Events alone, and says why a look-alike cannot be mapped', () => {
    expect(unwrapManagedAudit({ kind: 'Event', apiVersion: 'v1', message: 'Scaled up', involvedObject: {} })).toBeUndefined();
    expect(unwrapManagedAudit({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'x', stage: 'ResponseComplete' })).toBeUndefined();
    expect(unwrapManagedAudit({ protoPayload: { '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', serviceName: 'k8s.io' } })).toEqual([
      { error: 'GKE audit entry without methodName' },
    ]);
    expect(unwrapManagedAudit({ message: 'plain text' })).toEqual([{ error: expect.stringMatching(/CloudWatch message is not JSON/) }]);
  });
});
