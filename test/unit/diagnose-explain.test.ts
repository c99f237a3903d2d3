// `explain` over hand-built histories: why a pod is Pending (no binding, the scheduler's
// FailedScheduling message), why a Deployment's rollout does not progress (its ReplicaSet's creates
// refused by a quota, and who created the quota), why a ConfigMap stays Terminating (the finalizer and
// who added it) — each with who/what/when — and beside them the object that is fine or gone.
import { describe, expect, it } from 'vitest';
import { Attr } from '../../src/core/model.ts';
import { compactSpan } from '../../src/core/facts.ts';
import { explain, explanationText } from '../../frontend-plugin/diagnose/explain.ts';
import { at, DC, History, ref, RSC, SCHED, conditionLine } from './diagnose-fixture.ts';
import { parseTarget } from '../../src/commands/explain.ts';

const DEPLOYER = 'system:serviceaccount:team-a:deployer';
const QUOTA_ADMIN = 'system:serviceaccount:platform:quota-admin';
const iso = (sec: number): string => new Date(at(sec) / 1000).toISOString();
/** As the loader hands spans to the read side (compacted). */
const spansOf = (h: History) => h.spans.map((s) => compactSpan(s));
const NO_NODE = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.";

describe('explain', () => {
  it("a Pending pod: not bound, waiting for a node with the scheduler's FailedScheduling message; once bound it waits no more", () => {
    const h = new History();
    const p = ref('pods', 'demo', 'picky-0');
    h.create(p, 0, RSC, { metadata: { name: 'picky-0' }, spec: { nodeSelector: { disktype: 'ssd' } }, status: { phase: 'Pending' } });
    h.kubeEvent(p, 1, 'FailedScheduling', NO_NODE);
    h.status(p, 1, SCHED, 'status.conditions[type=PodScheduled] <none> -> {"type":"PodScheduled","status":"False","reason":"Unschedulable"}');
    const ex = explain(spansOf(h), p, at(60))!;
    expect(ex).toMatchObject({ state: 'exists', phase: 'Pending', conditions: { PodScheduled: 'False' }, at: iso(60) });
    expect(ex.created).toMatchObject({ actor: RSC, time: iso(0) });
    expect(ex.summary).toMatch(/not bound to a node/);
    expect(ex.waitingFor[0]).toMatchObject({ actor: 'default-scheduler', reason: 'FailedScheduling', message: NO_NODE, time: iso(1) });
    expect(ex.waitingFor[0]!.summary).toMatch(/a node: not bound yet/);
    expect(ex.fields.find((f) => f.path === 'spec.nodeSelector')).toMatchObject({ actor: RSC, verb: 'create', new: '{"disktype":"ssd"}' });
    expect(ex.findings.find((f) => f.detector === 'unscheduled-pods')).toBeDefined();
    expect(explanationText(ex)).toMatch(/FailedScheduling, reported by default-scheduler\) at .*didn't match Pod's node affinity/);

    // normal: the scheduler binds it later; at that time the pod waits for nothing and is on its node
    h.bind(p, 'kwok-node-1', 70);
    const bound = explain(spansOf(h), p, at(80))!;
    expect(bound.summary).toMatch(/on node kwok-node-1/);
    expect(bound.waitingFor).toEqual([]);
    expect(bound.fields.find((f) => f.path === 'spec.nodeName')).toMatchObject({ actor: SCHED, subresource: 'binding', time: iso(70) });
    // and explained before its create, it is not in the record
    expect(explain(spansOf(h), p, at(-1))).toBeUndefined();
  });

  it("a Deployment whose ReplicaSet's creates a quota refuses: the FailedCreate it waits on, the finding naming the quota's author, who changed the image", () => {
    const h = new History();
    const quota = ref('resourcequotas', 'demo', 'pod-cap');
    h.create(quota, 5, QUOTA_ADMIN, { spec: { hard: { pods: '3' } } });
    const dep = ref('deployments', 'demo', 'api', 'apps');
    const rs = ref('replicasets', 'demo', 'api-abc', 'apps');
    h.create(dep, 0, DEPLOYER, { metadata: { generation: 1 }, spec: { replicas: 3 } });
    h.status(dep, 0.2, DC, 'status.conditions[type=Available] <none> -> {"type":"Available","status":"True"}');
    h.update(dep, 9, DEPLOYER, 'spec.template.spec.containers[name=app].image "app:1.0" -> "app:1.1"', { [Attr.verb]: 'patch' });
    h.create(rs, 9.1, DC, { spec: { replicas: 1 } });
    h.own(dep, rs, 9.1);
    const message = 'exceeded quota: pod-cap, requested: pods=1, used: pods=3, limited: pods=3';
    for (let i = 0; i < 3; i++) {
      const p = ref('pods', 'demo', `api-abc-${i}`);
      h.fail(p, 10 + i, RSC, 'create', 403, `pods "api-abc-${i}" is forbidden: ${message}`);
      h.own(rs, p, 10 + i);
    }
    h.kubeEvent(rs, 10.5, 'FailedCreate', `Error creating: pods "api-abc-0" is forbidden: ${message}`, 'Warning', 'replicaset-controller');
    // a replica the quota keeps from coming back: not Available
    h.status(
      dep,
      11,
      DC,
      'status.conditions[type=Available].status "True" -> "False"\nstatus.availableReplicas 3 -> 2\nstatus.unavailableReplicas <none> -> 1',
    );
    const ex = explain(spansOf(h), dep, at(300))!;
    expect(ex).toMatchObject({ state: 'exists', conditions: { Available: 'False' } });
    expect(ex.created).toMatchObject({ actor: DEPLOYER });
    expect(ex.waitingFor[0]).toMatchObject({ summary: expect.stringMatching(/^replicas: 2 of 3 available, 1 unavailable/), actor: DC, time: iso(11) });
    expect(ex.waitingFor[1]).toMatchObject({ object: rs, reason: 'FailedCreate', actor: 'replicaset-controller', time: iso(10.5) });
    expect(ex.waitingFor[1]!.message).toMatch(/exceeded quota: pod-cap/);
    expect(ex.fields.find((f) => f.path === 'status.conditions[type=Available].status')).toMatchObject({ old: '"True"', new: '"False"', actor: DC });
    expect(ex.fields.find((f) => f.path.startsWith('spec.template'))).toMatchObject({
      path: 'spec.template.spec.containers[name=app].image',
      old: '"app:1.0"',
      new: '"app:1.1"',
      actor: DEPLOYER,
      verb: 'patch',
      time: iso(9),
    });
    const stuck = ex.findings.find((f) => f.detector === 'stuck-rollouts');
    expect(stuck?.cause).toMatchObject({ actor: QUOTA_ADMIN, verb: 'create', object: quota, time: iso(5) });
    expect(explanationText(ex)).toContain(`cause: ${QUOTA_ADMIN} create`);
  });

  it('a Terminating ConfigMap: the finalizer that holds it and who added it, who deleted it; once the finalizer is removed it is deleted', () => {
    const h = new History();
    const cm = ref('configmaps', 'demo', 'settings');
    const OPERATOR = 'system:serviceaccount:ops:legacy-operator';
    const CLEANER = 'system:serviceaccount:ci:cleanup-bot';
    h.create(cm, 0, 'alice', { metadata: { name: 'settings' } });
    h.update(cm, 2, OPERATOR, 'metadata.finalizers <none> -> ["example.com/cleanup-hook"]', { [Attr.verb]: 'patch' });
    const snap = { metadata: { name: 'settings', deletionTimestamp: iso(5), finalizers: ['example.com/cleanup-hook'] } };
    h.write(cm, 5, CLEANER, 'delete', { [Attr.code]: 200, [Attr.snapshot]: JSON.stringify(snap) });
    const ex = explain(spansOf(h), cm, at(200))!;
    expect(ex).toMatchObject({ state: 'terminating', finalizers: ['example.com/cleanup-hook'] });
    expect(ex.summary).toMatch(/Terminating/);
    expect(ex.waitingFor).toEqual([
      expect.objectContaining({
        actor: OPERATOR,
        time: iso(2),
        summary: expect.stringMatching(/finalizer example.com\/cleanup-hook \(added by .*legacy-operator, patch\)/),
      }),
    ]);
    expect(ex.fields.find((f) => f.path === 'metadata.deletionTimestamp')).toMatchObject({ actor: CLEANER, verb: 'delete', time: iso(5) });
    expect(ex.fields.find((f) => f.path === 'metadata.finalizers')).toMatchObject({ actor: OPERATOR, time: iso(2) });
    expect(ex.findings.find((f) => f.detector === 'stuck-deletions')?.cause).toMatchObject({ actor: OPERATOR });
    // at a time before the delete it simply exists, holding the finalizer
    expect(explain(spansOf(h), cm, at(3))).toMatchObject({ state: 'exists', waitingFor: [], findings: [] });

    // normal: the operator removes its finalizer; the object is gone
    h.update(cm, 210, OPERATOR, 'metadata.finalizers ["example.com/cleanup-hook"] -> <none>', { [Attr.verb]: 'patch' });
    const gone = explain(spansOf(h), cm, at(220))!;
    expect(gone).toMatchObject({ state: 'deleted', waitingFor: [], finalizers: [] });
  });

  it("a Terminating namespace: its own finalizer, the namespace controller's condition naming what remains, who deleted it; the namespace that went at once is deleted", () => {
    const h = new History();
    const NSC = 'system:serviceaccount:kube-system:namespace-controller';
    const ns = ref('namespaces', '', 'held');
    h.create(ns, 0, 'admin', { metadata: { name: 'held' }, spec: { finalizers: ['kubernetes'] } });
    const snap = { metadata: { name: 'held', deletionTimestamp: iso(10) }, spec: { finalizers: ['kubernetes'] } };
    h.write(ns, 10, 'bob', 'delete', { [Attr.code]: 200, [Attr.snapshot]: JSON.stringify(snap) });
    const msg = 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances';
    h.status(
      ns,
      15,
      NSC,
      [
        conditionLine('NamespaceDeletionDiscoveryFailure', 'False', 'All resources successfully discovered'),
        conditionLine('NamespaceFinalizersRemaining', 'True', msg),
        'status.phase "Active" -> "Terminating"',
      ].join('\n'),
    );
    const ex = explain(spansOf(h), ns, at(120))!;
    expect(ex).toMatchObject({ state: 'terminating', phase: 'Terminating', finalizers: ['kubernetes'], conditions: { NamespaceFinalizersRemaining: 'True' } });
    expect(ex.waitingFor).toEqual([
      expect.objectContaining({ summary: expect.stringMatching(/^finalizer kubernetes \(added by admin, create\)/), actor: 'admin' }),
      expect.objectContaining({ summary: `NamespaceFinalizersRemaining (said by ${NSC})`, message: msg, time: iso(15) }),
    ]);
    expect(ex.fields.find((f) => f.path === 'metadata.deletionTimestamp')).toMatchObject({ actor: 'bob', verb: 'delete', time: iso(10) });

    // normal: the controller finalizes it (spec.finalizers emptied): gone
    h.update(ns, 130, NSC, 'spec.finalizers ["kubernetes"] -> <none>', { [Attr.subresource]: 'finalize' });
    expect(explain(spansOf(h), ns, at(140))).toMatchObject({ state: 'deleted', waitingFor: [], finalizers: [] });
  });

  it("a namespace's delete makes its phase Terminating (the API server sets it in the delete, no status write says so), bob's delete not the namespace controller's deletecollections of its content; before it, Active", () => {
    const h = new History();
    const ns = ref('namespaces', '', 'team');
    h.create(ns, 0, 'admin', { metadata: { name: 'team' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    const snap = { metadata: { name: 'team', deletionTimestamp: iso(10) }, spec: { finalizers: ['kubernetes'] } };
    h.write(ns, 10, 'bob', 'delete', { [Attr.code]: 200, [Attr.snapshot]: JSON.stringify(snap) });
    // the namespace controller empties it: its deletecollections that matched nothing are on the namespace's trace, named after the resource
    const NSC = 'system:serviceaccount:kube-system:namespace-controller';
    h.t.event(ns, at(12), 'audit-dc-1', 'deletecollection configmaps', {
      [Attr.source]: 'audit',
      [Attr.user]: NSC,
      [Attr.verb]: 'deletecollection',
      [Attr.code]: 200,
    });
    const ex = explain(spansOf(h), ns, at(60))!;
    expect(ex).toMatchObject({ state: 'terminating', phase: 'Terminating' });
    expect(ex.fields.find((f) => f.path === 'metadata.deletionTimestamp')).toMatchObject({ actor: 'bob', verb: 'delete', time: iso(10) });
    expect(ex.summary).toBe('Namespace team: Terminating, phase Terminating, finalizers kubernetes');
    expect(ex.fields.find((f) => f.path === 'status.phase')).toMatchObject({ old: '"Active"', new: '"Terminating"', actor: 'bob', verb: 'delete' });
    expect(explain(spansOf(h), ns, at(5))).toMatchObject({ state: 'exists', phase: 'Active' });
  });
});

describe('kubetrail explain <kind>/<name>: kinds as kubectl users type them (one table, src/core/kinds.ts)', () => {
  it('knows every kind, plural and short name the UI knows, and which are cluster-scoped', () => {
    expect(parseTarget('hpa/web', 'team')).toEqual({ cluster: '', group: 'autoscaling', resource: 'horizontalpodautoscalers', namespace: 'team', name: 'web' });
    expect(parseTarget('PodDisruptionBudget/web', 'team')).toMatchObject({ group: 'policy', resource: 'poddisruptionbudgets', namespace: 'team' });
    expect(parseTarget('sc/fast', 'team')).toMatchObject({ group: 'storage.k8s.io', resource: 'storageclasses', namespace: '' });
    expect(parseTarget('deploy/web', 'team')).toMatchObject({ group: 'apps', resource: 'deployments', namespace: 'team' });
    expect(parseTarget('widgets.example.com/w', 'team')).toMatchObject({ group: 'example.com', resource: 'widgets' });
    expect(() => parseTarget('widget/w', 'team')).toThrow(/unknown kind 'widget'/);
  });
});
