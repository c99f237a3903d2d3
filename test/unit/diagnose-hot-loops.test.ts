// hot-loops over hand-built histories: a looper rewriting one annotation twice a second is named with
// the field, the period and its first write as the cause; busy but normal writers beside it — a
// Deployment rollout, a status-writing controller, node heartbeats and leases — are left alone.
import { describe, expect, it } from 'vitest';
import { Attr } from '../../src/core/model.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import type { Finding, Report } from '../../frontend-plugin/diagnose/types.ts';
import { at, DC, History, ref, RSC } from './diagnose-fixture.ts';

const LOOPER = 'system:serviceaccount:ops:looper';
const run = (h: History, endSec: number, thresholds = {}): Report => buildReport(h.spans, { startUs: at(0), endUs: at(endSec), thresholds });
const loops = (r: Report): Finding[] => r.findings.filter((f) => f.detector === 'hot-loops');

/** A healthy cluster's activity: a 20-replica rollout, scaled, status writes, heartbeats and leases for `sec` seconds. */
function healthy(h: History, sec: number): void {
  const d = ref('deployments', 'demo', 'web', 'apps');
  const rs = ref('replicasets', 'demo', 'web-1', 'apps');
  h.create(d, 0, 'kwok-admin', { spec: { replicas: 20 } });
  h.create(rs, 0.01, DC, { spec: { replicas: 20 } });
  for (let i = 0; i < 20; i++) {
    h.pod(rs, `web-1-${i}`, 0.02 + i * 0.01, RSC, { node: `kwok-node-${i % 3}`, runAfter: 0.01 });
    h.status(rs, 0.05 + i * 0.05, RSC, `status.readyReplicas ${i} -> ${i + 1}`);
    h.status(d, 0.06 + i * 0.05, DC, `status.readyReplicas ${i} -> ${i + 1}`);
  }
  h.update(d, 20, 'kwok-admin', 'spec.replicas 20 -> 5', { [Attr.verb]: 'patch', [Attr.subresource]: 'scale' });
  h.update(rs, 20.01, DC, 'spec.replicas 20 -> 5');
  for (let i = 0; i < 15; i++) h.status(rs, 20.05 + i * 0.02, RSC, `status.replicas ${20 - i} -> ${19 - i}`);
  for (let s = 0; s < sec; s += 2) {
    // leader election leases every 2 s, node status every 10 s per node
    h.update(ref('leases', 'kube-system', 'kube-controller-manager', 'coordination.k8s.io'), s, 'system:kube-controller-manager', 'spec.renewTime "a" -> "b"');
    if (s % 10 === 0)
      for (let n = 0; n < 3; n++)
        h.status(ref('nodes', '', `kwok-node-${n}`), s + 0.1 * n, 'kwok-admin', `status.conditions[type=Ready].lastHeartbeatTime "${s}" -> "${s + 10}"`);
  }
}

describe('hot-loops', () => {
  it('names the looper, the annotation it keeps rewriting, the period and its first write as the cause', () => {
    const h = new History();
    healthy(h, 120);
    const cm = ref('configmaps', 'demo', 'loop');
    for (let i = 0; i < 180; i++) h.update(cm, 10 + i * 0.5, LOOPER, `metadata.annotations.tick "${i}" -> "${i + 1}"`, { [Attr.verb]: 'patch' });
    const r = run(h, 120);
    const [f, ...rest] = loops(r);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [cm],
      actors: [LOOPER],
      data: { writes: 180, periodSec: 0.5, fields: { 'metadata.annotations.tick': 180 } },
    });
    expect(f!.title).toBe(`${LOOPER} rewrites metadata.annotations.tick of ConfigMap demo/loop every 0.5 s (180 writes in 90 s)`);
    expect(f!.cause).toMatchObject({ actor: LOOPER, verb: 'patch', object: cm, time: new Date(at(10) / 1000).toISOString() });
    expect(f!.chain).toHaveLength(2);
    expect(f!.evidence[0]).toMatchObject({ user: LOOPER, diff: 'metadata.annotations.tick "0" -> "1"' });
    expect(r.findings.filter((x) => x.severity !== 'info')).toEqual([f]);
  });

  it('is a loop even when a controller answers each of its writes (the answers follow it, they do not drive it)', () => {
    const h = new History();
    healthy(h, 120);
    const d = ref('deployments', 'demo', 'cfg', 'apps');
    h.create(d, 1, 'kwok-admin', { spec: { replicas: 1 } });
    for (let i = 0; i < 120; i++) {
      h.update(d, 10 + i * 0.5, LOOPER, `metadata.annotations.gen "${i}" -> "${i + 1}"`, { [Attr.verb]: 'patch' });
      h.status(d, 10 + i * 0.5 + 0.005, DC, `status.observedGeneration ${i} -> ${i + 1}`);
    }
    const [f, ...rest] = loops(run(h, 120));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ objects: [d], actors: [LOOPER], data: { writes: 120, fields: { 'metadata.annotations.gen': 120 } } });
  });

  it('leaves a rollout, a status-writing controller, node heartbeats and leases alone', () => {
    const h = new History();
    healthy(h, 300);
    expect(loops(run(h, 300))).toEqual([]);
    // the heartbeats are writes a loop would be made of: counted only when asked for
    const withBeats = loops(run(h, 300, { hotLoopHeartbeats: 1, hotLoopMinRate: 0.4 }));
    expect(withBeats.map((f) => f.objects[0]!.resource)).toEqual(['leases']);
  });

  it('needs the rate sustained: a short burst, or a slow steady writer, is no loop', () => {
    const h = new History();
    const cm = ref('configmaps', 'demo', 'c');
    for (let i = 0; i < 40; i++) h.update(cm, i * 0.5, LOOPER, `data.x "${i}" -> "${i + 1}"`); // 20 s only
    const slow = ref('configmaps', 'demo', 'slow');
    for (let i = 0; i < 40; i++) h.update(slow, i * 5, 'syncer', `data.x "${i}" -> "${i + 1}"`); // every 5 s
    expect(loops(run(h, 300))).toEqual([]);
    expect(loops(run(h, 300, { hotLoopMinDurationSec: 15 }))).toHaveLength(1);
  });

  it('is relative to the actor’s normal rate: a controller as busy on all its objects is not looping on one', () => {
    const h = new History();
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < 60; i++) h.update(ref('configmaps', 'demo', `sync-${o}`), i + o * 0.1, 'syncer', `data.t "${i}" -> "${i + 1}"`);
    expect(loops(run(h, 60))).toEqual([]);
    const h2 = new History();
    for (let i = 0; i < 60; i++) h2.update(ref('configmaps', 'demo', 'sync-0'), i, 'syncer', `data.t "${i}" -> "${i + 1}"`);
    for (let o = 1; o < 3; o++) h2.update(ref('configmaps', 'demo', `sync-${o}`), o, 'syncer', 'data.t "0" -> "1"');
    expect(loops(run(h2, 60)).map((f) => f.objects[0]!.name)).toEqual(['sync-0']);
  });

  it('says so when the loop writes change nothing', () => {
    const h = new History();
    healthy(h, 60);
    const cm = ref('configmaps', 'demo', 'same');
    for (let i = 0; i < 40; i++) h.noop(cm, i, LOOPER);
    expect(loops(run(h, 60))).toHaveLength(1);
    // alone in the record, the loop is the cluster's normal: nothing is far above it
    const alone = new History();
    for (let i = 0; i < 40; i++) alone.noop(cm, i, LOOPER);
    expect(loops(run(alone, 60))).toEqual([]);
    const [f] = loops(run(h, 60));
    expect(f!.title).toBe(`${LOOPER} rewrites nothing (writes without a change) of ConfigMap demo/same every 1.0 s (40 writes in 39 s)`);
    expect(f!.data).toMatchObject({ writes: 40, periodSec: 1, fields: {} });
  });

  it('tells a controller following a slow rollout from a loop: its writes follow changes of what it owns', () => {
    const h = new History();
    healthy(h, 120);
    const d = ref('deployments', 'big', 'slow', 'apps');
    const rs = ref('replicasets', 'big', 'slow-1', 'apps');
    h.create(d, 0, 'kwok-admin', { spec: { replicas: 1000 } });
    h.create(rs, 0.01, DC, { spec: { replicas: 1000 } });
    h.own(d, rs, 0.01);
    // pods become ready over 60 s: the ReplicaSet's status, then the Deployment's, every 1.5 s
    for (let i = 0; i < 40; i++) {
      h.status(rs, 1 + i * 1.5, RSC, `status.readyReplicas ${i * 25} -> ${(i + 1) * 25}`);
      h.status(d, 1.02 + i * 1.5, DC, `status.readyReplicas ${i * 25} -> ${(i + 1) * 25}`);
    }
    expect(loops(run(h, 120))).toEqual([]);
    const all = loops(run(h, 120, { hotLoopReactionShare: 1.01 }));
    expect(all.map((f) => [f.objects[0]!.name, f.data!.reactionShare])).toEqual([['slow', 1]]); // every write followed its ReplicaSet's
  });

  it('reports a storm: one actor rewriting many objects of a kind, each as often as the others', () => {
    const h = new History();
    healthy(h, 120);
    const STORMER = 'system:serviceaccount:ops:stormer';
    for (let o = 0; o < 6; o++)
      for (let i = 0; i < 40; i++) h.update(ref('configmaps', 'demo', `s-${o}`), 10 + i + o * 0.1, STORMER, `metadata.annotations.tick "${i}" -> "${i + 1}"`);
    // and a kwok-like actor writing 100 pods' status once each over 50 s: busy, not a storm
    for (let p = 0; p < 100; p++) h.status(ref('pods', 'demo', `p-${p}`), 10 + p * 0.5, 'kwok-admin', 'status.phase "Pending" -> "Running"');
    const [f, ...rest] = loops(run(h, 120));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'warning', actors: [STORMER], data: { storm: true, objects: 6, writes: 240, periodSec: 1 } });
    expect(f!.objects.map((o) => o.name)).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4', 's-5']);
    expect(f!.title).toBe(
      `${STORMER} rewrites metadata.annotations.tick of 6 ConfigMap objects (demo/s-0, demo/s-1, demo/s-2, …) every 1.0 s each (240 writes in 40 s)`,
    );
    expect(f!.cause).toMatchObject({ actor: STORMER, object: { name: 's-0' } });
    // fewer objects than --hot-loop-storm-min-objects: no storm
    expect(loops(run(h, 120, { hotLoopStormMinObjects: 7 }))).toEqual([]);
  });
});
