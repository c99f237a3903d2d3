// workload-failures against a real KWOK cluster whose kwok controller runs the corpus's Stages
// (bench/diagnose-corpus/kwok-stages.yaml) and ours (test/fixtures/kwok/ready-flap-stages.yaml),
// acting as kubelets do: one cluster, each failure class in its own namespace, each workload
// created by an actor of its own. Recorded by the API server's audit log, replayed into a store,
// then `kubetrail diagnose` must name each failure, its objects, its severity and its cause:
//  - default: a Job of bob's whose pods kwok fails (pod-container-running-failed) past its
//    backoffLimit, and beside it a Job whose pods complete;
//  - crash: a Deployment of release-bot's whose container kwok restarts (pod-crashloop: restartCount climbing);
//  - flap: a Deployment of team-c's deployer whose pod kwok reports Ready and not Ready by turns
//    (pod-ready-flap-*), and beside it a Deployment whose pod becomes Ready once;
//  - failed: a bare pod of alice's that kwok reports Failed;
//  - evict: a Deployment of team-a's deployer on kwok-node-1, which node-breaker makes NotReady
//    (kwok's node-not-ready Stage, triggered by the node label); the node lifecycle controller taints
//    it not-ready:NoExecute and evicts (deletes) the pods after their 2 s toleration;
//  - pvc: a claim of carol's of a storage class that does not exist, and her Deployment's pod
//    waiting on it — `kubetrail explain` of that stuck pod names what it waits for.
// Its own cluster (not the shared stack's): giving Stages replaces kwok's defaults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI } from '../setup/kubetrail.ts';
import { kwokDown, kwokUp, run } from '../setup/kwok-cluster.ts';
import { waitFor } from '../setup/wait.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';
import type { Explanation } from '../../frontend-plugin/diagnose/explain.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const NAME = 'kt-failures';
const FAIL_LABEL = 'pod-container-running-failed.stage.kwok.x-k8s.io';
const CRASH_LABEL = 'crashloop.stage.corpus.kubetrail.io';
const FLAP_LABEL = 'ready-flap.stage.test.kubetrail.io';
const RELEASE_BOT = 'system:serviceaccount:team-b:release-bot';
const FLAP_DEPLOYER = 'system:serviceaccount:team-c:deployer';
const WEB_DEPLOYER = 'system:serviceaccount:team-a:deployer';
const BREAKER = 'system:serviceaccount:chaos:node-breaker';

const job = (name: string, labels: Record<string, string>): object => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'default' },
  spec: {
    backoffLimit: 1,
    template: {
      metadata: { labels: { app: name, ...labels } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: `registry.example/${name}:1.0` }] },
    },
  },
});

const onNode = (node: string) => ({ nodeSelector: { 'kubernetes.io/hostname': node } });

const deployment = (ns: string, name: string, replicas: number, labels: Record<string, string>, spec: object = {}): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name, ...labels } },
      spec: { ...onNode('kwok-node-0'), containers: [{ name: 'app', image: `registry.example/${name}:1.0` }], ...spec },
    },
  },
});

/** Pods evicted from a NotReady node after 2 s (the default toleration is 300 s). */
const tolerations = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({
  key,
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: 2,
}));

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status: { containerStatuses?: { restartCount: number }[] } }[];
}

describe('kubetrail diagnose ← workload failures on a KWOK cluster with failure Stages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-failures-'));
  const store = join(dir, 'kt.sqlite');
  let report: Report;
  let kubectl: (args: string[], input?: string) => Promise<string>;
  let evicted: string[] = [];
  const failures = (ns: string) =>
    report.findings.filter((f) => f.detector === 'workload-failures' && f.objects.some((o) => o.namespace === ns && o.resource !== 'nodes'));
  const apply = (user: string, ...docs: object[]) =>
    kubectl(['apply', `--as=${user}`, '--as-group=system:masters', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  const pods = (ns: string) => kubectl(['get', 'pods', '-n', ns, '-o', 'json']).then((s) => (JSON.parse(s) as PodList).items);

  beforeAll(async () => {
    const stages = join(dir, 'stages.yaml');
    writeFileSync(
      stages,
      `${readFileSync(join(ROOT, 'bench/diagnose-corpus/kwok-stages.yaml'), 'utf8')}\n---\n${readFileSync(join(ROOT, 'test/fixtures/kwok/ready-flap-stages.yaml'), 'utf8')}`,
    );
    const env = await kwokUp(NAME, join(dir, 'kwok'), { nodes: 2, extraConfig: stages });
    kubectl = (args, input) => run(env.KUBECTL, ['--kubeconfig', env.KUBECONFIG, ...args], input);
    const since = new Date().toISOString();
    for (const ns of ['crash', 'flap', 'failed', 'evict', 'pvc']) await kubectl(['create', 'namespace', ns]);
    await stage();
    await waitForAll();
    await new Promise((r) => setTimeout(r, 2000)); // the audit log's last batch
    const until = new Date().toISOString();
    const rep = spawnSync(process.execPath, [CLI, 'replay', '--cluster', NAME, '--store', store, '--no-progress', env.AUDIT_LOG], { encoding: 'utf8' });
    expect(rep.status, rep.stderr).toBe(0);
    const args = ['diagnose', '--store', store, '--since', since, '--until', until, '--pvc-pending-timeout', '10s', '--json'];
    const diag = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    expect([0, 1], diag.stderr).toContain(diag.status);
    report = JSON.parse(diag.stdout) as Report;
  }, 420_000); // its own cluster, the scenarios (the crash loop sets the pace), a replay and a diagnosis

  /** Every scenario at once (they run side by side; the slowest, the crash loop, sets the pace). */
  async function stage(): Promise<void> {
    await apply('bob', job('doomed', { [FAIL_LABEL]: 'true' }), job('fine', {}));
    await apply(RELEASE_BOT, deployment('crash', 'worker', 1, { [CRASH_LABEL]: 'true' }));
    await apply(FLAP_DEPLOYER, deployment('flap', 'cart', 1, { [FLAP_LABEL]: 'true' }), deployment('flap', 'steady', 1, {}));
    await apply('alice', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'migrate', namespace: 'failed', labels: { [FAIL_LABEL]: 'true' } },
      spec: { ...onNode('kwok-node-0'), restartPolicy: 'Never', containers: [{ name: 'app', image: 'registry.example/migrate:1.0' }] },
    });
    await apply('carol', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'pvc' },
      spec: { storageClassName: 'no-such-class', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await apply('carol', deployment('pvc', 'db', 1, {}, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] }));
    await apply(WEB_DEPLOYER, deployment('evict', 'web', 2, {}, { ...onNode('kwok-node-1'), tolerations }));
    evicted = await waitFor(
      async () => {
        const p = await pods('evict');
        return p.length === 2 && p.every((x) => x.spec.nodeName === 'kwok-node-1') && p.map((x) => x.metadata.name);
      },
      'the pods of web on kwok-node-1',
      60_000,
      500,
    );
    await kubectl(['label', 'node', 'kwok-node-1', 'node-not-ready.stage.kwok.x-k8s.io=true', `--as=${BREAKER}`, '--as-group=system:masters']);
  }

  async function waitForAll(): Promise<void> {
    const t0 = Date.now();
    const condition = (name: string, type: string) =>
      kubectl(['get', 'job', name, '-n', 'default', '-o', `jsonpath={.status.conditions[?(@.type=="${type}")].status}`]).then((s) => s.trim() === 'True');
    await waitFor(() => condition('doomed', 'Failed'), 'Job doomed Failed', 120_000, 1000);
    await waitFor(() => condition('fine', 'Complete'), 'Job fine Complete', 60_000, 1000);
    await waitFor(
      async () => (await pods('evict')).every((p) => !evicted.includes(p.metadata.name)),
      'the pods of web evicted from kwok-node-1',
      120_000,
      1000,
    );
    await waitFor(
      async () => (await pods('crash')).some((p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 3),
      'worker restarted 3 times',
      120_000,
      1000,
    );
    await waitFor(
      async () => (await kubectl(['get', 'pod', 'migrate', '-n', 'failed', '-o', 'jsonpath={.status.phase}'])) === 'Failed',
      'pod migrate Failed',
      60_000,
      500,
    );
    // the claim Pending past the 10 s --pvc-pending-timeout, the flapping pod well past 3 flips (one every 2–4 s)
    await new Promise((r) => setTimeout(r, Math.max(0, 25_000 - (Date.now() - t0))));
  }

  afterAll(async () => {
    await kwokDown(NAME, join(dir, 'kwok'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the Job, BackoffLimitExceeded, its failed pods and bob who submitted it — not the Job that completed', () => {
    const f = failures('default');
    expect(f.map((x) => x.objects[0]?.name)).toEqual(['doomed']);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.title).toMatch(/^Job default\/doomed failed \(BackoffLimitExceeded\) after 2 failed pods/);
    expect(f[0]!.objects.filter((o) => o.resource === 'pods')).toHaveLength(2);
    expect(f[0]!.cause).toMatchObject({ actor: 'bob', verb: 'create' });
  });

  it("names the Deployment whose container kwok's crash-loop Stage restarts, CrashLoopBackOff, and release-bot who deployed it", () => {
    const [f, ...rest] = failures('crash');
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toMatch(/^1 pod of Deployment crash\/worker: containers restarted \d+ times in .*: .*CrashLoopBackOff/);
    expect(f!.data!.restarts).toBeGreaterThanOrEqual(3);
    expect(f!.objects.map((o) => o.resource)).toEqual(['replicasets', 'deployments', 'pods']);
    expect(f!.cause).toMatchObject({ actor: RELEASE_BOT, verb: 'create', object: { resource: 'deployments', name: 'worker' } });
  });

  it("names the pod whose Ready condition kwok flips, and team-c's deployer — not the pod that became Ready once", () => {
    const [f, ...rest] = failures('flap');
    expect(rest).toEqual([]);
    expect(f!.severity).toBe('warning');
    expect(f!.title).toMatch(/^1 pod of Deployment flap\/cart: Ready went True → False \d+ times in /);
    expect(f!.data!.readyFlips).toBeGreaterThanOrEqual(3);
    expect(f!.objects.at(-1)!.name).toMatch(/^cart-/);
    expect(f!.cause).toMatchObject({ actor: FLAP_DEPLOYER, verb: 'create', object: { resource: 'deployments', name: 'cart' } });
    expect(f!.evidence.at(-1)!.diff).toContain('status.conditions[type=Ready]');
  });

  it('names the pod kwok reported Failed, its container reason, and alice who created it', () => {
    const [f, ...rest] = failures('failed');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'warning', objects: [{ resource: 'pods', namespace: 'failed', name: 'migrate' }] });
    expect(f!.title).toMatch(/^Pod failed\/migrate: Failed: .*containerFailed/);
    expect(f!.cause).toMatchObject({ actor: 'alice', verb: 'create', object: { name: 'migrate' } });
  });

  it('names the node made NotReady, the pods the node lifecycle controller evicted, and node-breaker as the cause', () => {
    const f = report.findings.filter((x) => x.detector === 'workload-failures' && x.objects[0]!.resource === 'nodes');
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.objects[0]!.name).toBe('kwok-node-1');
    expect(f[0]!.title).toMatch(/^Node kwok-node-1 went NotReady at .*; 2 pods evicted from it: /);
    expect(
      f[0]!.objects
        .filter((o) => o.resource === 'pods')
        .map((o) => o.name)
        .sort(),
    ).toEqual([...evicted].sort());
    // the node lifecycle controller's taint manager evicts (its service account: node-controller)
    expect(f[0]!.data!.deletedBy).toEqual(['system:serviceaccount:kube-system:node-controller']);
    expect(f[0]!.cause).toMatchObject({ actor: BREAKER, verb: 'patch', object: { resource: 'nodes', name: 'kwok-node-1' } });
  });

  it('names the claim left Pending, the pod waiting on it and carol who created it; `explain` of the stuck pod says what it waits for', () => {
    const [f, ...rest] = failures('pvc');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'warning', data: { storageClass: 'no-such-class' } });
    expect(f!.objects[0]).toMatchObject({ resource: 'persistentvolumeclaims', name: 'data' });
    expect(f!.title).toMatch(/^PersistentVolumeClaim pvc\/data \(storage class no-such-class\) still Pending after .*; 1 pod waits on it: db-/);
    expect(f!.cause).toMatchObject({ actor: 'carol', verb: 'create', object: { name: 'data' } });

    const pod = f!.objects.find((o) => o.resource === 'pods')!.name;
    const r = spawnSync(process.execPath, [CLI, 'explain', `pod/${pod}`, '-n', 'pvc', '--store', store, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const ex = JSON.parse(r.stdout) as Explanation;
    expect(ex).toMatchObject({ state: 'exists', phase: 'Pending' });
    expect(ex.summary).toMatch(/not bound to a node/);
    expect(ex.created!.actor).toBe('system:serviceaccount:kube-system:replicaset-controller');
    expect(ex.waitingFor[0]).toMatchObject({ reason: 'FailedScheduling', actor: 'default-scheduler' });
    expect(ex.waitingFor[0]!.message).toMatch(/unbound immediate PersistentVolumeClaims/);
    // the last change that matters: the scheduler's PodScheduled=False (Unschedulable)
    expect(ex.fields.find((x) => x.path.startsWith('status.conditions[type=PodScheduled]'))).toMatchObject({ actor: 'system:kube-scheduler' });
  });
});
