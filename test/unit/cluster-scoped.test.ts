// Cluster-scoped objects never carry a namespace in their key: for /api/v1/namespaces/foo the
// API server sets objectRef.namespace "foo" (as in falco's recorded delete_namespace_foo.json),
// and the create and the delete must still land on ONE object, `namespaces /foo`.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { objectKey } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { auditObjectKey } from '../../src/normalize/audit-event.ts';
import { auditEvent } from './webhook.fixtures.ts';

const C = 'kwok';
const eventKeys = (spans: SpanRecord[]) => spans.filter((s) => s.kind === 'event').map((s) => objectKey(s.object));

/** As kube-apiserver records a namespace delete: objectRef.namespace is the namespace itself. */
function namespaceDelete(name: string): Record<string, unknown> {
  const e = auditEvent({ verb: 'delete', resource: 'namespaces', kind: 'Namespace', name, at: 10 });
  (e.objectRef as Record<string, unknown>).namespace = name;
  e.requestURI = `/api/v1/namespaces/${name}`;
  e.responseObject = {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '120', deletionTimestamp: '2026-03-01T10:00:10Z' },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Terminating' },
  };
  return e;
}

describe('cluster-scoped objects', () => {
  it('a namespace create and its delete are one object with an empty namespace', () => {
    const p = new Pipeline();
    const create = auditEvent({ verb: 'create', resource: 'namespaces', kind: 'Namespace', name: 'foo', at: 0 });
    const keys = [...eventKeys(p.auditEvent(create, C).spans), ...eventKeys(p.auditEvent(namespaceDelete('foo'), C).spans)];
    expect(keys).toEqual(['kwok//namespaces//foo', 'kwok//namespaces//foo']);
    expect(auditObjectKey(namespaceDelete('foo'), C)).toBe('kwok//namespaces//foo');
  });

  it('discovery tells which other resources are cluster-scoped', () => {
    const p = new Pipeline();
    const widget = (ns: string) => {
      const e = auditEvent({ verb: 'create', group: 'example.com', resource: 'widgets', kind: 'Widget', name: 'w1', at: 0 });
      (e.objectRef as Record<string, unknown>).namespace = ns;
      return e;
    };
    expect(eventKeys(p.auditEvent(widget('odd'), C).spans)).toEqual(['kwok/example.com/widgets/odd/w1']);
    p.setResourceScopes(C, [{ group: 'example.com', resource: 'widgets', namespaced: false }]);
    expect(eventKeys(p.auditEvent(widget('odd'), C).spans)).toEqual(['kwok/example.com/widgets//w1']);
    // another cluster's discovery is its own
    expect(eventKeys(p.auditEvent(widget('odd'), 'other').spans)).toEqual(['other/example.com/widgets/odd/w1']);
  });

  it('an Event about a Namespace and an owner reference to a cluster-scoped kind use the same key', () => {
    const p = new Pipeline();
    const ev = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: { name: 'foo.1', namespace: 'foo', uid: 'e1', resourceVersion: '5' },
      involvedObject: { kind: 'Namespace', apiVersion: 'v1', name: 'foo', namespace: 'foo' },
      reason: 'NamespaceDeletionContentFailure',
      message: 'x',
      type: 'Warning',
      count: 1,
      lastTimestamp: '2026-03-01T10:00:00Z',
    };
    expect(eventKeys(p.kubeEvent(ev, C).spans)).toEqual(['kwok//namespaces//foo']);
    const lease = auditEvent({
      verb: 'create',
      group: 'coordination.k8s.io',
      resource: 'leases',
      kind: 'Lease',
      namespace: 'kube-node-lease',
      name: 'n1',
      at: 0,
      object: {
        metadata: { name: 'n1', namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'u', controller: true }] },
      },
    });
    const spans = new Pipeline({ excludeResources: [] }).auditEvent(lease, C).spans;
    expect(spans.filter((s) => s.kind === 'link').map((s) => s.attributes['link.key'])).toContain('kwok//nodes//n1');
  });
});
