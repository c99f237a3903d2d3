import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { eventSpanId } from '../../src/core/ids.ts';
import { fx } from './audit-fixtures.ts';

const C = 'kwok';
const events = (spans: SpanRecord[]) => spans.filter((s) => s.kind === 'event');

const coreEvent = (count: number, last: string) => ({
  kind: 'Event',
  apiVersion: 'v1',
  metadata: { name: 'web.1840f1a2b3c4d5e6', namespace: 'default', uid: 'ev-uid-1', resourceVersion: String(2000 + count) },
  involvedObject: { kind: 'Deployment', namespace: 'default', name: 'web', uid: 'dep-uid', apiVersion: 'apps/v1', resourceVersion: '1001' },
  reason: 'ScalingReplicaSet',
  message: 'Scaled up replica set web-7d9f8b6c5d from 2 to 4',
  source: { component: 'deployment-controller' },
  firstTimestamp: '2025-06-01T10:00:00Z',
  lastTimestamp: last,
  count,
  type: 'Normal',
  eventTime: null,
  reportingComponent: 'deployment-controller',
  reportingInstance: '',
});

describe('Kubernetes Events', () => {
  it('become one span per occurrence on the involved object; redelivery dedups', () => {
    const p = new Pipeline();
    const first = events(p.kubeEvent(coreEvent(1, '2025-06-01T10:00:00Z'), C).spans)[0]!;
    const key = 'kwok/apps/deployments/default/web';
    expect(objectKey(first.object)).toBe(key);
    expect(first.spanId).toBe(eventSpanId('event/ev-uid-1/1', key));
    expect(first.name).toBe('event ScalingReplicaSet');
    expect(first.attributes).toMatchObject({
      [Attr.source]: 'event',
      [Attr.eventReason]: 'ScalingReplicaSet',
      [Attr.eventMessage]: 'Scaled up replica set web-7d9f8b6c5d from 2 to 4',
      [Attr.eventType]: 'Normal',
      [Attr.eventComponent]: 'deployment-controller',
      [Attr.eventCount]: 1,
      [Attr.uid]: 'dep-uid',
      [Attr.version]: 'v1',
    });
    const second = events(p.kubeEvent(coreEvent(2, '2025-06-01T10:01:00Z'), C).spans)[0]!;
    expect(second.spanId).not.toBe(first.spanId);
    // the last occurrence's second (its resourceVersion orders Events inside the second)
    expect(Math.floor(second.startUs / 1e6) * 1e3).toBe(Date.parse('2025-06-01T10:01:00Z'));
    expect(events(p.kubeEvent(coreEvent(2, '2025-06-01T10:01:00Z'), C).spans)[0]!.spanId).toBe(second.spanId);
  });

  it('maps involved kinds to resources; unknown kinds get a plural guess in their group', () => {
    const p = new Pipeline();
    const of = (kind: string, apiVersion: string) => {
      const e = coreEvent(1, '2025-06-01T10:00:00Z');
      e.involvedObject = { ...e.involvedObject, kind, apiVersion };
      return events(p.kubeEvent(e, C).spans)[0]!.object;
    };
    expect(of('Pod', 'v1')).toMatchObject({ group: '', resource: 'pods' });
    expect(of('Job', 'batch/v1')).toMatchObject({ group: 'batch', resource: 'jobs' });
    expect(of('EndpointSlice', 'discovery.k8s.io/v1')).toMatchObject({ group: 'discovery.k8s.io', resource: 'endpointslices' });
    expect(of('HorizontalPodAutoscaler', 'autoscaling/v2')).toMatchObject({ group: 'autoscaling', resource: 'horizontalpodautoscalers' });
    expect(of('NetworkPolicy', 'networking.k8s.io/v1')).toMatchObject({ resource: 'networkpolicies' });
    expect(of('PodProtector', 'podseidon.kubewharf.io/v1alpha1')).toMatchObject({ group: 'podseidon.kubewharf.io', resource: 'podprotectors' });
  });

  it('reads events.k8s.io/v1 (regarding, note, reportingController, series.count)', () => {
    const e = fx('event-create-scheduler').responseObject;
    e.series = { count: 3, lastObservedTime: '2025-06-01T10:02:00.000000Z' };
    const s = events(new Pipeline().kubeEvent(e, C).spans)[0]!;
    expect(s.attributes).toMatchObject({
      [Attr.eventCount]: 3,
      [Attr.eventMessage]: 'Successfully assigned default/web-7d9f8b6c5d-x2k9p to kwok-node-0',
      [Attr.eventComponent]: 'default-scheduler',
    });
    expect(s.startUs).toBe(Date.parse('2025-06-01T10:02:00Z') * 1000);
  });

  it('a malformed Event yields an error', () => {
    const p = new Pipeline();
    expect(p.kubeEvent({ kind: 'Event', apiVersion: 'v1' }, C).error).toMatch(/involvedObject/);
    expect(p.kubeEvent(null, C).error).toBeDefined();
  });
});

describe('list-watch only', () => {
  const change = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown) => ({ type, object, group: 'apps', version: 'v1', resource: 'deployments' });
  const withManager = (o: any, manager: string, operation: string, time: string, subresource?: string) => {
    o.metadata.managedFields = [
      { manager: 'kubectl-client-side-apply', operation: 'Update', time: '2025-06-01T10:00:00Z' },
      { manager, operation, time, ...(subresource ? { subresource } : {}) },
    ];
    return o;
  };

  it('watch changes become event spans attributed to the newest field manager, with diff', () => {
    const p = new Pipeline();
    p.setListWatchOnly('lw', true);
    const v1 = withManager(fx('deployment-status-update').responseObject, 'kube-controller-manager', 'Update', '2025-06-01T10:00:05Z', 'status');
    const added = events(p.watchChange(change('ADDED', v1), 'lw').spans)[0]!;
    expect(added.name).toBe('create');
    expect(added.attributes[Attr.source]).toBe('watch');
    expect(added.attributes[Attr.snapshot]).toBeDefined();
    expect(added.spanId).toBe(eventSpanId(`watch/${v1.metadata.uid}/1010`, 'lw/apps/deployments/default/web'));
    const v2 = withManager(fx('deployment-status-update-2').responseObject, 'kube-controller-manager', 'Update', '2025-06-01T10:01:00Z', 'status');
    const mod = events(p.watchChange(change('MODIFIED', v2), 'lw').spans)[0]!;
    expect(mod.name).toBe('update status');
    expect(mod.attributes).toMatchObject({ [Attr.fieldManager]: 'kube-controller-manager', [Attr.user]: 'kube-controller-manager', [Attr.verb]: 'update' });
    expect(String(mod.attributes[Attr.diff])).toContain('status.observedGeneration 1 -> 2');
    expect(mod.startUs).toBe(Date.parse('2025-06-01T10:01:00Z') * 1000);
    const applied = withManager(fx('deployment-status-update-2').responseObject, 'argocd', 'Apply', '2025-06-01T10:02:00Z');
    applied.metadata.resourceVersion = '1040';
    applied.spec.replicas = 5;
    expect(events(p.watchChange(change('MODIFIED', applied), 'lw').spans)[0]!.attributes[Attr.verb]).toBe('apply');
    const del = events(p.watchChange(change('DELETED', applied), 'lw').spans)[0]!;
    expect(del.name).toBe('delete');
    expect(del.attributes[Attr.snapshot]).toBeDefined();
    // A relist of the same version is not a change.
    expect(p.watchChange(change('MODIFIED', v2), 'other').skipped).toBe('cache-only');
  });

  it('without list-watch-only, watch changes only feed the cache; bad changes yield errors', () => {
    const p = new Pipeline();
    expect(p.watchChange(change('ADDED', fx('deployment-status-update').responseObject), C)).toEqual({ spans: [], skipped: 'cache-only' });
    expect(p.watchChange(change('ADDED', { metadata: {} }), C).error).toMatch(/metadata.name/);
    expect(p.watchChange({ type: 'BOOKMARK' as any, object: {}, group: '', version: 'v1', resource: 'pods' }, C).error).toBeDefined();
  });
});

describe('objects, windows and state', () => {
  it('one object span per (object, window); a replayed log gives identical span IDs in a new process', () => {
    const run = () => {
      const p = new Pipeline();
      const out: SpanRecord[] = [];
      for (const n of ['deployment-create-kubectl', 'deployment-status-update', 'deployment-scale-kubectl', 'deployment-status-update-2'])
        out.push(...p.auditEvent(fx(n), C).spans);
      return out;
    };
    const a = run();
    const objects = a.filter((s) => s.kind === 'object' && s.object.resource === 'deployments');
    expect(objects).toHaveLength(1);
    expect(events(a).every((e) => e.parentSpanId === objects[0]!.spanId)).toBe(true);
    expect(run().map((s) => s.spanId)).toEqual(a.map((s) => s.spanId));
  });

  it('rejects an invalid window, and per-object state stays bounded by cacheSize', () => {
    expect(() => new Pipeline({ windowSec: 90 })).toThrow(/multiple of 60/);
    const p = new Pipeline({ cacheSize: 2 });
    p.auditEvent(fx('replicaset-create'), C);
    for (const n of ['a', 'b', 'c']) {
      const other = fx('configmap-create-impersonated');
      other.auditID = n;
      other.objectRef.name = other.responseObject.metadata.name = `cm-${n}`;
      p.auditEvent(other, C);
    }
    // The ReplicaSet's previous version was evicted: no diff, but still an event span.
    const e = events(p.auditEvent(fx('replicaset-scale-update'), C).spans)[0]!;
    expect(e.attributes[Attr.diff]).toBeUndefined();
  });

  it('per-object state is also bounded by cacheBytes: large objects evict the least recently changed', () => {
    expect(() => new Pipeline({ cacheBytes: 1000 })).toThrow(/cacheBytes/);
    const p = new Pipeline({ cacheBytes: 1024 * 1024 });
    const big = (n: string, rv: string, fill: string) => {
      const e = fx('configmap-create-impersonated');
      e.auditID = `${n}-${rv}`;
      e.objectRef.name = e.responseObject.metadata.name = `cm-${n}`;
      e.responseObject.metadata.resourceVersion = rv;
      e.responseObject.data = { blob: fill.repeat(400 * 1024) };
      return e;
    };
    const update = (n: string, rv: string, fill: string) => Object.assign(big(n, rv, fill), { verb: 'update', auditID: `u-${n}-${rv}` });
    p.auditEvent(big('a', '10', 'a'), C);
    // a small change to a cached object still diffs against its previous version
    expect(events(p.auditEvent(update('a', '11', 'b'), C).spans)[0]!.attributes[Attr.diff]).toMatch(/^data\.blob "a+" -> "b+"$/);
    // 3 × 400 KiB more do not fit in 1 MiB next to it: the oldest object ('a') is evicted first
    for (const n of ['b', 'c', 'd']) p.auditEvent(big(n, '20', n), C);
    expect(events(p.auditEvent(update('a', '12', 'c'), C).spans)[0]!.attributes[Attr.diff]).toBeUndefined();
    expect(events(p.auditEvent(update('d', '21', 'e'), C).spans)[0]!.attributes[Attr.diff]).toMatch(/^data\.blob "d+" -> "e+"$/);
  });

  it('a delete answered with a Status snapshots the last known version', () => {
    const p = new Pipeline();
    p.auditEvent(fx('configmap-create-impersonated'), C);
    const del = fx('configmap-create-impersonated');
    Object.assign(del, {
      auditID: 'del-1',
      verb: 'delete',
      responseObject: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: 'web-config', kind: 'configmaps' } },
      responseStatus: { code: 200 },
    });
    delete del.requestObject;
    const e = events(p.auditEvent(del, C).spans)[0]!;
    expect(e.name).toBe('delete');
    expect(JSON.parse(e.attributes[Attr.snapshot] as string).data['nginx.conf']).toBe('worker_processes 1;');
  });

  it('a delete answered with the object snapshots the response; an annotated parent in another cluster gets the mirrored link', () => {
    const p = new Pipeline();
    const del = fx('configmap-create-impersonated');
    del.responseObject.metadata.annotations = { 'kubetrail.io/parent': 'hub/apps/deployments/shop/frontend' };
    Object.assign(del, { auditID: 'del-2', verb: 'delete' });
    const spans = p.auditEvent(del, C).spans;
    const e = events(spans)[0]!;
    expect(JSON.parse(e.attributes[Attr.snapshot] as string).metadata.name).toBe('web-config');
    const mirrored = spans.find((s) => s.kind === 'link' && s.object.cluster === 'hub')!;
    expect(mirrored.attributes).toMatchObject({
      [Attr.linkClass]: 'annotation',
      [Attr.linkRole]: 'child',
      [Attr.linkKey]: 'kwok//configmaps/default/web-config',
    });
    expect(spans.some((s) => s.kind === 'object' && objectKey(s.object) === 'hub/apps/deployments/shop/frontend')).toBe(true);
  });
});

describe('deletes and the informer', () => {
  it('an audit delete answered with a Status after the informer already saw DELETED still has a snapshot', () => {
    const p = new Pipeline();
    const cm = fx('configmap-create-impersonated').responseObject;
    p.watchChange({ type: 'ADDED', object: cm, group: '', version: 'v1', resource: 'configmaps' }, C);
    p.watchChange({ type: 'DELETED', object: cm, group: '', version: 'v1', resource: 'configmaps' }, C);
    const del = fx('configmap-create-impersonated');
    Object.assign(del, { auditID: 'del-3', verb: 'delete', responseObject: { kind: 'Status', apiVersion: 'v1', status: 'Success' } });
    const e = events(p.auditEvent(del, C).spans)[0]!;
    expect(JSON.parse(e.attributes[Attr.snapshot] as string).metadata.name).toBe('web-config');
  });
});

describe('informer ahead of the audit webhook (live serve)', () => {
  it('a kubectl scale still shows spec.replicas 2 -> 4 when the watch delivered the scaled Deployment first', () => {
    const p = new Pipeline();
    const created = fx('deployment-create-kubectl');
    p.auditEvent(created, C);
    const scaled = structuredClone(created.responseObject);
    scaled.metadata.resourceVersion = '1020';
    scaled.spec.replicas = 4;
    p.watchChange({ type: 'MODIFIED', object: scaled, group: 'apps', version: 'v1', resource: 'deployments' }, C);
    const scale = events(p.auditEvent(fx('deployment-scale-kubectl'), C).spans)[0]!;
    expect(String(scale.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 4');
  });
});

describe('informer several versions ahead of the audit webhook', () => {
  it('each audit update still diffs from the version just before it', () => {
    const p = new Pipeline();
    const created = fx('deployment-create-kubectl');
    p.auditEvent(created, C);
    const version = (rv: string, replicas: number) => {
      const o = structuredClone(created.responseObject);
      o.metadata.resourceVersion = rv;
      o.spec.replicas = replicas;
      return o;
    };
    const update = (rv: string, replicas: number) => ({
      ...structuredClone(created),
      auditID: `upd-${rv}`,
      verb: 'update',
      responseObject: version(rv, replicas),
      requestObject: version(rv, replicas),
    });
    // the watch delivers both new versions before either audit event arrives
    p.watchChange({ type: 'MODIFIED', object: version('1010', 3), group: 'apps', version: 'v1', resource: 'deployments' }, C);
    p.watchChange({ type: 'MODIFIED', object: version('1020', 5), group: 'apps', version: 'v1', resource: 'deployments' }, C);
    const first = events(p.auditEvent(update('1010', 3), C).spans)[0]!;
    const second = events(p.auditEvent(update('1020', 5), C).spans)[0]!;
    expect(String(first.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 2 -> 3');
    expect(String(second.attributes[Attr.diff]).split('\n')).toContain('spec.replicas 3 -> 5');
  });
});
