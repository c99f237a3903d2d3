// workload-failures over hand-built histories: a Job marked Failed past its backoffLimit, containers
// restarting over and over, a claim left Pending with a pod waiting on it, a node going NotReady
// whose pods are evicted — each with its cause named by actor, and beside each the normal case it
// must leave alone (a Job that retries once and completes, a single restart, a claim bound in time,
// pods deleted from a node that stays Ready).
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../frontend-plugin/diagnose/report.ts';
import type { Finding } from '../../frontend-plugin/diagnose/types.ts';
import { at, DC, History, RSC, ref } from './diagnose-fixture.ts';

const JC = 'system:serviceaccount:kube-system:job-controller';
const NC = 'system:serviceaccount:kube-system:node-controller';
const ALICE = 'alice';

const failures = (h: History, endSec: number): Finding[] =>
  buildReport(h.spans, { startUs: at(0), endUs: at(endSec) }).findings.filter((f) => f.detector === 'workload-failures');

/** A Job of `user` whose pods run and fail `failedPods` times; `outcome` is the condition the job-controller sets at the end. */
function job(h: History, user: string, failedPods: number, outcome: 'Failed' | 'Complete') {
  const j = ref('jobs', 'batch', 'nightly', 'batch');
  h.create(j, 1, user, { metadata: { name: 'nightly' }, spec: { backoffLimit: 2, completions: 1 } });
  let sec = 2;
  for (let i = 0; i < failedPods; i++, sec += 10) {
    const p = h.pod(j, `nightly-${i}`, sec, JC, { node: 'n1', runAfter: 0.1 });
    h.update(p, sec + 1, 'kwok-admin', 'status.phase "Running" -> "Failed"', { verb: 'patch', subresource: 'status' });
    h.status(j, sec + 2, JC, `status.failed ${i === 0 ? '<none>' : i} -> ${i + 1}`);
  }
  if (outcome === 'Complete') {
    const p = h.pod(j, 'nightly-ok', sec, JC, { node: 'n1', runAfter: 0.1 });
    h.update(p, sec + 1, 'kwok-admin', 'status.phase "Running" -> "Succeeded"', { verb: 'patch', subresource: 'status' });
    h.status(j, sec + 2, JC, 'status.succeeded <none> -> 1\nstatus.conditions[type=Complete] <none> -> {"type":"Complete","status":"True"}');
  } else {
    const cond = { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    h.status(j, sec, JC, `status.conditions[type=Failed] <none> -> ${JSON.stringify(cond)}`);
    h.kubeEvent(j, sec, 'BackoffLimitExceeded', cond.message, 'Warning', 'job-controller');
  }
  return j;
}

describe('workload-failures: Jobs', () => {
  it('names a Job marked Failed past its backoffLimit, the reason, the failed pods and who submitted it', () => {
    const h = new History();
    job(h, 'system:serviceaccount:team-b:batch-submitter', 3, 'Failed');
    const [f, ...rest] = failures(h, 60);
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toContain('Job batch/nightly failed (BackoffLimitExceeded) after 3 failed pods');
    expect(f!.title).toContain('Job has reached the specified backoff limit');
    expect(f!.objects.map((o) => o.name)).toEqual(['nightly', 'nightly-0', 'nightly-1', 'nightly-2']);
    expect(f!.cause?.actor).toBe('system:serviceaccount:team-b:batch-submitter');
    expect(f!.cause?.verb).toBe('create');
  });

  it('leaves alone a Job whose pod failed once and that then completed', () => {
    const h = new History();
    job(h, ALICE, 1, 'Complete');
    expect(failures(h, 60)).toEqual([]);
  });
});

/** A Deployment of `user` → ReplicaSet → pods whose container restarts `restarts` times each. */
function crashing(h: History, user: string, pods: number, restarts: number) {
  const d = ref('deployments', 'team', 'worker', 'apps');
  const rs = ref('replicasets', 'team', 'worker-5d', 'apps');
  h.create(d, 1, user, { metadata: { name: 'worker' }, spec: { replicas: pods } });
  h.create(rs, 1.01, DC, { metadata: { name: 'worker-5d' }, spec: { replicas: pods } });
  h.own(d, rs, 1.01);
  for (let i = 0; i < pods; i++) {
    const p = h.pod(rs, `worker-5d-${i}`, 1.02, RSC, { node: 'n1', runAfter: 0.1 });
    for (let r = 0; r < restarts; r++) {
      const reason = r === 0 ? '\nstatus.containerStatuses[name=app].state.waiting.reason <none> -> "CrashLoopBackOff"' : '';
      h.update(p, 10 + 10 * r, 'kwok-admin', `status.containerStatuses[name=app].restartCount ${r} -> ${r + 1}${reason}`, {
        verb: 'patch',
        subresource: 'status',
      });
    }
  }
  return d;
}

describe('workload-failures: restarts', () => {
  it('reports containers restarting again and again once per Deployment, naming who deployed it', () => {
    const h = new History();
    crashing(h, 'system:serviceaccount:team-b:release-bot', 2, 5);
    const [f, ...rest] = failures(h, 90);
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toMatch(/^2 pods of Deployment team\/worker: containers restarted 10 times in 40 s \(every ~4\.4 s\): CrashLoopBackOff/);
    expect(f!.objects.map((o) => o.name)).toContain('worker');
    expect(f!.cause?.actor).toBe('system:serviceaccount:team-b:release-bot');
  });

  it('leaves alone a container that restarted once', () => {
    const h = new History();
    crashing(h, ALICE, 3, 1);
    expect(failures(h, 90)).toEqual([]);
  });
});

/** A claim of `user` (storage class fast-ssd) mounted by a Deployment's pod; `boundAt` binds both. */
function claim(h: History, user: string, o: { boundAt?: number; pod?: boolean } = {}) {
  const pvc = ref('persistentvolumeclaims', 'db', 'data');
  h.create(pvc, 1, user, { metadata: { name: 'data' }, spec: { storageClassName: 'fast-ssd' }, status: { phase: 'Pending' } });
  if (o.boundAt === undefined)
    h.kubeEvent(pvc, 2, 'ProvisioningFailed', 'storageclass.storage.k8s.io "fast-ssd" not found', 'Warning', 'persistentvolume-controller');
  if (o.pod === false) return pvc;
  const d = ref('deployments', 'db', 'db', 'apps');
  h.create(d, 1, 'system:serviceaccount:team-a:deployer', { metadata: { name: 'db' } });
  const p = h.pod(d, 'db-0', 1.1, RSC);
  h.t.link(p, pvc, 'uses', at(1.1));
  if (o.boundAt !== undefined) {
    h.status(pvc, o.boundAt, 'system:serviceaccount:kube-system:persistent-volume-binder', 'status.phase "Pending" -> "Bound"');
    h.bind(p, 'n1', o.boundAt + 0.5);
  }
  return pvc;
}

describe('workload-failures: claims left Pending', () => {
  it('names a claim still Pending past the timeout, its storage class, the pod waiting on it, the provisioner message and who created it', () => {
    const h = new History();
    claim(h, 'system:serviceaccount:team-a:deployer');
    const [f, ...rest] = failures(h, 90);
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toBe(
      'PersistentVolumeClaim db/data (storage class fast-ssd) still Pending after 89 s; 1 pod waits on it: db-0 — storageclass.storage.k8s.io "fast-ssd" not found',
    );
    expect(f!.objects.map((o) => `${o.resource}/${o.name}`)).toEqual(['persistentvolumeclaims/data', 'pods/db-0', 'deployments/db']);
    expect(f!.cause?.actor).toBe('system:serviceaccount:team-a:deployer');
  });

  it('leaves alone a claim bound in time, and a Pending claim nobody waits on', () => {
    const h = new History();
    claim(h, ALICE, { boundAt: 5 });
    expect(failures(h, 90)).toEqual([]);
    const h2 = new History();
    claim(h2, ALICE, { pod: false });
    expect(failures(h2, 90)).toEqual([]);
  });
});

/** Pods of a Deployment on node n1; `notReady`: a chaos actor patches n1, kwok reports it NotReady, node-controller evicts. */
function node(h: History, o: { notReady: boolean; evict: boolean; by?: string }) {
  const n = ref('nodes', '', 'n1');
  h.create(n, 0.5, 'kwok-admin', { metadata: { name: 'n1' } });
  const rs = ref('replicasets', 'web', 'web-7c', 'apps');
  const pods = [0, 1].map((i) => h.pod(rs, `web-7c-${i}`, 1, RSC, { node: 'n1', runAfter: 0.1 }));
  if (o.notReady) {
    h.update(n, 10, 'system:serviceaccount:chaos:node-breaker', 'metadata.annotations["chaos/fail"] <none> -> "true"', { verb: 'patch' });
    h.update(n, 11, 'kwok-admin', 'status.conditions[type=Ready].status "True" -> "False"', { verb: 'patch', subresource: 'status' });
  }
  if (o.evict) for (const p of pods) h.del(p, 25, o.by ?? NC);
}

describe('workload-failures: nodes NotReady', () => {
  it('names the node, the evicted pods and the actor whose write made it NotReady', () => {
    const h = new History();
    node(h, { notReady: true, evict: true });
    const [f, ...rest] = failures(h, 60);
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toMatch(/^Node n1 went NotReady at .*; 2 pods evicted from it: web-7c-0, web-7c-1$/);
    expect(f!.cause?.actor).toBe('system:serviceaccount:chaos:node-breaker');
    expect(f!.chain?.[0]).toBe(`2 pods deleted from Node n1 by ${NC}`);
  });

  it('leaves alone pods deleted from a node that stays Ready, a NotReady node that lost no pods, and pods a user deleted from it', () => {
    const h = new History();
    node(h, { notReady: false, evict: true });
    expect(failures(h, 60)).toEqual([]);
    const h2 = new History();
    node(h2, { notReady: true, evict: false });
    expect(failures(h2, 60)).toEqual([]);
    const h3 = new History(); // deleted by a user while the node is NotReady: not an eviction
    node(h3, { notReady: true, evict: true, by: 'alice' });
    expect(failures(h3, 60)).toEqual([]);
  });
});

/** A Deployment of `user` whose pod's Ready condition kwok reports going False and back `flips` times; `deleteAt` deletes the pod. */
function flapping(h: History, user: string, flips: number, o: { deleteAt?: number; startReady?: boolean } = {}) {
  const d = ref('deployments', 'shop', 'cart', 'apps');
  const rs = ref('replicasets', 'shop', 'cart-6f', 'apps');
  h.create(d, 1, user, { metadata: { name: 'cart' }, spec: { replicas: 1 } });
  h.create(rs, 1.01, DC, { metadata: { name: 'cart-6f' }, spec: { replicas: 1 } });
  h.own(d, rs, 1.01);
  const p = h.pod(rs, 'cart-6f-0', 1.02, RSC, { node: 'n1' });
  const ready = (sec: number, from: string, to: string) =>
    h.update(p, sec, 'kwok-admin', `status.conditions[type=Ready].status "${from}" -> "${to}"`, { verb: 'patch', subresource: 'status' });
  // kwok's pod-ready Stage: phase Running and the Ready condition added True at once
  if (o.startReady !== false)
    h.update(p, 1.2, 'kwok-admin', 'status.phase "Pending" -> "Running"\nstatus.conditions[type=Ready] <none> -> {"type":"Ready","status":"True"}', {
      verb: 'patch',
      subresource: 'status',
    });
  for (let i = 0; i < flips; i++) {
    ready(10 + 6 * i, 'True', 'False');
    ready(13 + 6 * i, 'False', 'True');
  }
  if (o.deleteAt !== undefined) {
    h.del(p, o.deleteAt, RSC);
    ready(o.deleteAt + 0.5, 'True', 'False'); // as the kubelet stops it
  }
  return p;
}

describe('workload-failures: pods flipping Ready', () => {
  it('names a pod whose Ready condition keeps going False and back, per Deployment, with who deployed it', () => {
    const h = new History();
    flapping(h, 'system:serviceaccount:team-c:deployer', 4);
    const [f, ...rest] = failures(h, 60);
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toBe('1 pod of Deployment shop/cart: Ready went True → False 4 times in 18 s (every ~6 s)');
    expect(f!.objects.map((o) => o.name)).toEqual(['cart-6f', 'cart', 'cart-6f-0']);
    expect(f!.data).toMatchObject({ readyFlips: 4, pods: { 'cart-6f-0': 4 } });
    expect(f!.cause).toMatchObject({ actor: 'system:serviceaccount:team-c:deployer', verb: 'create', object: { name: 'cart' } });
    expect(f!.chain![0]).toMatch(/^Ready of 1 pod of Deployment shop\/cart went False 4 times from .* \(reported by kwok-admin\)$/);
    expect(f!.evidence.at(-1)!.diff).toBe('status.conditions[type=Ready].status "True" -> "False"');
  });

  it('leaves alone a pod that became Ready once, one that went NotReady once and at its deletion, and flips below --ready-flap-min', () => {
    const once = new History();
    flapping(once, ALICE, 0, { deleteAt: 40 });
    expect(failures(once, 60)).toEqual([]);
    const blip = new History();
    flapping(blip, ALICE, 1, { deleteAt: 40 });
    expect(failures(blip, 60)).toEqual([]);
    const two = new History();
    flapping(two, ALICE, 2);
    expect(failures(two, 60)).toEqual([]);
    expect(buildReport(two.spans, { startUs: at(0), endUs: at(60), thresholds: { readyFlapMin: 2 } }).findings.map((f) => f.detector)).toContain(
      'workload-failures',
    );
  });

  it("leaves the Ready flips of a NotReady node's pods (node-controller) to the node, and those of a restarting container to its restarts", () => {
    const h = new History();
    const p = flapping(h, ALICE, 0);
    for (let i = 0; i < 4; i++) {
      h.update(p, 10 + 6 * i, NC, 'status.conditions[type=Ready].status "True" -> "False"', { verb: 'patch', subresource: 'status' });
      h.update(p, 13 + 6 * i, 'kwok-admin', 'status.conditions[type=Ready].status "False" -> "True"', { verb: 'patch', subresource: 'status' });
    }
    expect(failures(h, 60)).toEqual([]);
    const c = new History();
    const q = flapping(c, ALICE, 4);
    for (let i = 0; i < 4; i++)
      c.update(q, 10 + 6 * i, 'kwok-admin', `status.containerStatuses[name=app].restartCount ${i} -> ${i + 1}`, { verb: 'patch', subresource: 'status' });
    expect(failures(c, 60).map((f) => f.title)).toEqual([expect.stringMatching(/containers restarted 4 times/)]);
  });
});

describe('workload-failures: pods Failed', () => {
  /** A bare pod of `user` that kwok's failure Stage reports Failed (container exit code 1). */
  function failing(h: History, user: string, phase = 'Failed', by = 'kwok-admin') {
    const p = ref('pods', 'batch', 'migrate');
    h.create(p, 1, user, { metadata: { name: 'migrate' }, status: { phase: 'Pending' } });
    h.bind(p, 'n1', 1.1);
    h.running(p, 1.2);
    h.update(
      p,
      5,
      by,
      `status.phase "Running" -> "${phase}"\nstatus.containerStatuses[name=app].state.terminated.reason <none> -> "${phase === 'Failed' ? 'Error' : 'Completed'}"\nstatus.containerStatuses[name=app].state.terminated.exitCode <none> -> ${phase === 'Failed' ? 1 : 0}`,
      { verb: 'patch', subresource: 'status' },
    );
    return p;
  }

  it('names a pod reported Failed, its container reason and who created it', () => {
    const h = new History();
    failing(h, ALICE);
    const [f, ...rest] = failures(h, 60);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'warning', title: 'Pod batch/migrate: Failed: Error, exit code 1', objects: [{ name: 'migrate' }] });
    expect(f!.cause).toMatchObject({ actor: ALICE, verb: 'create', object: { name: 'migrate' } });
    expect(f!.chain![0]).toMatch(/^Pod batch\/migrate Failed at .* \(reported by kwok-admin\)$/);
  });

  it('leaves alone a pod that Succeeded, one the pod garbage collector marked Failed, and the failed pods of a Job (the Job is the finding)', () => {
    const ok = new History();
    failing(ok, ALICE, 'Succeeded');
    expect(failures(ok, 60)).toEqual([]);
    const gc = new History();
    failing(gc, ALICE, 'Failed', 'system:serviceaccount:kube-system:pod-garbage-collector');
    expect(failures(gc, 60)).toEqual([]);
    const h = new History();
    job(h, ALICE, 1, 'Complete');
    expect(failures(h, 60)).toEqual([]);
  });
});
