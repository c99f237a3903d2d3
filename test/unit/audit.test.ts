import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { defaultTracerConfig } from '../../src/core/config.ts';
import { Attr } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { eventSpanId, objectSpanId, rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { fx } from './audit-fixtures.ts';

const C = 'kwok';
const events = (spans: SpanRecord[]) => spans.filter((s) => s.kind === 'event');
const one = (spans: SpanRecord[]) => {
  const e = events(spans);
  expect(e).toHaveLength(1);
  return e[0]!;
};

describe('audit events', () => {
  it('defaults trace writes only, 30 min windows, leases and events excluded', () => {
    expect(defaultTracerConfig.windowSec).toBe(1800);
    expect(defaultTracerConfig.verbs).toEqual(['create', 'update', 'patch', 'delete', 'deletecollection']);
    expect(defaultTracerConfig.excludeResources).toContain('coordination.k8s.io/leases');
    expect(defaultTracerConfig.excludeResources).toContain('/events');
    expect(new Pipeline().config.cacheSize).toBe(100_000);
  });

  it('a kubectl create becomes an event span under the object span with who/what/when', () => {
    const p = new Pipeline();
    const raw = fx('deployment-create-kubectl');
    const r = p.auditEvent(raw, C);
    expect(r.error).toBeUndefined();
    const obj = r.spans.find((s) => s.kind === 'object')!;
    const ev = one(r.spans);
    const key = 'kwok/apps/deployments/default/web';
    const startUs = Date.parse('2025-06-01T10:00:00Z') * 1000 + 101000;
    const ws = windowStartSec(startUs, 1800);
    expect(obj).toMatchObject({
      traceId: rawTraceId(key, ws),
      spanId: objectSpanId(key, ws),
      name: 'deployments',
      startUs: ws * 1e6,
      endUs: (ws + 1800) * 1e6,
    });
    // the object span is a function of (object, window) only: its uid and version are on the event span
    expect(obj.attributes).toEqual({
      [Attr.cluster]: C,
      [Attr.group]: 'apps',
      [Attr.resource]: 'deployments',
      [Attr.namespace]: 'default',
      [Attr.name]: 'web',
      [Attr.nestLevel]: 'object',
    });
    expect(ev.parentSpanId).toBe(obj.spanId);
    expect(ev.traceId).toBe(obj.traceId);
    expect(ev.spanId).toBe(eventSpanId(raw.auditID, key));
    expect(ev.name).toBe('create');
    expect(ev.startUs).toBe(startUs);
    expect(ev.endUs).toBe(Date.parse('2025-06-01T10:00:00Z') * 1000 + 112345);
    expect(ev.attributes).toMatchObject({
      [Attr.cluster]: C,
      [Attr.group]: 'apps',
      [Attr.version]: 'v1',
      [Attr.resource]: 'deployments',
      [Attr.namespace]: 'default',
      [Attr.name]: 'web',
      [Attr.nestLevel]: 'event',
      [Attr.source]: 'audit',
      [Attr.auditId]: raw.auditID,
      [Attr.user]: 'kubernetes-admin',
      [Attr.userAgent]: raw.userAgent,
      [Attr.sourceIP]: '172.18.0.1',
      [Attr.verb]: 'create',
      [Attr.code]: 201,
      [Attr.newResourceVersion]: '1001',
      [Attr.uid]: raw.responseObject.metadata.uid,
    });
    const snap = JSON.parse(ev.attributes[Attr.snapshot] as string);
    expect(snap.spec.replicas).toBe(2);
    expect(snap.metadata.managedFields).toBeUndefined();
  });

  it('the same event twice yields the same span IDs, and the object span only once per process', () => {
    const p = new Pipeline();
    const a = p.auditEvent(fx('deployment-create-kubectl'), C).spans;
    const b = p.auditEvent(fx('deployment-create-kubectl'), C).spans;
    expect(events(b)[0]!.spanId).toBe(events(a)[0]!.spanId);
    expect(b.filter((s) => s.kind === 'object')).toHaveLength(0);
    const fresh = new Pipeline().auditEvent(fx('deployment-create-kubectl'), C).spans;
    expect(fresh.map((s) => s.spanId).sort()).toEqual(a.map((s) => s.spanId).sort());
  });

  it('generateName creates take the name from the response object', () => {
    const r = new Pipeline().auditEvent(fx('pod-create-generatename'), C);
    const ev = one(r.spans);
    expect(ev.object.name).toBe('web-7d9f8b6c5d-x2k9p');
    expect(ev.attributes[Attr.user]).toBe('system:serviceaccount:kube-system:replicaset-controller');
  });

  it('a pods/binding create is an event on the pod with subresource binding', () => {
    const r = new Pipeline().auditEvent(fx('pod-binding-scheduler'), C);
    const ev = one(r.spans);
    expect(ev.object).toMatchObject({ resource: 'pods', name: 'web-7d9f8b6c5d-x2k9p' });
    expect(ev.name).toBe('create binding');
    expect(ev.attributes[Attr.subresource]).toBe('binding');
  });

  it('failed requests are kept with the Status reason and message as error', () => {
    const r = new Pipeline().auditEvent(fx('deployment-update-conflict'), C);
    const ev = one(r.spans);
    expect(ev.error).toMatch(/^Conflict: Operation cannot be fulfilled on deployments.apps "web"/);
    expect(ev.attributes[Attr.error]).toBe(ev.error);
    expect(ev.attributes[Attr.code]).toBe(409);
    expect(ev.attributes[Attr.diff]).toBeUndefined();
  });

  it('impersonation: user is the impersonated user, impersonatedBy the authenticated one; first source IP', () => {
    const ev = one(new Pipeline().auditEvent(fx('configmap-create-impersonated'), C).spans);
    expect(ev.attributes[Attr.user]).toBe('jane@example.com');
    expect(ev.attributes[Attr.impersonatedBy]).toBe('kubernetes-admin');
    expect(ev.attributes[Attr.sourceIP]).toBe('10.1.2.3');
  });

  it('reads audit.k8s.io/v1beta1 events', () => {
    const r = new Pipeline().auditEvent(fx('v1beta1-node-patch'), C);
    const ev = one(r.spans);
    expect(ev.object).toMatchObject({ group: '', resource: 'nodes', namespace: '', name: 'kwok-node-0' });
    expect(ev.name).toBe('patch');
  });

  it('deletecollection is expanded to one event per deleted object, each with a snapshot', () => {
    const r = new Pipeline().auditEvent(fx('pods-deletecollection'), C);
    const evs = events(r.spans);
    expect(evs.map((e) => e.object.name).sort()).toEqual(['job-a', 'job-b']);
    for (const e of evs) {
      expect(e.name).toBe('deletecollection');
      expect(JSON.parse(e.attributes[Attr.snapshot] as string).metadata.name).toBe(e.object.name);
    }
  });

  it('skips other stages, reads, leases and non-resource requests with stable reasons', () => {
    const p = new Pipeline();
    const [stage, read, lease, nonResource] = fx('filtered');
    expect(p.auditEvent(stage, C)).toEqual({ spans: [], skipped: 'stage' });
    expect(p.auditEvent(read, C)).toEqual({ spans: [], skipped: 'read-verb' });
    expect(p.auditEvent(lease, C)).toEqual({ spans: [], skipped: 'excluded-resource' });
    expect(p.auditEvent(nonResource, C)).toEqual({ spans: [], skipped: 'non-resource' });
  });

  it('filters are configurable: reads and leases can be traced', () => {
    const p = new Pipeline({ includeReads: true, excludeResources: [] });
    const [, read, lease] = fx('filtered');
    expect(one(p.auditEvent(read, C).spans).name).toBe('get');
    expect(one(p.auditEvent(lease, C).spans).object.resource).toBe('leases');
    const noPatch = new Pipeline({ verbs: ['create'] });
    expect(noPatch.auditEvent(fx('pod-status-patch-kwok'), C).skipped).toBe('verb');
  });

  it('malformed input yields an error, never a throw, and the next item is still traced', () => {
    const p = new Pipeline();
    for (const bad of [
      null,
      42,
      'x',
      [],
      {},
      { kind: 'Event', apiVersion: 'audit.k8s.io/v1' },
      { ...fx('deployment-create-kubectl'), stageTimestamp: 'yesterday', requestReceivedTimestamp: undefined },
      { ...fx('deployment-create-kubectl'), verb: 7 },
    ]) {
      const r = p.auditEvent(bad, C);
      expect(r.spans).toEqual([]);
      expect(typeof (r.error ?? r.skipped)).toBe('string');
    }
    expect(p.auditEvent({ kind: 'Event', apiVersion: 'audit.k8s.io/v1' }, C).error).toMatch(/auditID/);
    expect(one(p.auditEvent(fx('deployment-create-kubectl'), C).spans).name).toBe('create');
  });

  it('an audit write of an Event becomes the Kubernetes-Event span on the involved object', () => {
    const p = new Pipeline();
    const raw = fx('event-create-scheduler');
    const ev = one(p.auditEvent(raw, C).spans);
    expect(ev.object).toMatchObject({ resource: 'pods', name: 'web-7d9f8b6c5d-x2k9p', namespace: 'default' });
    expect(ev.name).toBe('event Scheduled');
    expect(ev.attributes).toMatchObject({
      [Attr.source]: 'event',
      [Attr.eventReason]: 'Scheduled',
      [Attr.eventComponent]: 'default-scheduler',
      [Attr.eventCount]: 1,
    });
    // The same span ID as from the Events informer.
    const fromInformer = new Pipeline().kubeEvent(raw.responseObject, C);
    expect(one(fromInformer.spans).spanId).toBe(ev.spanId);
    expect(new Pipeline({ eventsFromAudit: false }).auditEvent(raw, C).skipped).toBe('excluded-resource');
  });
});

describe('the object span is the same whoever writes it', () => {
  it("a node's own tracer and the tracer of a pod bound to it write the node's object span alike", () => {
    const nodeOwn = new Pipeline().auditEvent(fx('v1beta1-node-patch'), C).spans;
    const viaPod = new Pipeline().auditEvent(fx('pod-binding-scheduler'), C).spans;
    const nodeSpan = (spans: SpanRecord[]) => spans.find((s) => s.kind === 'object' && s.object.resource === 'nodes')!;
    expect(nodeSpan(viaPod)).toEqual(nodeSpan(nodeOwn));
    // what the object span no longer says is on the node's event span
    expect(one(nodeOwn).attributes).toMatchObject({ [Attr.version]: 'v1', [Attr.uid]: fx('v1beta1-node-patch').responseObject.metadata.uid });
  });
});

describe('auditObjectKey (partitioning by object)', () => {
  it('gives the key the spans use, incl. generateName creates and Event writes', async () => {
    const { auditObjectKey } = await import('../../src/normalize/audit-event.ts');
    for (const n of ['deployment-create-kubectl', 'pod-create-generatename', 'pod-binding-scheduler', 'event-create-scheduler']) {
      const spans = new Pipeline().auditEvent(fx(n), C).spans;
      const ev = spans.find((s) => s.kind === 'event')!;
      expect(auditObjectKey(fx(n), C)).toBe(`${C}/${ev.object.group}/${ev.object.resource}/${ev.object.namespace}/${ev.object.name}`);
    }
    expect(auditObjectKey(fx('filtered')[3], C)).toBeUndefined();
  });
});
