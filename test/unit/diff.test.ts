import { describe, expect, it } from 'vitest';
import { diffObjects } from '../../src/decorate/diff.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Attr } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { fx } from './audit-fixtures.ts';

const C = 'kwok';
const ev = (spans: SpanRecord[]) => spans.find((s) => s.kind === 'event')!;
const diffOf = (s: SpanRecord) => String(s.attributes[Attr.diff] ?? '').split('\n');

describe('diffs', () => {
  it('a ReplicaSet scale 2→4 by the deployment controller yields `spec.replicas 2 -> 4`', () => {
    const p = new Pipeline();
    p.auditEvent(fx('replicaset-create'), C);
    const e = ev(p.auditEvent(fx('replicaset-scale-update'), C).spans);
    expect(diffOf(e)).toContain('spec.replicas 2 -> 4');
    expect(diffOf(e)).toContain('metadata.annotations["deployment.kubernetes.io/desired-replicas"] "2" -> "4"');
    expect(e.attributes[Attr.oldResourceVersion]).toBe('1003');
    expect(e.attributes[Attr.newResourceVersion]).toBe('1025');
    expect(e.attributes[Attr.diffVerbose]).toBe('metadata.resourceVersion "1003" -> "1025"\nmetadata.generation 1 -> 2');
    expect(e.attributes[Attr.diff]).not.toMatch(/managedFields|resourceVersion|generation/);
  });

  it('kubectl scale (deployments/scale, response is a Scale) yields `spec.replicas 2 -> 4` on the deployment', () => {
    const p = new Pipeline();
    p.auditEvent(fx('deployment-create-kubectl'), C);
    const e = ev(p.auditEvent(fx('deployment-scale-kubectl'), C).spans);
    expect(e.name).toBe('patch scale');
    expect(diffOf(e)).toEqual(['spec.replicas 2 -> 4']);
  });

  it('a status update diffs the whole object; conditions match by type', () => {
    const p = new Pipeline();
    p.auditEvent(fx('deployment-status-update'), C);
    const e = ev(p.auditEvent(fx('deployment-status-update-2'), C).spans);
    const d = diffOf(e);
    expect(e.name).toBe('update status');
    expect(e.attributes[Attr.user]).toBe('system:serviceaccount:kube-system:deployment-controller');
    expect(d).toContain('status.observedGeneration 1 -> 2');
    expect(d).toContain('status.conditions[type=Available].status "True" -> "False"');
    expect(d).toContain('spec.replicas 2 -> 4');
  });

  it('named arrays match by name; added and removed items use <none>; labels use bracket quoting', () => {
    const a = {
      spec: {
        containers: [
          { name: 'web', image: 'a' },
          { name: 'log', image: 'l' },
        ],
      },
      metadata: { labels: { 'app.kubernetes.io/name': 'a', tier: 'x' } },
    };
    const b = {
      spec: {
        containers: [
          { name: 'side', image: 's' },
          { name: 'web', image: 'b' },
        ],
      },
      metadata: { labels: { 'app.kubernetes.io/name': 'b', zone: 'z' } },
    };
    const { lines } = diffObjects(a, b);
    expect(lines).toEqual([
      'spec.containers[name=web].image "a" -> "b"',
      'spec.containers[name=log] {"name":"log","image":"l"} -> <none>',
      'spec.containers[name=side] <none> -> {"name":"side","image":"s"}',
      'metadata.labels["app.kubernetes.io/name"] "a" -> "b"',
      'metadata.labels.tier "x" -> <none>',
      'metadata.labels.zone <none> -> "z"',
    ]);
  });

  it('scalar arrays compare whole; unnamed object arrays by index; managedFields never', () => {
    const a = { spec: { args: ['a', 'b'], tolerations: [{ key: 'k', effect: 'NoSchedule' }] }, metadata: { managedFields: [{ manager: 'x' }] } };
    const b = { spec: { args: ['a'], tolerations: [{ key: 'k', effect: 'NoExecute' }] }, metadata: { managedFields: [{ manager: 'y' }] } };
    expect(diffObjects(a, b).lines).toEqual(['spec.args ["a","b"] -> ["a"]', 'spec.tolerations[0].effect "NoSchedule" -> "NoExecute"']);
  });

  it('an update that changes nothing is marked noop', () => {
    const p = new Pipeline();
    p.auditEvent(fx('deployment-status-update'), C);
    const again = fx('deployment-status-update');
    again.auditID = 'another-id';
    again.responseObject.metadata.resourceVersion = '1011';
    const e = ev(p.auditEvent(again, C).spans);
    expect(e.attributes[Attr.noop]).toBe(true);
    expect(e.attributes[Attr.diff]).toBeUndefined();
  });

  it('a watch change feeds the previous version: the first audit event after start gets a diff', () => {
    const p = new Pipeline();
    const prev = fx('deployment-status-update').responseObject;
    expect(p.watchChange({ type: 'ADDED', object: prev, group: 'apps', version: 'v1', resource: 'deployments' }, C)).toEqual({
      spans: [],
      skipped: 'cache-only',
    });
    const e = ev(p.auditEvent(fx('deployment-status-update-2'), C).spans);
    expect(diffOf(e)).toContain('status.observedGeneration 1 -> 2');
  });

  it('a watch change arriving before its audit event does not turn the audit diff into a noop', () => {
    const p = new Pipeline();
    p.auditEvent(fx('deployment-status-update'), C);
    const next = fx('deployment-status-update-2');
    p.watchChange({ type: 'MODIFIED', object: next.responseObject, group: 'apps', version: 'v1', resource: 'deployments' }, C);
    const e = ev(p.auditEvent(next, C).spans);
    expect(diffOf(e)).toContain('status.observedGeneration 1 -> 2');
  });

  it('a Metadata-level audit event gets the diff of the watch change it explains', () => {
    const p = new Pipeline();
    p.watchChange({ type: 'ADDED', object: fx('deployment-status-update').responseObject, group: 'apps', version: 'v1', resource: 'deployments' }, C);
    p.watchChange({ type: 'MODIFIED', object: fx('deployment-status-update-2').responseObject, group: 'apps', version: 'v1', resource: 'deployments' }, C);
    const meta = fx('deployment-status-update-2');
    meta.level = 'Metadata';
    delete meta.requestObject;
    delete meta.responseObject;
    const e = ev(p.auditEvent(meta, C).spans);
    expect(diffOf(e)).toContain('status.observedGeneration 1 -> 2');
  });

  it('a Request-level update diffs against the request object', () => {
    const p = new Pipeline();
    p.auditEvent(fx('replicaset-create'), C);
    const req = fx('replicaset-scale-update');
    req.level = 'Request';
    delete req.responseObject;
    const e = ev(p.auditEvent(req, C).spans);
    expect(diffOf(e)).toContain('spec.replicas 2 -> 4');
    expect(String(e.attributes[Attr.diffVerbose])).not.toContain('resourceVersion');
  });
});

describe('diff notation for additions', () => {
  it('an added map is shown leaf by leaf, an added named list item by item', () => {
    const { lines } = diffObjects(
      { metadata: {} },
      { metadata: { labels: { a: '1' } }, status: { conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running' } },
    );
    expect(lines).toEqual([
      'metadata.labels.a <none> -> "1"',
      'status.conditions[type=Ready] <none> -> {"type":"Ready","status":"True"}',
      'status.phase <none> -> "Running"',
    ]);
  });

  it('the scheduler binding shows spec.nodeName on the pod, and the kwok status patch then does not', () => {
    const p = new Pipeline();
    p.auditEvent(fx('pod-create-generatename'), C);
    const b = ev(p.auditEvent(fx('pod-binding-scheduler'), C).spans);
    expect(diffOf(b)).toEqual(['spec.nodeName <none> -> "kwok-node-0"']);
    const s = ev(p.auditEvent(fx('pod-status-patch-kwok'), C).spans);
    expect(diffOf(s)).toContain('status.phase "Pending" -> "Running"');
    expect(diffOf(s)).toContain(
      'status.conditions[type=Ready] <none> -> {"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2025-06-01T10:00:01Z"}',
    );
    expect(String(s.attributes[Attr.diff])).not.toContain('nodeName');
  });
});

describe('previous-version races', () => {
  it('an audit event older than what the informer already delivered diffs from the version before it, never backwards', () => {
    const p = new Pipeline();
    const v1 = fx('deployment-status-update').responseObject; // rv 1010
    const v3 = fx('deployment-status-update-2').responseObject; // rv 1030
    const v2 = structuredClone(v3);
    v2.metadata.resourceVersion = '1020';
    for (const o of [v1, v2, v3]) p.watchChange({ type: 'MODIFIED', object: o, group: 'apps', version: 'v1', resource: 'deployments' }, C);
    const late = fx('deployment-status-update-2');
    late.responseObject = v2;
    const e = ev(p.auditEvent(late, C).spans);
    // v1 (1010) → v2 (1020), although the informer already holds v3 (1030)
    expect(diffOf(e)).toContain('spec.replicas 2 -> 4');
    expect(e.attributes[Attr.oldResourceVersion]).toBe('1010');
    expect(e.attributes[Attr.noop]).toBeUndefined();
  });
});

describe('verbose lines', () => {
  it('kubectl apply: the last-applied annotation change goes to diff.verbose, the spec change to diff', () => {
    const a = { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"replicas":2}}' } }, spec: { replicas: 2 } };
    const b = { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"replicas":3}}' } }, spec: { replicas: 3 } };
    const d = diffObjects(a, b);
    expect(d.lines).toEqual(['spec.replicas 2 -> 3']);
    expect(d.verbose).toHaveLength(1);
  });
});
