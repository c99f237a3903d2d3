// Diagnosis against the real KWOK cluster: misbehaving actors written as small kubectl scripts
// (each its own impersonated user), recorded live by `kubetrail serve` through the cluster's audit
// webhook into the embedded store; then `GET /api/diagnose` on serve's query server and
// `kubetrail diagnose` on the store must name each misbehaviour — detector, severity, objects,
// actors — with evidence links that open the right trace, a JUnit file and the exit code.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { CLI, serveToStore, type RunningKubetrail } from '../setup/kubetrail.ts';
import type { Finding, Report } from '../../frontend-plugin/diagnose/types.ts';
import type { Explanation } from '../../frontend-plugin/diagnose/explain.ts';

const stack = inject('stack');
/** An actor of its own: impersonation keeps system:masters rights but shows this user in the audit log. */
const as = (user: string) => [`--as=${user}`, '--as-group=system:masters'];
const THRESHOLDS = { scheduleTimeout: '5s', orphanGrace: '5s', rolloutTimeout: '5s' };

describe('kubetrail diagnose ← misbehaving actors on the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-diag-'));
  const store = join(dir, 'kt.sqlite');
  let ns = '';
  let quotaNs = '';
  let quotaReport: Report;
  let serve: RunningKubetrail | undefined;
  let base = '';
  let until = '';
  let report: Report;

  const find = (r: Report, detector: string, pred: (f: Finding) => boolean = () => true) => r.findings.find((f) => f.detector === detector && pred(f));
  const has = (name: string) => (f: Finding) => f.objects.some((o) => o.name === name || o.name.startsWith(`${name}-`));

  beforeAll(async () => {
    ({ serve, base } = await serveToStore(stack, store));
    ns = await createNamespace('diag');
    const k = (args: string[], user: string) => kubectl([...args, '-n', ns, ...as(user)]);

    // 1. two actors scaling one Deployment back and forth (an autoscaler against a kubectl loop)
    await k(['create', 'deployment', 'fight', '--image=nginx', '--replicas=2'], 'creator');
    for (let i = 0; i < 3; i++) {
      await k(['scale', 'deployment/fight', '--replicas=4'], 'autoscaler-a');
      await k(['scale', 'deployment/fight', '--replicas=2'], 'autoscaler-b');
    }
    // 2. a Deployment whose pods can never schedule
    await kubectl(['apply', '-n', ns, ...as('creator'), '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'picky' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'picky' } },
          template: {
            metadata: { labels: { app: 'picky' } },
            spec: { nodeSelector: { 'kubetrail.io/no-such-node': 'true' }, containers: [{ name: 'c', image: 'nginx' }] },
          },
        },
      }),
    });
    // 3. an owner deleted with --cascade=orphan: its ReplicaSet stays
    await k(['create', 'deployment', 'keeper', '--image=nginx', '--replicas=1'], 'creator');
    await waitFor(
      async () => {
        const rs = await kubectlJson<{ items: { metadata: { ownerReferences?: { name: string }[] }; status: { readyReplicas?: number } }[] }>([
          'get',
          'replicasets',
          '-n',
          ns,
        ]);
        return rs.items.some((r) => r.metadata.ownerReferences?.[0]?.name === 'keeper' && r.status.readyReplicas === 1) || undefined;
      },
      'keeper ready',
      120_000,
    );
    await k(['delete', 'deployment/keeper', '--cascade=orphan'], 'orphaner');
    // 4. a create/delete loop of one named object
    for (let i = 0; i < 4; i++) {
      await k(['create', 'configmap', 'flappy', '--from-literal=i=1'], 'looper');
      await k(['delete', 'configmap', 'flappy'], 'looper');
    }
    // 5. repeated stale `kubectl replace` (409 Conflict)
    await k(['create', 'configmap', 'stale', '--from-literal=v=1'], 'stale-writer');
    const staleFile = join(dir, 'stale.json');
    writeFileSync(staleFile, await kubectl(['get', 'configmap', 'stale', '-n', ns, '-o', 'json']));
    await k(['label', 'configmap', 'stale', 'touched=yes'], 'stale-writer');
    for (let i = 0; i < 6; i++)
      await k(['replace', '-f', staleFile], 'stale-writer').then(
        () => {
          throw new Error('stale replace was accepted');
        },
        (e: Error) => expect(e.message).toMatch(/Conflict|modified/),
      );
    // 6. no-op server-side apply of an unchanged manifest in a loop
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: ns }, data: { a: '1' } });
    for (let i = 0; i < 7; i++) await kubectl(['apply', '--server-side', '--field-manager=applier', ...as('applier'), '-f', '-'], { input: manifest });

    // 7. a quota (its own namespace: it would cap the others) that refuses the second pod of a Deployment
    quotaNs = await createNamespace('diag-quota');
    await kubectl(['create', 'quota', 'pod-cap', '--hard=pods=1', '-n', quotaNs, ...as('system:serviceaccount:platform:quota-admin')]);
    await kubectl(['create', 'deployment', 'capped', '--image=nginx', '--replicas=2', '-n', quotaNs, ...as('creator')]);

    // the pods of picky have waited more than the 5 s threshold, keeper's ReplicaSet outlived its owner by more than 5 s
    await new Promise((r) => setTimeout(r, 8000));
    until = new Date().toISOString();
    const q = new URLSearchParams({ namespace: ns, end: until, ...THRESHOLDS });
    report = await waitFor(
      async () => {
        const res = await fetch(`${base}/api/diagnose?${q}`);
        expect(res.status).toBe(200);
        const r = (await res.json()) as Report;
        const ready =
          find(r, 'fighting', (f) => f.data?.flips === 5) &&
          find(r, 'unscheduled-pods', has('picky')) &&
          find(r, 'orphans', has('keeper')) &&
          find(r, 'churn', has('flappy')) &&
          find(r, 'stuck-rollouts', (f) => f.objects[0]!.name === 'picky') &&
          find(r, 'conflicts', (f) => f.actors?.[0] === 'stale-writer' && (f.data?.failures as number) >= 6) &&
          find(r, 'noop-writes', (f) => f.actors?.[0] === 'applier' && (f.data?.writes as number) >= 6);
        return ready ? r : undefined;
      },
      'every misbehaviour in /api/diagnose',
      120_000,
      2000,
    );
    const qq = new URLSearchParams({ namespace: quotaNs, end: new Date().toISOString(), ...THRESHOLDS });
    quotaReport = await waitFor(
      async () => {
        const r = (await (await fetch(`${base}/api/diagnose?${qq}`)).json()) as Report;
        return find(r, 'stuck-rollouts', (f) => f.objects[0]!.resource === 'replicasets' && !!f.cause) ? r : undefined;
      },
      'the quota-refused creates in /api/diagnose',
      120_000,
      2000,
    );
  });

  afterAll(async () => {
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    if (quotaNs) await deleteNamespace(quotaNs).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the two actors fighting over spec.replicas, with the values', () => {
    const f = find(report, 'fighting')!;
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [{ cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: ns, name: 'fight' }],
      actors: ['autoscaler-a', 'autoscaler-b'],
    });
    expect(f.data).toMatchObject({ field: 'spec.replicas', flips: 5, changes: 6, changesByActor: { 'autoscaler-a': 3, 'autoscaler-b': 3 } });
    expect(f.evidence.map((e) => [e.user, e.subresource, e.diff])).toContainEqual(['autoscaler-b', 'scale', 'spec.replicas 4 -> 2']);
    expect(report.findings.filter((x) => x.detector === 'fighting')).toHaveLength(1); // the deployment controller following it is no fight
  });

  it('reports the pods that never schedule, with the scheduler’s reason', () => {
    const f = find(report, 'unscheduled-pods', has('picky'))!;
    expect(f.severity).toBe('error');
    expect(f.objects[0]).toMatchObject({ group: 'apps', resource: 'replicasets' });
    expect(f.objects.filter((o) => o.resource === 'pods')).toHaveLength(2);
    expect(f.title).toMatch(/^2 pods of ReplicaSet .*\/picky-[a-z0-9]+ were never scheduled/);
    expect(((f.data?.messages ?? []) as string[]).join('\n')).toMatch(/didn't match Pod's node affinity\/selector/);
    expect(f.evidence.some((e) => e.verb === 'event FailedScheduling')).toBe(true);
    // the cause: who wrote the node selector the scheduler cannot match
    expect(f.cause).toMatchObject({ actor: 'creator', object: { resource: 'deployments', name: 'picky' } });
    expect(f.chain?.at(-1)).toMatch(/^creator \w+ Deployment .*\/picky with node selector \{"kubetrail.io\/no-such-node":"true"\}/);
  });

  it('names the ResourceQuota that refuses the pod creates and who created it', () => {
    const f = find(quotaReport, 'stuck-rollouts', (x) => x.objects[0]!.resource === 'replicasets')!;
    expect(f.severity).toBe('error');
    expect(f.cause).toMatchObject({
      actor: 'system:serviceaccount:platform:quota-admin',
      verb: 'create',
      object: { resource: 'resourcequotas', namespace: quotaNs, name: 'pod-cap' },
    });
    expect(f.cause!.message).toMatch(/exceeded quota: pod-cap/);
    expect(f.data).toMatchObject({ refusedBy: `ResourceQuota ${quotaNs}/pod-cap` });
  });

  it('`explain` of the Deployment the quota stalls: 1 of 2 available, the FailedCreate naming the quota, who created it', async () => {
    const q = new URLSearchParams({ cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: quotaNs, name: 'capped' });
    const res = await fetch(`${base}/api/explain?${q}`);
    expect(res.status).toBe(200);
    const ex = (await res.json()) as Explanation;
    expect(ex).toMatchObject({ state: 'exists', created: { actor: 'creator' } });
    expect(ex.summary).toMatch(/^Deployment .*\/capped: exists/);
    const DC = 'system:serviceaccount:kube-system:deployment-controller';
    // what it waits for: the replica the quota keeps out, and the refusal (from the ReplicaSet's FailedCreate Event)
    expect(ex.waitingFor).toContainEqual(expect.objectContaining({ summary: expect.stringMatching(/^replicas: 1 of 2 available, 1 unavailable/), actor: DC }));
    const refused = ex.waitingFor.find((w) => w.reason === 'FailedCreate')!;
    expect(refused).toMatchObject({ actor: 'replicaset-controller', object: { resource: 'replicasets' } });
    expect(refused.message).toMatch(/exceeded quota: pod-cap, requested: pods=1, used: pods=1, limited: pods=1/);
    // the last relevant changes and who made them: creator's spec, the controller's status
    expect(ex.fields.find((f) => f.path === 'spec.replicas')).toMatchObject({ actor: 'creator', verb: 'create', new: '2' });
    expect(ex.fields.find((f) => f.path === 'status.unavailableReplicas')).toMatchObject({ actor: DC, new: '1' });
  });

  it('reports the rollout that stalls because its pods cannot schedule', () => {
    const f = find(report, 'stuck-rollouts', (x) => x.objects[0]!.name === 'picky')!;
    expect(f).toMatchObject({
      severity: 'error',
      objects: [{ group: 'apps', resource: 'deployments', namespace: ns, name: 'picky' }],
      data: { desired: 2, readyReplicas: 0, availableReplicas: 0 },
    });
    expect(f.title).toMatch(
      /^Deployment .*\/picky has not reached its spec .* after the last change: updatedReplicas \d\/2, readyReplicas 0\/2, availableReplicas 0\/2$/,
    );
    expect(f.evidence[0]).toMatchObject({ user: 'creator', verb: 'create', object: { name: 'picky' } });
  });

  it('reports the ReplicaSet orphaned by --cascade=orphan and who released it', () => {
    const f = find(report, 'orphans', has('keeper'))!;
    expect(f).toMatchObject({ severity: 'warning', data: { relation: 'owner', orphaned: 1, stillThere: 1 } });
    expect(f.objects[0]).toMatchObject({ resource: 'deployments', name: 'keeper' });
    expect(f.objects[1]).toMatchObject({ resource: 'replicasets' });
    expect(f.title).toMatch(
      /outlived its deleted owner Deployment .*\/keeper by up to .*orphaned: owner reference removed by system:serviceaccount:kube-system:generic-garbage-collector/,
    );
    expect(f.actors).toContain('orphaner');
    // the garbage collector only did what the delete asked for: the deleter is the cause
    expect(f.cause).toMatchObject({ actor: 'orphaner', verb: 'delete', object: { name: 'keeper' } });
    expect(f.evidence[0]).toMatchObject({ user: 'orphaner', verb: 'delete', object: { name: 'keeper' } });
  });

  it('reports the create/delete loop, the stale replaces and the no-op applies', () => {
    expect(find(report, 'churn', has('flappy'))).toMatchObject({ severity: 'warning', actors: ['looper'], data: { recreations: 3 } });
    const c = find(report, 'conflicts', (f) => f.actors?.[0] === 'stale-writer')!;
    expect(c).toMatchObject({ severity: 'warning', objects: [{ resource: 'configmaps', name: 'stale' }], data: { byCode: { 409: 6 } } });
    expect(c.evidence[0]).toMatchObject({ verb: 'update', code: 409 });
    expect(c.evidence[0]!.message).toMatch(/^Conflict: /);
    const n = find(report, 'noop-writes', (f) => f.actors?.[0] === 'applier')!; // a controller's no-ops are info
    expect(n).toMatchObject({ severity: 'warning', actors: ['applier'], objects: [{ resource: 'configmaps', name: 'applied' }], data: { writes: 6 } });
  });

  it('each evidence link opens the trace of the object it names', async () => {
    for (const f of [find(report, 'fighting')!, find(report, 'orphans', has('keeper'))!, find(report, 'conflicts', (x) => x.actors?.[0] === 'stale-writer')!]) {
      const res = await fetch(`${base}${f.redirect}`, { redirect: 'manual' });
      expect(res.status, f.redirect).toBe(302);
      const id = /^\/trace\/([0-9a-f]{32})$/.exec(res.headers.get('location') ?? '')![1];
      const t = (await (await fetch(`${base}/api/traces/${id}`)).json()).data[0];
      const target = new URL(f.redirect, base).searchParams;
      expect(t.spans[0].operationName).toBe(`${target.get('resource')} ${ns}/${target.get('name')}`);
      // the evidence events are on that trace
      const audits = t.spans.flatMap((s: { logs: { fields: { key: string; value: unknown }[] }[] }) =>
        s.logs.map((l) => l.fields.find((x) => x.key === 'audit')?.value),
      );
      const e = f.evidence.find((x) => x.object.name === target.get('name'))!;
      expect(audits).toContain(`${e.user} ${e.verb}${e.subresource ? ` ${e.subresource}` : ''}`);
    }
  });

  it('`kubetrail diagnose --junit` fails CI with the evidence, exit 1; the default --fail-on error too', () => {
    const junit = join(dir, 'diagnose.xml');
    const args = [
      'diagnose',
      '--store',
      store,
      '--namespace',
      ns,
      '--until',
      until,
      '--schedule-timeout',
      '5s',
      '--orphan-grace',
      '5s',
      '--rollout-timeout',
      '5s',
    ];
    const env = { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' };
    const r = spawnSync(process.execPath, [CLI, ...args, '--fail-on', 'warning', '--junit', junit], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/ERROR \[unscheduled-pods\] 2 pods of ReplicaSet/);
    expect(r.stdout).toMatch(/WARN {2}\[fighting\] autoscaler-a and autoscaler-b keep changing spec.replicas/);
    const xml = readFileSync(junit, 'utf8');
    for (const d of ['fighting', 'conflicts', 'noop-writes', 'churn', 'unscheduled-pods', 'orphans', 'stuck-rollouts']) {
      expect(xml, d).toMatch(new RegExp(`<testcase classname="kubetrail.diagnose" name="${d}">\\s*<failure `));
    }
    expect(xml).toMatch(/<testcase classname="kubetrail.diagnose" name="slow-reactions">(<\/testcase>|\s*<system-out>)/); // info only: no failure
    expect(xml).toContain('autoscaler-b  patch scale (200)  Deployment');
    const json = spawnSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8', env });
    expect(json.status).toBe(1); // default --fail-on error: the unscheduled pods
    const cli = JSON.parse(json.stdout) as Report;
    const serious = (x: Report) =>
      x.findings
        .filter((f) => f.severity !== 'info')
        .map((f) => [f.detector, f.title])
        .sort();
    expect(serious(cli)).toEqual(serious(report));
    const lenient = spawnSync(process.execPath, [CLI, ...args, '--selector', `apps/deployments/${ns}/fight`], { encoding: 'utf8', env });
    expect(lenient.status, lenient.stdout).toBe(0); // only the fight's findings: warnings
    expect(lenient.stdout).toContain('[fighting]');
    expect(lenient.stdout).not.toContain('[unscheduled-pods]');
  });
});
