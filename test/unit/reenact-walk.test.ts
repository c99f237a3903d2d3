// exportReenact over spans the real pipeline made from hand-written audit events (an operator
// under test, its custom resource, a controller, a failed request): which writes become actions and
// what each carries — owner references between objects the file creates, a status write, the
// controllers' writes left out, a refused request left out, a diff cut at 500 lines named.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { exportReenact } from '../../frontend-plugin/reenact/export.ts';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';

let seq = 0;
let rv = 100;
const t = (s: number) => `2026-12-06T09:00:${String(s).padStart(2, '0')}.000000Z`;

/** A ResponseComplete audit event at second `at` whose response is `obj` (given a fresh resourceVersion). */
function audit(at: number, user: string, verb: string, obj: Record<string, any>, opts: { subresource?: string; code?: number; resource?: string } = {}) {
  const md = obj.metadata;
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const failed = (opts.code ?? 200) >= 300;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `a-${++seq}`,
    stage: 'ResponseComplete',
    verb,
    user: { username: user },
    userAgent: user === 'operator' ? 'widget-operator/1.0' : 'kube-controller-manager/v1.33.1',
    sourceIPs: ['127.0.0.1'],
    objectRef: {
      resource: opts.resource ?? `${obj.kind.toLowerCase()}s`,
      namespace: md.namespace,
      name: md.name,
      apiGroup: group,
      apiVersion: version,
      subresource: opts.subresource,
    },
    responseStatus: failed ? { code: opts.code, reason: 'Conflict', message: 'the object has been modified' } : { code: opts.code ?? 200 },
    responseObject: failed
      ? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: opts.code }
      : { ...obj, metadata: { ...md, resourceVersion: String(++rv) } },
    requestReceivedTimestamp: t(at),
    stageTimestamp: t(at),
  };
}

const widget = (status?: Record<string, unknown>) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w1', namespace: 'shop', uid: 'uid-w1', creationTimestamp: t(0) },
  spec: { size: 3 },
  ...(status ? { status } : {}),
});
const owned = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'w1-config',
    namespace: 'shop',
    uid: 'uid-c1',
    ownerReferences: [
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w1', uid: 'uid-w1', controller: true },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'uid-rs' },
    ],
  },
  data,
});
const many = (n: number, v: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, v]));

describe('export of an operator under test', () => {
  let store: SqliteStore;
  let backend: SqliteBackend;

  beforeEach(async () => {
    store = new SqliteStore(':memory:');
    backend = new SqliteBackend(store);
    const p = new Pipeline({ windowSec: 1800 });
    const events = [
      audit(0, 'operator', 'create', widget()),
      audit(1, 'operator', 'create', owned({ a: '1' }), { resource: 'configmaps' }),
      audit(2, 'operator', 'update', widget({ phase: 'Ready' }), { subresource: 'status' }),
      audit(3, 'system:serviceaccount:kube-system:generic-garbage-collector', 'patch', owned({ a: '1', gc: 'x' }), { resource: 'configmaps' }),
      audit(4, 'operator', 'update', owned({ a: '2' }), { resource: 'configmaps', code: 409 }),
      audit(5, 'operator', 'update', owned({ a: '2', ...many(600, 'v') }), { resource: 'configmaps' }),
    ];
    for (const e of events) {
      const r = p.auditEvent(e, 'kwok');
      expect(r.error).toBeUndefined();
      await store.write(r.spans);
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("exports the operator's writes, not the garbage collector's nor the refused one", async () => {
    const { header, actions } = await exportReenact(backend, { namespaces: [], includeActors: [], excludeActors: [] });
    expect(actions.map((a) => `${a.verb}${a.subresource ? ` ${a.subresource}` : ''} ${a.ref.kind}`)).toEqual([
      'create Widget',
      'create ConfigMap',
      'patch status Widget',
      'patch ConfigMap',
    ]);
    expect(header.skipped).toEqual({ 'failed request (the API server refused it when recorded)': 1 });
    expect(actions[2]!.patch).toEqual({ status: { phase: 'Ready' } });
    expect(actions.map((a) => a.offsetMs)).toEqual([0, 1000, 2000, 5000]);
  });

  it('keeps the owner reference to the Widget the file creates, drops the one to a controller-made ReplicaSet', async () => {
    const { actions } = await exportReenact(backend, { namespaces: [], includeActors: [], excludeActors: [] });
    const md = actions[1]!.object!.metadata as Record<string, unknown>;
    expect(md.ownerReferences).toEqual([{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w1', controller: true }]);
    expect(actions[1]!.notes).toEqual(['owner reference to ReplicaSet web-5d8f dropped: the file does not create it']);
  });

  it("says when a write's diff was cut at 500 lines: the patch holds what was recorded", async () => {
    const { actions } = await exportReenact(backend, { namespaces: [], includeActors: [], excludeActors: [] });
    const patch = actions[3]!.patch as { data: Record<string, unknown> };
    expect(Object.keys(patch.data)).toHaveLength(500);
    expect(actions[3]!.notes).toEqual(['102 more changed paths were not recorded (the diff was cut at 500 lines): not in the patch']);
  });

  it('--exclude-actor leaves a driving user out; --include-actor brings a controller in', async () => {
    const none = await exportReenact(backend, { namespaces: [], includeActors: [], excludeActors: ['oper*'] });
    expect(none.actions).toEqual([]);
    const gc = await exportReenact(backend, { namespaces: ['shop'], includeActors: ['*:generic-garbage-collector'], excludeActors: [] });
    expect(gc.actions.find((a) => a.recorded.user.endsWith('garbage-collector'))?.patch).toEqual({ data: { gc: 'x' } });
  });
});
