// Audit mode with informers: a watch change no audit event explains within the grace period (the
// API server dropped it, e.g. an audit policy rule `level: None`) becomes an event span
// `attribution: unexplained`, and the completeness finding names its object; changes an audit event
// explains — by resourceVersion, or without one (a binding, a delete answered with a Status), in
// either order — and the objects the informers list at start leave no such span.
import { describe, expect, it } from 'vitest';
import { Attr, type SpanRecord } from '../../src/core/model.ts';
import { Pipeline, type WatchChange } from '../../src/pipeline/pipeline.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import { fx } from './audit-fixtures.ts';

const C = 'kwok';
const GRACE = 60_000;
const cm = (name: string, rv: string, data: Record<string, string>, created = '2025-06-01T10:00:00Z') => ({
  kind: 'ConfigMap',
  apiVersion: 'v1',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: rv, creationTimestamp: created },
  data,
});
const change = (type: WatchChange['type'], object: unknown): WatchChange => ({ type, object, group: '', version: 'v1', resource: 'configmaps' });
/** An accepted audit write of a ConfigMap answered with `response` (the object, or a Status). */
const audit = (verb: string, name: string, response: unknown, id: string) => ({
  ...fx('configmap-create-impersonated'),
  auditID: id,
  verb,
  requestURI: `/api/v1/namespaces/default/configmaps/${name}`,
  objectRef: { resource: 'configmaps', namespace: 'default', name, apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
  responseObject: response,
});
const status = (name: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: 'configmaps', uid: `uid-${name}` } });

function setup() {
  let now = Date.parse('2025-06-01T09:59:00Z'); // informers started a minute before the objects were created
  const p = new Pipeline();
  p.trackUnexplained(GRACE, () => now);
  const sweep = (): SpanRecord[] => {
    const tx = p.begin();
    const r = tx.unexplainedChanges();
    tx.commit();
    return r.spans.filter((s) => s.kind === 'event');
  };
  return { p, sweep, wait: (ms: number) => (now += ms) };
}

describe('watch changes no audit event explains (audit mode)', () => {
  it('become a span after the grace period, attributed "unexplained"; the completeness finding names the object', () => {
    const { p, sweep, wait } = setup();
    p.watchChange(change('ADDED', cm('dark', '2001', { a: '1' })), C);
    p.watchChange(change('MODIFIED', cm('dark', '2002', { a: '2' })), C);
    wait(GRACE - 1000);
    expect(sweep()).toEqual([]); // the audit batch may still come
    wait(2000);
    const spans = sweep();
    expect(spans.map((s) => [s.object.name, s.attributes[Attr.verb], s.attributes[Attr.source], s.attributes[Attr.attribution]])).toEqual([
      ['dark', 'create', 'watch', 'unexplained'],
      ['dark', 'update', 'watch', 'unexplained'],
    ]);
    expect(sweep()).toEqual([]); // once
    const [f] = buildReport(spans).findings.filter((x) => x.detector === 'completeness');
    expect(f).toMatchObject({ severity: 'info', objects: [{ resource: 'configmaps', name: 'dark' }], data: { unexplained: 2 } });
    expect(f!.title).toContain('2 changes of 1 object the informers saw no audit event explains');
    expect(f!.title).toContain('ConfigMap default/dark');
  });

  it('leaves changes alone that an audit event explains, in either order, and the objects listed at start', () => {
    const { p, sweep, wait } = setup();
    // watch first, then the audit event with the same resourceVersion
    p.watchChange(change('ADDED', cm('lit', '3001', { a: '1' })), C);
    p.auditEvent(audit('create', 'lit', cm('lit', '3001', { a: '1' }), 'a1'), C);
    // audit first
    p.auditEvent(audit('update', 'lit', cm('lit', '3002', { a: '2' }), 'a2'), C);
    p.watchChange(change('MODIFIED', cm('lit', '3002', { a: '2' })), C);
    // a delete answered with a Status: the watch's DELETED carries another revision
    p.watchChange(change('DELETED', cm('lit', '3003', { a: '2' })), C);
    p.auditEvent(audit('delete', 'lit', status('lit'), 'a3'), C);
    // an audit event without a resourceVersion (Metadata level) explains the oldest pending change
    p.watchChange(change('MODIFIED', cm('meta', '3004', { b: '1' })), C);
    p.auditEvent({ ...audit('patch', 'meta', undefined, 'a4'), level: 'Metadata', responseObject: undefined, requestObject: undefined }, C);
    // listed at start: created long before the informers started
    p.watchChange(change('ADDED', cm('old', '17', { c: '1' }, '2025-01-01T00:00:00Z')), C);
    wait(10 * GRACE);
    expect(sweep()).toEqual([]);
  });

  it('is off without trackUnexplained (the informers ask for it in audit mode only)', () => {
    const p = new Pipeline();
    p.watchChange(change('MODIFIED', cm('dark', '2002', { a: '2' })), C);
    expect(p.begin().unexplainedChanges().spans).toEqual([]);
  });
});
