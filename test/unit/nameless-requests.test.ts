// Requests about no named object are still traced: a generateName create refused before the API
// server made a name (403, the namespace is terminating), a deletecollection that matched nothing,
// a failed deletecollection.
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { fx } from './audit-fixtures.ts';

const C = 'kwok';
const events = (spans: SpanRecord[]) => spans.filter((s) => s.kind === 'event');
const TERMINATING = 'pods "web-7d9f8b6c5d-" is forbidden: unable to create new content in namespace default because it is being terminated';

/** The replicaset controller's pod create, refused because the namespace is terminating. */
function refusedCreate(withBody = true): any {
  const e = fx('pod-create-generatename');
  const pod = structuredClone(e.responseObject);
  delete pod.metadata.name;
  delete pod.metadata.uid;
  delete pod.metadata.resourceVersion;
  pod.metadata.generateName = 'web-7d9f8b6c5d-';
  if (withBody) e.requestObject = pod;
  e.responseStatus = { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, message: TERMINATING };
  e.responseObject = {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message: TERMINATING,
    details: { name: 'web-7d9f8b6c5d-', kind: 'pods' },
  };
  return e;
}

describe('requests about no named object', () => {
  it('a refused generateName create is an error on the prefix object, linked to its owner', () => {
    const r = new Pipeline().auditEvent(refusedCreate(), C);
    expect(r.skipped).toBeUndefined();
    const [ev] = events(r.spans);
    expect(objectKey(ev!.object)).toBe('kwok//pods/default/web-7d9f8b6c5d-');
    expect(ev!.name).toBe('create');
    expect(ev!.error).toBe(`Forbidden: ${TERMINATING}`);
    expect(ev!.attributes).toMatchObject({ [Attr.code]: 403, [Attr.generateName]: 'web-7d9f8b6c5d-' });
    const owner = r.spans.find((s) => s.kind === 'link' && objectKey(s.object) === objectKey(ev!.object));
    expect(owner?.attributes[Attr.linkKey]).toBe('kwok/apps/replicasets/default/web-7d9f8b6c5d');
  });

  it("without a request body (Metadata level) it is an error on the namespace's trace", () => {
    const r = new Pipeline().auditEvent(refusedCreate(false), C);
    const [ev] = events(r.spans);
    expect(objectKey(ev!.object)).toBe('kwok//namespaces//default');
    expect(ev!.name).toBe('create pods');
    expect(ev!.error).toMatch(/^Forbidden: .*being terminated/);
    expect(ev!.attributes[Attr.requestResource]).toBe('/pods');
  });

  it("a deletecollection that matched nothing, or failed, is on the namespace's trace", () => {
    const p = new Pipeline();
    const none = fx('pods-deletecollection');
    none.responseObject.items = [];
    const [ev] = events(p.auditEvent(none, C).spans);
    expect(objectKey(ev!.object)).toBe(`kwok//namespaces//${none.objectRef.namespace}`);
    expect(ev!.name).toBe('deletecollection pods');
    expect(ev!.attributes).toMatchObject({ [Attr.matched]: 0, [Attr.verb]: 'deletecollection' });
    expect(ev!.error).toBeUndefined();

    const failed = fx('pods-deletecollection');
    failed.auditID = 'dc-failed';
    failed.responseStatus = { code: 403, reason: 'Forbidden', message: 'pods is forbidden: User "jane" cannot deletecollection resource "pods"' };
    failed.responseObject = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 };
    const [err] = events(p.auditEvent(failed, C).spans);
    expect(objectKey(err!.object)).toBe(`kwok//namespaces//${failed.objectRef.namespace}`);
    expect(err!.error).toMatch(/^Forbidden: pods is forbidden/);
  });

  it('a cluster-wide nameless request has no namespace to go to: skipped with a reason', () => {
    const e = refusedCreate(false);
    e.objectRef = { resource: 'namespaces', apiVersion: 'v1' };
    expect(new Pipeline().auditEvent(e, C)).toEqual({ spans: [], skipped: 'no-object-name' });
  });
});

describe('odd nameless requests', () => {
  it('a refused create whose generateName could not be a name (a slash) goes to the namespace, never into a key', () => {
    const e = refusedCreate();
    e.requestObject.metadata.generateName = 'a/b-';
    const [ev] = events(new Pipeline().auditEvent(e, C).spans);
    expect(objectKey(ev!.object)).toBe('kwok//namespaces//default');
  });
});
