// blocked-evictions and completeness over hand-built histories. A drain whose evictions a
// PodDisruptionBudget refuses until the end is a warning naming the budget's author as the cause;
// beside it a planned drain with one 429 that then goes through is only information. completeness
// reports histories that start mid-life (only when the range starts at the record's start) and
// changes only the watch saw, as information; a record that starts with every create is quiet.
import { describe, expect, it } from 'vitest';
import { Attr, type ObjectRef } from '../../src/core/model.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import { compactSpan } from '../../src/core/facts.ts';
import type { Finding } from '../../frontend-plugin/diagnose/types.ts';
import { at, DC, History, ref, RSC } from './diagnose-fixture.ts';

const DRAINER = 'system:serviceaccount:ops:node-drainer';
const AUTHOR = 'system:serviceaccount:team-a:pdb-author';
const REFUSAL = "Cannot evict pod as it would violate the pod's disruption budget.";

const findings = (h: History, endSec: number, detector: string, o: { fromStart?: boolean; timeout?: number } = {}): Finding[] =>
  buildReport(h.spans, {
    ...(o.fromStart ? {} : { startUs: at(0) }),
    endUs: at(endSec),
    ...(o.timeout ? { thresholds: { evictionBlockTimeoutSec: o.timeout } } : {}),
  }).findings.filter((f) => f.detector === detector);

/** A Deployment → ReplicaSet → pod on kwok-node-1, and a PDB over it written by AUTHOR. */
function guarded(h: History, ns: string): ObjectRef {
  const dep = ref('deployments', ns, 'web', 'apps');
  const rs = ref('replicasets', ns, 'web-1', 'apps');
  h.create(dep, 0, 'alice', { spec: { replicas: 3 } });
  h.create(rs, 0.1, DC, { spec: { replicas: 3 } });
  h.own(dep, rs, 0.1);
  const pod = h.pod(rs, 'web-1-a', 0.2, RSC, { node: 'kwok-node-1', runAfter: 1 });
  const pdb = ref('poddisruptionbudgets', ns, 'guard', 'policy');
  h.create(pdb, 2, AUTHOR, { spec: { minAvailable: 3 } });
  h.status(pdb, 2.5, 'system:serviceaccount:kube-system:disruption-controller', 'status.disruptionsAllowed <none> -> 0');
  return pod;
}

const evict = (h: History, pod: ObjectRef, sec: number, code: number): void => {
  if (code === 429) h.fail(pod, sec, DRAINER, 'create', 429, REFUSAL, { [Attr.subresource]: 'eviction' });
  else h.write(pod, sec, DRAINER, 'create', { [Attr.subresource]: 'eviction', [Attr.code]: 201 });
};

describe('blocked-evictions', () => {
  it('a drain refused by a PodDisruptionBudget until the end is a warning whose cause is who created the budget', () => {
    const h = new History();
    const pod = guarded(h, 'shop');
    for (let s = 10; s <= 80; s += 5) evict(h, pod, s, 429);
    const [f, ...rest] = findings(h, 90, 'blocked-evictions');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      severity: 'warning',
      title: `${DRAINER} could not evict 1 pod of Deployment shop/web for 80 s: PodDisruptionBudget shop/guard allows 0 disruptions`,
      cause: { actor: AUTHOR, verb: 'create', object: { resource: 'poddisruptionbudgets', name: 'guard' }, message: REFUSAL },
      data: { refused: 15, pods: 1, wentThrough: false },
    });
    expect(f!.objects.map((o) => `${o.resource}/${o.name}`)).toEqual(['poddisruptionbudgets/guard', 'pods/web-1-a', 'nodes/kwok-node-1']);
    // refused for less than the timeout at the range end: a drain still under way, information
    expect(findings(h, 90, 'blocked-evictions', { timeout: 120 })[0]!.severity).toBe('info');
  });

  it('a planned drain with one 429 that then goes through is information, and no eviction at all is no finding', () => {
    const h = new History();
    const pod = guarded(h, 'shop');
    evict(h, pod, 10, 429);
    evict(h, pod, 15, 201);
    const [f] = findings(h, 200, 'blocked-evictions');
    expect(f).toMatchObject({ severity: 'info', data: { refused: 1, wentThrough: true } });
    expect(f!.title).toContain('were refused for 5 s before they went through');
    const quiet = new History();
    guarded(quiet, 'shop');
    expect(findings(quiet, 200, 'blocked-evictions')).toEqual([]);
  });
  it('names the budget whose selector selects the refused pod (through the loader), not another budget of the namespace written later', () => {
    const h = new History();
    const pod = ref('pods', 'shop', 'db-0');
    h.create(pod, 0, 'alice', { metadata: { name: 'db-0', labels: { app: 'db', tier: 'data' } } });
    h.create(ref('poddisruptionbudgets', 'shop', 'db-pdb', 'policy'), 1, AUTHOR, {
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['data'] }] } },
    });
    h.create(ref('poddisruptionbudgets', 'shop', 'web-pdb', 'policy'), 2, 'bob', { spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } } });
    for (let s = 10; s <= 80; s += 10) evict(h, pod, s, 429);
    const loaded = buildReport(
      h.spans.map((s) => compactSpan(s)),
      { startUs: at(0), endUs: at(90) },
    ).findings.filter((f) => f.detector === 'blocked-evictions');
    expect(loaded).toHaveLength(1);
    expect(loaded[0]!.cause).toMatchObject({ actor: AUTHOR, object: { name: 'db-pdb' } });
    expect(loaded[0]!.title).toBe(`${DRAINER} could not evict 1 pod in shop for 80 s: PodDisruptionBudget shop/db-pdb requires minAvailable 1`);
  });
});

describe('completeness', () => {
  it('reports objects whose history starts mid-life, as information, only when the range starts at the record start', () => {
    const h = new History();
    guarded(h, 'shop');
    const old = ref('configmaps', 'shop', 'made-before');
    h.update(old, 1, 'bob', 'data.x "1" -> "2"');
    const [f, ...rest] = findings(h, 10, 'completeness', { fromStart: true });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'info', objects: [old], data: { midLife: 1, midLifeObjects: ['ConfigMap shop/made-before'] } });
    expect(f!.title).toBe('The record is partial: the history of 1 object starts mid-life, created before the record began (ConfigMap shop/made-before)');
    // a range the user cut: objects created before its start are expected
    expect(findings(h, 10, 'completeness')).toEqual([]);
  });

  it('a record that starts with every create is quiet; changes only the watch saw are counted per cluster', () => {
    const h = new History();
    guarded(h, 'shop');
    expect(findings(h, 10, 'completeness', { fromStart: true })).toEqual([]);
    const cm = ref('configmaps', 'shop', 'cm', '', 'lw');
    h.create(cm, 3, 'carol', {});
    for (const [sec, attribution] of [
      [4, 'fields'],
      [5, 'guessed'],
      [6, 'unknown'],
    ] as const)
      h.write(cm, sec, 'carol', 'update', { [Attr.source]: 'watch', [Attr.attribution]: attribution });
    const [f] = findings(h, 10, 'completeness');
    expect(f).toMatchObject({ severity: 'info', data: { midLife: 0, watchOnly: { lw: { changes: 3, guessed: 1, unknown: 1 } } } });
    expect(f!.title).toContain('cluster lw: 3 changes only the watch saw');
  });
});
