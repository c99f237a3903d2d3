// Causes of stuck rollouts, unscheduled pods and orphans over hand-built histories: the object
// that refused the pod creates (a ResourceQuota, an admission policy, a webhook) and who wrote it;
// who wrote the pod template whose constraint the scheduler names (or tainted the nodes after);
// who removed an owner reference. Each beside the case where the record does not hold the cause.
import { describe, expect, it } from 'vitest';
import { Attr, type ObjectRef } from '../../src/core/model.ts';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import { compactSpan } from '../../src/core/facts.ts';
import type { Finding } from '../../frontend-plugin/diagnose/types.ts';
import { at, DC, GC, History, ref, RSC } from './diagnose-fixture.ts';

const QUOTA_ADMIN = 'system:serviceaccount:platform:quota-admin';
const DEPLOYER = 'system:serviceaccount:team-a:deployer';
const iso = (sec: number): string => new Date(at(sec) / 1000).toISOString();
const AR = 'admissionregistration.k8s.io';

/** Findings of one detector over the spans as the loader hands them to detectors (compacted). */
const findings = (h: History, endSec: number, detector: string): Finding[] =>
  buildReport(
    h.spans.map((s) => compactSpan(s)),
    { startUs: at(0), endUs: at(endSec) },
  ).findings.filter((f) => f.detector === detector);

/** A Deployment at 3 replicas whose ReplicaSet's pod creates are refused with `message` from second 10 on. */
function refusedRollout(h: History, message: string): { dep: ObjectRef; rs: ObjectRef } {
  const dep = ref('deployments', 'demo', 'api', 'apps');
  const rs = ref('replicasets', 'demo', 'api-abc', 'apps');
  h.create(dep, 0, DEPLOYER, { metadata: { generation: 1 }, spec: { replicas: 3 } });
  h.create(rs, 0.1, DC, { spec: { replicas: 3 } });
  h.own(dep, rs, 0.1);
  for (let i = 0; i < 3; i++) {
    const p = ref('pods', 'demo', `api-abc-${i}`);
    h.fail(p, 10 + i, RSC, 'create', 403, `pods "api-abc-${i}" is forbidden: ${message}`);
    h.own(rs, p, 10 + i); // the refused request's owner reference
  }
  h.kubeEvent(rs, 10.5, 'FailedCreate', `Error creating: pods "api-abc-0" is forbidden: ${message}`, 'Warning', 'replicaset-controller');
  return { dep, rs };
}

describe('causes of stuck rollouts', () => {
  it('names the ResourceQuota that refused the pod creates and who created it, on the ReplicaSet and on its stuck Deployment', () => {
    const h = new History();
    const quota = ref('resourcequotas', 'demo', 'pod-cap');
    h.create(quota, 5, QUOTA_ADMIN, { spec: { hard: { pods: '3' } } });
    h.status(quota, 5.1, 'system:serviceaccount:kube-system:resourcequota-controller', 'status.used.pods <none> -> "3"');
    const { dep, rs } = refusedRollout(h, 'exceeded quota: pod-cap, requested: pods=1, used: pods=3, limited: pods=3');
    const fs = findings(h, 300, 'stuck-rollouts');
    const refused = fs.find((f) => f.objects[0]!.name === rs.name)!;
    expect(refused.cause).toMatchObject({ actor: QUOTA_ADMIN, verb: 'create', object: quota, time: iso(5) });
    expect(refused.cause!.message).toMatch(/exceeded quota: pod-cap/);
    expect(refused.data).toMatchObject({ refusedBy: 'ResourceQuota demo/pod-cap' });
    expect(refused.chain).toEqual([
      `ReplicaSet demo/api-abc could not create pods (4× from ${iso(10)})`,
      `${RSC}'s creates refused: pods "api-abc-0" is forbidden: exceeded quota: pod-cap, requested: pods=1, used: pods=3, limited: pods=3`,
      `${QUOTA_ADMIN} created ResourceQuota demo/pod-cap at ${iso(5)}, which refuses the creates`,
    ]);
    const stuck = fs.find((f) => f.objects[0]!.name === dep.name)!;
    expect(stuck.cause).toMatchObject({ actor: QUOTA_ADMIN, object: quota });
    expect(stuck.chain).toHaveLength(4);
  });

  it('names the ValidatingAdmissionPolicy (or its binding, the later write) and a webhook configuration; keeps the message when the refuser is not in the record', () => {
    const vap = new History();
    vap.create(ref('validatingadmissionpolicies', '', 'no-latest', AR), 2, 'policy-admin');
    vap.create(ref('validatingadmissionpolicybindings', '', 'no-latest-binding', AR), 3, 'binding-admin');
    refusedRollout(vap, "ValidatingAdmissionPolicy 'no-latest' with binding 'no-latest-binding' denied request: image tag latest");
    const [v] = findings(vap, 300, 'stuck-rollouts').filter((f) => f.objects[0]!.resource === 'replicasets');
    expect(v!.cause).toMatchObject({ actor: 'binding-admin', object: { resource: 'validatingadmissionpolicybindings', name: 'no-latest-binding' } });

    const hook = new History();
    const cfg = ref('validatingwebhookconfigurations', '', 'guards', AR);
    hook.create(cfg, 2, 'hook-admin', { metadata: { name: 'guards' }, webhooks: [{ name: 'deny.example.com', clientConfig: {} }] });
    refusedRollout(hook, 'admission webhook "deny.example.com" denied the request: no');
    const [w] = findings(hook, 300, 'stuck-rollouts').filter((f) => f.objects[0]!.resource === 'replicasets');
    expect(w!.cause).toMatchObject({ actor: 'hook-admin', object: cfg });

    const unknown = new History();
    refusedRollout(unknown, 'exceeded quota: elsewhere, requested: pods=1');
    const [u] = findings(unknown, 300, 'stuck-rollouts').filter((f) => f.objects[0]!.resource === 'replicasets');
    expect(u!.cause).toBeUndefined();
    expect(u!.chain![1]).toMatch(/exceeded quota: elsewhere/);
    expect(u!.data).toMatchObject({ refusedBy: 'ResourceQuota demo/elsewhere' });
  });
});

/** A Deployment written by the deployer with `podSpec` in its template; its ReplicaSet's two pods never scheduled. */
function pendingPods(h: History, podSpec: object, message: string): ObjectRef {
  const dep = ref('deployments', 'demo', 'picky', 'apps');
  const rs = ref('replicasets', 'demo', 'picky-abc', 'apps');
  h.create(dep, 0, DEPLOYER, { spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'x' }], ...podSpec } } } });
  h.create(rs, 0.1, DC, { spec: { replicas: 2, template: { spec: podSpec } } });
  h.own(dep, rs, 0.1);
  for (let i = 0; i < 2; i++) {
    const p = h.pod(rs, `picky-abc-${i}`, 0.2, RSC);
    h.kubeEvent(p, 0.5, 'FailedScheduling', message);
  }
  return dep;
}

describe('causes of unscheduled pods', () => {
  it('names who wrote the node selector the scheduler cannot match, with the selector', () => {
    const h = new History();
    const dep = pendingPods(h, { nodeSelector: { disktype: 'ssd' } }, "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.");
    const [f] = findings(h, 120, 'unscheduled-pods');
    expect(f!.cause).toMatchObject({ actor: DEPLOYER, verb: 'create', object: dep, time: iso(0) });
    expect(f!.cause!.message).toMatch(/node affinity\/selector/);
    expect(f!.chain).toEqual([
      `pods of ReplicaSet demo/picky-abc Pending since ${iso(0.2)}`,
      `scheduler: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."`,
      `${DEPLOYER} created Deployment demo/picky with node selector {"disktype":"ssd"} at ${iso(0)}`,
    ]);
  });

  it('names who last changed the requests; a taint added to a node after the template was written is the cause of an untolerated taint', () => {
    const h = new History();
    const dep = pendingPods(h, {}, '0/3 nodes are available: 3 Insufficient cpu.');
    h.update(dep, 0.15, 'alice', 'spec.template.spec.containers[name=app].resources.requests.cpu <none> -> "64"', { [Attr.verb]: 'patch' });
    const [f] = findings(h, 120, 'unscheduled-pods');
    expect(f!.cause).toMatchObject({ actor: 'alice', verb: 'patch', object: dep });
    expect(f!.chain![2]).toBe(`alice patched Deployment demo/picky with resource containers[name=app].resources.requests.cpu="64" at ${iso(0.15)}`);

    const t = new History();
    const node = ref('nodes', '', 'n1');
    t.create(node, 0, 'kwok');
    t.update(node, 0.05, 'system:serviceaccount:ops:tainter', 'spec.taints <none> -> [{"effect":"NoSchedule","key":"maintenance"}]', { [Attr.verb]: 'patch' });
    pendingPods(t, {}, '0/1 nodes are available: 1 node(s) had untolerated taint {maintenance: }.');
    const [g] = findings(t, 120, 'unscheduled-pods');
    // the node was tainted after the Deployment was written: the taint is what made its pods unschedulable
    expect(g!.cause).toMatchObject({ actor: 'system:serviceaccount:ops:tainter', object: node });
    expect(g!.chain![3]).toMatch(/^system:serviceaccount:ops:tainter patched Node n1 adding a taint/);
  });
});

describe('causes of orphans', () => {
  it('names who removed the owner reference, not who deleted the owner; with --cascade=orphan the deleter who asked for it', () => {
    const h = new History();
    const dep = ref('deployments', 'demo', 'web', 'apps');
    const cm = ref('configmaps', 'demo', 'web-config');
    h.create(dep, 0, 'ci:deployer', { spec: { replicas: 1 } });
    h.create(cm, 0.1, 'ci:deployer');
    h.own(dep, cm, 0.1);
    h.update(cm, 5, 'system:serviceaccount:chaos:owner-stripper', 'metadata.ownerReferences [{"kind":"Deployment","name":"web"}] -> <none>', {
      [Attr.verb]: 'patch',
    });
    h.del(dep, 10, 'ci:deployer');
    const [f] = findings(h, 100, 'orphans');
    expect(f!.cause).toMatchObject({ actor: 'system:serviceaccount:chaos:owner-stripper', verb: 'patch', object: cm, time: iso(5) });
    expect(f!.chain).toEqual([
      'ConfigMap demo/web-config outlived its owner Deployment demo/web by 90 s',
      `ci:deployer deleted Deployment demo/web at ${iso(10)}`,
      `system:serviceaccount:chaos:owner-stripper patched ConfigMap demo/web-config removing its owner reference to Deployment demo/web at ${iso(5)}`,
    ]);

    const o = new History();
    const rs = ref('replicasets', 'demo', 'web-abc', 'apps');
    o.create(dep, 0, 'admin');
    o.create(rs, 1, DC);
    o.own(dep, rs, 1);
    o.del(dep, 10, 'admin');
    o.update(rs, 10.01, GC, 'metadata.ownerReferences [{"kind":"Deployment","name":"web"}] -> <none>', { [Attr.verb]: 'patch' });
    const [g] = findings(o, 200, 'orphans');
    expect(g!.cause).toMatchObject({ actor: 'admin', verb: 'delete', object: dep });
  });
});
