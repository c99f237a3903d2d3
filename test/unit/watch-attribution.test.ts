// List-watch-only attribution (issue 19 item 2): who made a watch change is read from what changed
// in managedFields between the previous and the new version, not from the newest `time` (which has
// one-second precision). Fixtures are managedFields as kube-apiserver 1.31 writes them.
import { describe, expect, it } from 'vitest';
import { Pipeline, type WatchChange } from '../../src/pipeline/pipeline.ts';
import { Attr } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { changedPaths, owns } from '../../src/normalize/watch-change.ts';

const C = 'lw';
const T = '2026-12-06T10:00:00Z';

interface Entry {
  manager: string;
  operation: 'Update' | 'Apply';
  time: string;
  subresource?: string;
  fieldsV1: unknown;
}

const create: Entry = {
  manager: 'kubectl-create',
  operation: 'Update',
  time: T,
  fieldsV1: {
    'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
  },
};
const statusBy = (time: string): Entry => ({
  manager: 'kube-controller-manager',
  operation: 'Update',
  subresource: 'status',
  time,
  fieldsV1: {
    'f:status': {
      'f:observedGeneration': {},
      'f:replicas': {},
      'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {}, 'f:lastUpdateTime': {} } },
    },
  },
});

function deployment(rv: number, managedFields: Entry[], spec: { replicas: number; image: string }, status: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'dep-uid', resourceVersion: String(rv), generation: 1, creationTimestamp: T, managedFields },
    spec: { replicas: spec.replicas, template: { spec: { containers: [{ name: 'web', image: spec.image }] } } },
    status,
  };
}

function run(objects: { type: WatchChange['type']; object: unknown }[]): SpanRecord[] {
  const p = new Pipeline();
  p.setListWatchOnly(C, true);
  return objects.flatMap((o) => p.watchChange({ ...o, group: 'apps', version: 'v1', resource: 'deployments' }, C).spans.filter((s) => s.kind === 'event'));
}

const who = (s: SpanRecord) => ({ manager: s.attributes[Attr.fieldManager], name: s.name, attribution: s.attributes[Attr.attribution] });
/** The span of `v2` watched as a change of `v1`. */
const change = (v1: unknown, v2: unknown) =>
  run([
    { type: 'ADDED', object: v1 },
    { type: 'MODIFIED', object: v2 },
  ])[1]!;

describe('list-watch-only attribution by managedFields changes', () => {
  it("a status write in the same second as a user's update is the controller's status write, not the user's", () => {
    const v1 = deployment(10, [create], { replicas: 1, image: 'nginx:1' });
    // the controller's status write, same second as the create: the create's entry is unchanged
    const v2 = deployment(11, [create, statusBy(T)], { replicas: 1, image: 'nginx:1' }, { observedGeneration: 1, replicas: 1 });
    // kubectl set image in the same second: kubectl-set takes the container image
    const set: Entry = {
      manager: 'kubectl-set',
      operation: 'Update',
      time: T,
      fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } },
    };
    const v3 = deployment(12, [create, statusBy(T), set], { replicas: 1, image: 'nginx:2' }, { observedGeneration: 1, replicas: 1 });
    // and the controller's next status write, still in that second, listed before kubectl-set's entry
    const v4 = deployment(13, [create, statusBy(T), set], { replicas: 1, image: 'nginx:2' }, { observedGeneration: 2, replicas: 1 });
    const spans = run([
      { type: 'ADDED', object: v1 },
      { type: 'MODIFIED', object: v2 },
      { type: 'MODIFIED', object: v3 },
      { type: 'MODIFIED', object: v4 },
    ]);
    expect(spans.map(who)).toEqual([
      { manager: 'kubectl-create', name: 'create', attribution: 'fields' },
      { manager: 'kube-controller-manager', name: 'update status', attribution: 'fields' },
      { manager: 'kubectl-set', name: 'update', attribution: 'fields' },
      { manager: 'kube-controller-manager', name: 'update status', attribution: 'fields' },
    ]);
    // same-second changes keep their resourceVersion order
    const starts = spans.map((s) => s.startUs);
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(new Set(starts).size).toBe(starts.length);
    expect(starts[0]).toBe(Date.parse(T) * 1000);
  });

  it('a spec change by a manager that also writes status is the spec update, not "update status"', () => {
    const main: Entry = { manager: 'kube-controller-manager', operation: 'Update', time: T, fieldsV1: { 'f:spec': { 'f:replicas': {} } } };
    const v1 = deployment(20, [main, statusBy(T)], { replicas: 1, image: 'nginx:1' }, { replicas: 1 });
    const v2 = deployment(21, [main, statusBy(T)], { replicas: 3, image: 'nginx:1' }, { replicas: 1 });
    // nothing in managedFields changed (same manager, same second): the owner of spec.replicas wrote it
    expect(who(change(v1, v2))).toEqual({
      manager: 'kube-controller-manager',
      name: 'update',
      attribution: 'fields',
    });
  });

  it("a status patch that replaces the conditions is the patcher's, though the controller keeps `f:conditions` as a leaf", () => {
    const v1 = deployment(50, [create, statusBy(T)], { replicas: 1, image: 'nginx:1' }, { conditions: [{ type: 'Available', status: 'True' }] });
    // a JSON merge patch replaces the list: kube-controller-manager keeps only the bare field
    const kcm = { ...statusBy(T), fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:replicas': {} } } };
    const bot: Entry = {
      manager: 'status-bot',
      operation: 'Update',
      subresource: 'status',
      time: T,
      fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Audited"}': { '.': {}, 'f:status': {}, 'f:type': {} } } } },
    };
    const v2 = deployment(51, [create, kcm, bot], { replicas: 1, image: 'nginx:1' }, { conditions: [{ type: 'Audited', status: 'True' }] });
    expect(who(change(v1, v2))).toEqual({
      manager: 'status-bot',
      name: 'update status',
      attribution: 'fields',
    });
  });

  it('a server-side apply in the same second as an update is the applier', () => {
    const apply: Entry = { manager: 'team-a', operation: 'Apply', time: T, fieldsV1: { 'f:spec': { 'f:replicas': {} } } };
    const v1 = deployment(30, [create], { replicas: 1, image: 'nginx:1' });
    const v2 = deployment(31, [create, apply], { replicas: 4, image: 'nginx:1' });
    const s = change(v1, v2);
    expect(who(s)).toEqual({ manager: 'team-a', name: 'apply', attribution: 'fields' });
    expect(s.attributes[Attr.verb]).toBe('apply');
  });

  it('marks what it cannot tell: a delete is unknown, a change without a previous version is guessed', () => {
    const v1 = deployment(40, [create, statusBy(T)], { replicas: 1, image: 'nginx:1' }, { replicas: 1 });
    const spans = run([
      { type: 'MODIFIED', object: v1 },
      { type: 'DELETED', object: v1 },
    ]);
    expect(spans[0]!.attributes[Attr.attribution]).toBe('guessed');
    expect(spans[1]!.attributes[Attr.attribution]).toBe('unknown');
    expect(spans[1]!.attributes[Attr.fieldManager]).toBeUndefined();
    expect(spans[1]!.attributes[Attr.user]).toBeUndefined();
    // an object listed with several managers: its creator is a guess
    expect(run([{ type: 'ADDED', object: v1 }])[0]!.attributes[Attr.attribution]).toBe('guessed');
  });

  it("writes managedFields do not record are named by what they changed, with no actor: a pod's binding, a graceful deletion", () => {
    const byRs: Entry = { manager: 'kube-controller-manager', operation: 'Update', time: T, fieldsV1: { 'f:spec': { 'f:containers': {} } } };
    const pod = (rv: number, md: Record<string, unknown>, spec: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'default', uid: 'pod-uid', resourceVersion: String(rv), creationTimestamp: T, managedFields: [byRs], ...md },
      spec: { containers: [{ name: 'web', image: 'nginx:1' }], ...spec },
    });
    const p = new Pipeline();
    p.setListWatchOnly(C, true);
    const spans = [
      { type: 'ADDED' as const, object: pod(1, {}, {}) },
      { type: 'MODIFIED' as const, object: pod(2, {}, { nodeName: 'kwok-node-0' }) },
      { type: 'MODIFIED' as const, object: pod(3, { deletionTimestamp: '2026-12-06T10:00:30Z', deletionGracePeriodSeconds: 30 }, { nodeName: 'kwok-node-0' }) },
    ].flatMap((o) => p.watchChange({ ...o, group: '', version: 'v1', resource: 'pods' }, C).spans.filter((s) => s.kind === 'event'));
    expect(spans.map(who)).toEqual([
      { manager: 'kube-controller-manager', name: 'create', attribution: 'fields' },
      { manager: undefined, name: 'create binding', attribution: 'unknown' },
      { manager: undefined, name: 'delete', attribution: 'unknown' },
    ]);
  });

  it('changed paths and field ownership follow fieldsV1 keys (k:, v:, atomic leaves)', () => {
    const prev = { metadata: { resourceVersion: '1', finalizers: ['a'] }, status: { conditions: [{ type: 'Available', status: 'False' }] } };
    const cur = { metadata: { resourceVersion: '2', finalizers: ['a', 'b'] }, status: { conditions: [{ type: 'Available', status: 'True' }] } };
    const paths = changedPaths(prev, cur);
    expect(paths).toHaveLength(2); // resourceVersion is nobody's field
    const f = { 'f:metadata': { 'f:finalizers': { '.': {}, 'v:"b"': {} } }, 'f:status': { 'f:conditions': { 'k:{"type":"Available"}': { 'f:status': {} } } } };
    expect(paths.every((p) => owns(f, p))).toBe(true);
    expect(owns({ 'f:status': { 'f:conditions': { 'k:{"type":"Progressing"}': { 'f:status': {} } } } }, paths[1]!)).toBe(false);
    expect(owns({ 'f:data': {} }, [{ key: 'data' }, { key: 'x' }])).toBe(true);
  });
});
