// Each detector over a small hand-built history: the misbehaviour it must find (detector, severity,
// objects, actors, evidence, link) and the normal case next to it that it must leave alone.
import { describe, expect, it } from 'vitest';
import { Attr, objectKey, type ObjectRef } from '../../src/core/model.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import { parseDiff, SpanIndex } from '../../frontend-plugin/diagnose/span-index.ts';
import { noopWrites } from '../../frontend-plugin/diagnose/detectors/noop-writes.ts';
import type { Detector, Finding, Report } from '../../frontend-plugin/diagnose/types.ts';
import { at, DC, GC, History, ref, RSC, T0 } from './diagnose-fixture.ts';

const run = (h: History, endSec?: number, o: Parameters<typeof buildReport>[1] = {}): Report =>
  buildReport(h.spans, { ...(endSec !== undefined ? { startUs: at(0), endUs: at(endSec) } : {}), ...o });
const of = (r: Report, detector: string): Finding[] => r.findings.filter((f) => f.detector === detector);
const names = (f: Finding): string[] => f.objects.map((o) => o.name);

describe('churn', () => {
  it('finds a ReplicaSet creating far more pods than its replicas, and a name re-created again and again', () => {
    const h = new History();
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    h.create(rs, 0, DC, { spec: { replicas: 2 } });
    for (let i = 0; i < 12; i++) {
      const p = h.pod(rs, `web-abc-${i}`, 1 + i, RSC);
      h.del(p, 1.5 + i, RSC);
    }
    const cm = ref('configmaps', 'default', 'flappy');
    for (let i = 0; i < 4; i++) {
      h.create(cm, 20 + i, 'looper');
      h.del(cm, 20.5 + i, 'looper');
    }
    const r = run(h);
    const [owner, name] = of(r, 'churn');
    expect(owner).toMatchObject({ detector: 'churn', severity: 'warning', objects: [rs], actors: [RSC], data: { creates: 12, desired: 2 } });
    expect(owner!.title).toBe('ReplicaSet default/web-abc created 12 pods while it wanted at most 2');
    expect(owner!.evidence[0]).toMatchObject({ user: RSC, verb: 'create', object: { name: 'web-abc-0' } });
    expect(owner!.redirect).toBe(
      `/redirect?cluster=kwok&group=apps&resource=replicasets&namespace=default&name=web-abc&ts=${encodeURIComponent(new Date(at(1) / 1000).toISOString())}`,
    );
    expect(name).toMatchObject({ severity: 'warning', objects: [cm], actors: ['looper'], data: { recreations: 3 } });
    expect(name!.title).toBe('ConfigMap default/flappy was deleted and re-created 3 times');
  });

  it('leaves a ReplicaSet that created what it wanted alone', () => {
    const h = new History();
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    h.create(rs, 0, DC, { spec: { replicas: 3 } });
    for (let i = 0; i < 3; i++) h.pod(rs, `web-abc-${i}`, 1, RSC);
    expect(of(run(h), 'churn')).toEqual([]);
  });
});

describe('fighting', () => {
  it('names the two actors flipping spec.replicas, the count and the values', () => {
    const h = new History();
    const d = ref('deployments', 'default', 'web', 'apps');
    h.create(d, 0, 'admin', { spec: { replicas: 2 } });
    for (let i = 0; i < 3; i++) {
      h.update(d, 10 + 2 * i, 'hpa', 'spec.replicas 2 -> 5', { [Attr.subresource]: 'scale' });
      h.update(d, 11 + 2 * i, 'kubectl-loop', 'spec.replicas 5 -> 2', { [Attr.subresource]: 'scale' });
    }
    const [f, ...rest] = of(run(h), 'fighting');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [d],
      actors: ['hpa', 'kubectl-loop'],
      data: { field: 'spec.replicas', flips: 5, changes: 6, values: ['5', '2'], changesByActor: { hpa: 3, 'kubectl-loop': 3 } },
    });
    expect(f!.title).toBe('hpa and kubectl-loop keep changing spec.replicas of Deployment default/web (5 flips)');
    expect(f!.evidence.map((e) => [e.user, e.diff])).toContainEqual(['kubectl-loop', 'spec.replicas 5 -> 2']);
  });

  it('does not call one actor changing a field often, or two actors taking turns once, a fight', () => {
    const h = new History();
    const d = ref('deployments', 'default', 'web', 'apps');
    for (let i = 0; i < 6; i++) h.update(d, i, 'ci', `spec.replicas ${i} -> ${i + 1}`);
    h.update(d, 10, 'admin', 'spec.replicas 6 -> 2');
    expect(of(run(h), 'fighting')).toEqual([]);
  });
});

describe('conflicts', () => {
  it('reports a storm of 409s of one actor with what it retried; a controller’s occasional 409 is only info', () => {
    const h = new History();
    const cm = ref('configmaps', 'default', 'settings');
    for (let i = 0; i < 6; i++)
      h.fail(cm, i, 'stale-replacer', 'update', 409, 'Conflict: Operation cannot be fulfilled on configmaps "settings": the object has been modified');
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    for (let i = 0; i < 6; i++) h.fail(rs, 20 + i, RSC, 'update', 409, 'Conflict: the object has been modified', { [Attr.subresource]: 'status' });
    for (let i = 0; i < 20; i++) h.status(rs, 20.5 + i, RSC, `status.replicas ${i} -> ${i + 1}`);
    const r = run(h);
    const storm = of(r, 'conflicts').find((f) => f.actors?.[0] === 'stale-replacer')!;
    expect(storm).toMatchObject({ severity: 'warning', objects: [cm], data: { failures: 6, byCode: { 409: 6 }, failedRatio: 1, retried: { succeeded: 0 } } });
    expect(storm.evidence[0]).toMatchObject({ verb: 'update', code: 409, user: 'stale-replacer' });
    expect(storm.evidence[0]!.message).toMatch(/^Conflict/);
    const normal = of(r, 'conflicts').find((f) => f.actors?.[0] === RSC)!;
    expect(normal).toMatchObject({ severity: 'info', data: { failures: 6, retried: { succeeded: 6 } } });
  });

  it('calls 5xx storms errors and stays quiet below the threshold', () => {
    const h = new History();
    const cm = ref('configmaps', 'default', 'x');
    for (let i = 0; i < 5; i++) h.fail(cm, i, 'op', 'patch', 503, 'ServiceUnavailable');
    h.fail(cm, 9, 'other', 'patch', 429, 'TooManyRequests');
    const r = run(h);
    expect(of(r, 'conflicts').map((f) => [f.actors, f.severity])).toEqual([[['op'], 'error']]);
  });
});

describe('noop-writes', () => {
  it('counts writes that changed nothing per actor and resource', () => {
    const h = new History();
    for (let i = 0; i < 8; i++) h.noop(ref('configmaps', 'default', `cm-${i % 2}`), i, 'applier');
    h.noop(ref('configmaps', 'default', 'cm-0'), 9, 'someone-else');
    const [f, ...rest] = of(run(h), 'noop-writes');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'warning', actors: ['applier'], data: { writes: 8, objects: 2, resource: '/configmaps' } });
    expect(f!.title).toBe('applier wrote 8 configmaps updates that changed nothing (2 objects)');
    expect(names(f!).sort()).toEqual(['cm-0', 'cm-1']);
  });
});

describe('noop-writes by resourceVersion', () => {
  it('counts a write answered with the resourceVersion the object already had (server-side apply, unchanged)', () => {
    const h = new History();
    const cm = ref('configmaps', 'default', 'same');
    h.write(cm, 0, 'admin', 'create', { [Attr.code]: 201, [Attr.newResourceVersion]: '100' });
    for (let i = 1; i <= 5; i++) h.write(cm, i, 'ssa', 'patch', { [Attr.newResourceVersion]: '100' });
    h.write(cm, 9, 'ssa', 'patch', { [Attr.newResourceVersion]: '101', [Attr.diff]: 'data.a "1" -> "2"' });
    const [f] = of(run(h), 'noop-writes');
    expect(f).toMatchObject({ actors: ['ssa'], data: { writes: 5 } });
  });
});

describe('stuck-rollouts', () => {
  const dep = ref('deployments', 'default', 'web', 'apps');
  const progress = (h: History, sec: number, n: number): void => {
    h.status(
      dep,
      sec,
      DC,
      `status.updatedReplicas ${n - 1} -> ${n}\nstatus.readyReplicas ${n - 1} -> ${n}\nstatus.availableReplicas ${n - 1} -> ${n}\nstatus.replicas ${n - 1} -> ${n}`,
    );
  };

  it('finds a Deployment whose status never reached its spec', () => {
    const h = new History();
    h.create(dep, 0, 'admin', { metadata: { generation: 1 }, spec: { replicas: 3 }, status: {} });
    progress(h, 1, 1);
    const [f] = of(run(h, 300), 'stuck-rollouts');
    expect(f).toMatchObject({ severity: 'error', objects: [dep], data: { desired: 3, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 } });
    expect(f!.title).toMatch(
      /^Deployment default\/web has not reached its spec 5 min after the last change: updatedReplicas 1\/3, readyReplicas 1\/3, availableReplicas 1\/3$/,
    );
    expect(f!.evidence[0]).toMatchObject({ user: 'admin', verb: 'create' });
  });

  it('leaves a finished rollout alone and warns about a slow one', () => {
    const fast = new History();
    fast.create(dep, 0, 'admin', { spec: { replicas: 2 } });
    progress(fast, 1, 1);
    progress(fast, 2, 2);
    expect(of(run(fast, 3000), 'stuck-rollouts')).toEqual([]);
    const slow = new History();
    slow.create(dep, 0, 'admin', { spec: { replicas: 2 } });
    progress(slow, 1, 1);
    progress(slow, 200, 2);
    const [f] = of(run(slow, 3000), 'stuck-rollouts');
    expect(f).toMatchObject({ severity: 'warning', data: { tookSec: 200, noProgressSec: 199 } });
  });

  it('judges progress, not wall time: a large rollout that keeps progressing for minutes is no finding', () => {
    const big = new History();
    big.create(dep, 0, 'admin', { spec: { replicas: 40 } });
    for (let n = 1; n <= 40; n++) progress(big, 10 * n, n); // one more ready pod every 10 s: 400 s in all
    expect(of(run(big, 3000), 'stuck-rollouts')).toEqual([]);
    expect(of(run(big, 250), 'stuck-rollouts')).toEqual([]); // still progressing at the range end
    const stalled = new History();
    stalled.create(dep, 0, 'admin', { spec: { replicas: 40 } });
    for (let n = 1; n <= 20; n++) progress(stalled, 10 * n, n);
    const [f] = of(run(stalled, 400), 'stuck-rollouts'); // no progress since 200 s
    expect(f).toMatchObject({ severity: 'error', data: { waitedSec: 400, noProgressSec: 200, readyReplicas: 20 } });
    expect(f!.title).toContain('no progress for 3.3 min');
  });

  it('reports a ReplicaSet that cannot create pods (FailedCreate: quota)', () => {
    const h = new History();
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    h.kubeEvent(
      rs,
      1,
      'FailedCreate',
      'Error creating: pods "web-abc-x" is forbidden: exceeded quota: q, requested: pods=1',
      'Warning',
      'replicaset-controller',
    );
    const [f] = of(run(h), 'stuck-rollouts');
    expect(f).toMatchObject({ severity: 'error', objects: [rs] });
    expect(f!.title).toMatch(/could not create pods \(1×\): Error creating: .*exceeded quota/);
  });
});

describe('unscheduled-pods', () => {
  it('groups pods that never got a binding by owner, with the FailedScheduling message', () => {
    const h = new History();
    const rs = ref('replicasets', 'default', 'picky-abc', 'apps');
    for (let i = 0; i < 2; i++) {
      const p = h.pod(rs, `picky-abc-${i}`, 1, RSC);
      // core/v1 Event times are whole seconds: this one is stamped before the create's milliseconds
      h.kubeEvent(p, 0.5, 'FailedScheduling', "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    }
    h.pod(rs, 'fine-1', 1, RSC, { node: 'n1', runAfter: 0.01 });
    const [f, ...rest] = of(run(h, 120), 'unscheduled-pods');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'error', data: { problem: 'unscheduled', pods: 2 } });
    expect(names(f!)).toEqual(['picky-abc', 'picky-abc-0', 'picky-abc-1']);
    expect(f!.title).toBe(
      "2 pods of ReplicaSet default/picky-abc were never scheduled (no binding after 119 s): 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    );
    expect(f!.evidence.some((e) => e.verb === 'event FailedScheduling' && /node affinity/.test(e.message ?? ''))).toBe(true);
  });

  it('finds a pod bound but never Running, and ignores one deleted before the threshold', () => {
    const h = new History();
    const p = h.pod(undefined, 'stuck', 0, 'admin', { node: 'n1' });
    const q = h.pod(undefined, 'short-lived', 0, 'admin');
    h.del(q, 5, 'admin');
    const [f, ...rest] = of(run(h, 600), 'unscheduled-pods');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ objects: [p], data: { problem: 'not running' } });
    expect(f!.title).toMatch(/^Pod default\/stuck was bound but never Running/);
  });
});

describe('orphans', () => {
  it('finds a ReplicaSet left behind by a Deployment deleted with --cascade=orphan', () => {
    const h = new History();
    const d = ref('deployments', 'default', 'web', 'apps');
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    h.create(d, 0, 'admin', { spec: { replicas: 1 } });
    h.create(rs, 1, DC, { spec: { replicas: 1 } });
    h.own(d, rs, 1);
    h.del(d, 10, 'admin'); // kubectl delete --cascade=orphan: the orphan finalizer, then GC releases the dependents
    h.update(rs, 10.01, GC, 'metadata.ownerReferences [{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}] -> <none>', { [Attr.verb]: 'patch' });
    const [f] = of(run(h, 200), 'orphans');
    expect(f).toMatchObject({ severity: 'warning', objects: [d, rs], data: { relation: 'owner', survivors: 1, stillThere: 1, orphaned: 1 } });
    expect(f!.title).toMatch(
      /^1 object outlived its deleted owner Deployment default\/web by up to 3.2 min \(orphaned: owner reference removed by .*garbage-collector\)$/,
    );
    expect(f!.evidence.map((e) => e.verb)).toEqual(['delete', 'patch']);
  });

  it('finds pods still bound to a deleted node; garbage collected children within the grace are fine', () => {
    const h = new History();
    const node = ref('nodes', '', 'n2');
    h.create(node, 0, 'kwok');
    const p = h.pod(undefined, 'on-n2', 1, 'admin', { node: 'n2', runAfter: 0.1 });
    h.del(node, 10, 'admin');
    h.del(p, 60, 'system:serviceaccount:kube-system:pod-garbage-collector');
    const d = ref('deployments', 'default', 'gone', 'apps');
    const rs = ref('replicasets', 'default', 'gone-1', 'apps');
    h.create(d, 0, 'admin');
    h.create(rs, 0, DC);
    h.own(d, rs, 0);
    h.del(d, 20, 'admin');
    h.del(rs, 20.1, GC);
    const fs = of(run(h, 100), 'orphans');
    expect(fs).toHaveLength(1);
    expect(fs[0]).toMatchObject({ objects: [node, p], data: { relation: 'node', maxStaySec: 50 } });
    expect(fs[0]!.title).toBe('1 pod stayed bound to deleted Node n2 for up to 50 s');
  });
});

describe('orphans of objects with several owners', () => {
  it('an object that another owner still owns is not orphaned when one owner goes; when the last goes it is', () => {
    const h = new History();
    const [a, b] = ['a', 'b'].map((n) => ref('deployments', 'default', n, 'apps')) as [ObjectRef, ObjectRef];
    const cm = ref('configmaps', 'default', 'shared');
    h.create(a, 0, 'admin');
    h.create(b, 0, 'admin');
    h.create(cm, 1, 'admin');
    h.own(a, cm, 1);
    h.own(b, cm, 1);
    h.del(a, 10, 'admin');
    h.update(cm, 10.01, GC, 'metadata.ownerReferences.a <removed>', { [Attr.verb]: 'patch' });
    expect(of(run(h, 100), 'orphans')).toEqual([]);
    h.del(b, 50, 'admin');
    const [f, ...rest] = of(run(h, 100), 'orphans');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ objects: [b, cm], data: { relation: 'owner', survivors: 1 } });
  });

  it('the owner of an object with several is its controlling one (link.controller)', () => {
    const h = new History();
    const [a, b] = ['a', 'b'].map((n) => ref('deployments', 'default', n, 'apps')) as [ObjectRef, ObjectRef];
    const cm = ref('configmaps', 'default', 'shared');
    h.create(cm, 1, 'admin');
    h.own(a, cm, 1);
    h.own(b, cm, 1);
    const index = () => new SpanIndex(h.spans);
    expect(index().ownerOf(objectKey(cm))).toBe(objectKey(a)); // none controls it: the first
    for (const s of h.spans)
      if (s.kind === 'link' && [s.attributes[Attr.linkKey], objectKey(s.object)].includes(objectKey(b))) s.attributes[Attr.linkController] = true;
    expect(index().ownerOf(objectKey(cm))).toBe(objectKey(b));
  });
});

describe('slow-reactions', () => {
  it('gives p50/p99 per stage and names the outlier above the threshold', () => {
    const h = new History();
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    for (let i = 0; i < 9; i++) h.pod(rs, `fast-${i}`, i, RSC, { node: 'n1', bindAfter: 0.01, runAfter: 0.01 });
    h.pod(rs, 'slow', 20, RSC, { node: 'n1', bindAfter: 30, runAfter: 0.01 });
    const fs = of(run(h), 'slow-reactions');
    const bind = fs.find((f) => f.data?.stage === 'create→binding')!;
    expect(bind).toMatchObject({ severity: 'warning', actors: ['system:kube-scheduler'], data: { count: 10, p50: 0.01, p99: 30 } });
    expect(bind.objects[0]!.name).toBe('slow');
    expect(bind.title).toMatch(/slowest Pod default\/slow 30 s/);
    expect(fs.find((f) => f.data?.stage === 'binding→running')).toMatchObject({ severity: 'info', data: { count: 10 } });
  });

  it('measures Deployment → ReplicaSet and ReplicaSet → pod reactions', () => {
    const h = new History();
    const d = ref('deployments', 'default', 'web', 'apps');
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    h.create(d, 0, 'admin', { spec: { replicas: 1 } });
    h.create(rs, 0.5, DC, { spec: { replicas: 1 } });
    h.own(d, rs, 0.5);
    h.pod(rs, 'web-abc-1', 0.7, RSC);
    const fs = of(run(h), 'slow-reactions');
    expect(fs.find((f) => f.data?.stage === 'deployment→replicaset')?.data).toMatchObject({ count: 1, p50: 0.5 });
    expect(fs.find((f) => f.data?.stage === 'replicaset→pods')?.data).toMatchObject({ count: 1, p50: 0.2 });
  });
});

describe('pod startup report', () => {
  it('gives the phases per pod as percentiles, grouped, and turns a p99 above the threshold into an error', () => {
    const h = new History();
    const rs = ref('replicasets', 'default', 'web-abc', 'apps');
    for (let i = 0; i < 4; i++) h.pod(rs, `p-${i}`, i, RSC, { node: i % 2 ? 'n1' : 'n2', bindAfter: 1, runAfter: 1 });
    h.pod(rs, 'late', 10, RSC, { node: 'n1', bindAfter: 1, runAfter: 7 });
    const r = run(h, undefined, { podStartupThresholdSec: 5 });
    expect(r.podStartup).toMatchObject({ pods: 5, notRunning: 0, startup: { count: 5, p50: 2, p99: 8, max: 8 }, scheduled: { p99: 1 } });
    expect(Object.keys(r.podStartup!.byNode)).toEqual(['n1', 'n2']);
    expect(r.podStartup!.byOwner[objectKey(rs)]!.startup.count).toBe(5);
    const [f] = of(r, 'pod-startup');
    expect(f).toMatchObject({ severity: 'error', data: { p99: 8, thresholdSec: 5 } });
    expect(f!.objects[0]!.name).toBe('late');
    expect(r.detectors.find((d) => d.name === 'pod-startup')).toEqual({ name: 'pod-startup', findings: 1, failed: false });
    expect(of(run(h, undefined, { podStartupThresholdSec: 10 }), 'pod-startup')).toEqual([]);
  });
});

describe('report', () => {
  it('runs the other detectors when one throws, and says which failed', () => {
    const h = new History();
    for (let i = 0; i < 5; i++) h.noop(ref('configmaps', 'default', 'c'), i, 'a');
    const broken: Detector = {
      name: 'broken',
      description: 'throws',
      detect: () => {
        throw new Error('boom');
      },
    };
    const r = buildReport(h.spans, { detectors: [broken, noopWrites] });
    expect(r.detectors).toEqual([
      { name: 'broken', findings: 0, failed: true, error: 'boom' },
      { name: 'noop-writes', findings: 1, failed: false },
    ]);
  });

  it('de-duplicates redelivered spans and sorts findings by severity', () => {
    const h = new History();
    for (let i = 0; i < 5; i++) h.noop(ref('configmaps', 'default', 'c'), i, 'a');
    const p = h.pod(undefined, 'never', 0, 'admin');
    const r = buildReport([...h.spans, ...h.spans.map((s) => ({ ...s }))], { startUs: at(0), endUs: at(100) });
    expect(of(r, 'noop-writes')[0]!.data).toMatchObject({ writes: 5 });
    expect(r.findings[0]).toMatchObject({ detector: 'unscheduled-pods', severity: 'error', objects: [p] });
    expect(r.start).toBe(new Date(T0 * 1000).toISOString());
  });

  it('--selector keeps the findings of the object, its owners and what it owns', () => {
    const h = new History();
    const rsA = ref('replicasets', 'default', 'a', 'apps');
    const rsB = ref('replicasets', 'default', 'b', 'apps');
    h.create(rsA, 0, DC, { spec: { replicas: 1 } });
    h.pod(rsA, 'a-1', 0, RSC);
    h.pod(rsB, 'b-1', 0, RSC);
    const all = run(h, 100);
    expect(of(all, 'unscheduled-pods')).toHaveLength(2);
    const only = run(h, 100, { selector: rsA });
    expect(only.findings.every((f) => f.objects[0]!.name === 'a')).toBe(true);
    expect(of(only, 'unscheduled-pods').map((f) => f.objects[0]!.name)).toEqual(['a']);
    expect(only.detectors.find((d) => d.name === 'unscheduled-pods')!.findings).toBe(1);
  });
});

describe('diff lines', () => {
  it('parses values that contain " -> " and keys with spaces', () => {
    expect(parseDiff('metadata.annotations["a b"] "x -> y" -> "z"\nspec.replicas 1 -> 2')).toEqual([
      { path: 'metadata.annotations["a b"]', old: '"x -> y"', new: '"z"' },
      { path: 'spec.replicas', old: '1', new: '2' },
    ]);
  });

  it('splits at the first arrow after a whole JSON value, escaped quotes and odd numbers included', () => {
    const lines = [
      'metadata.annotations.a "x\\" -> y" -> "z"',
      'spec.replicas 01 -> 2 -> 3',
      'status.ratio -1.5e3 -> 2',
      'spec.template {"a":"b -> c"} -> <none>',
      'status.phase <none> -> "Running"',
    ];
    expect(parseDiff(lines.join('\n'))).toEqual([
      { path: 'metadata.annotations.a', old: '"x\\" -> y"', new: '"z"' },
      // `01` is not JSON, nor `01 -> 2`: no split found, the line is left out
      { path: 'status.ratio', old: '-1.5e3', new: '2' },
      { path: 'spec.template', old: '{"a":"b -> c"}', new: '<none>' },
      { path: 'status.phase', old: '<none>', new: '"Running"' },
    ]);
  });
});
