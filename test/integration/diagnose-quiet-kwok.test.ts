// Quiet on healthy runs, the cause of churn and Events in causal order, on the real KWOK cluster
// recorded live by `kubetrail serve` (issue 22): a healthy Deployment of 20 rolled to a new image,
// scaled 20 → 30 → 5 and deleted is diagnosed with 0 warnings and 0 errors; a Deployment of 3
// whose pods a chaos script deletes again and again is churn caused by that script's identity;
// and each ScalingReplicaSet Event shows after the ReplicaSet write it reports in the Jaeger JSON.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { type RunningKubetrail, serveToStore } from '../setup/kubetrail.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';

const stack = inject('stack');
const KILLER = 'system:serviceaccount:chaos:pod-killer';
const as = (user: string) => [`--as=${user}`, '--as-group=system:masters'];

interface Log {
  timestamp: number;
  fields: { key: string; value: unknown }[];
}

describe('diagnosis of healthy and chaotic runs on the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-quiet-'));
  let serve: RunningKubetrail | undefined;
  let base = '';
  let healthy = '';
  let chaos = '';
  let scaledAt = '';

  const rollout = (ns: string, name: string) => kubectl(['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=180s']);
  const diagnose = async (ns: string, thresholds: Record<string, string> = {}): Promise<Report> => {
    const res = await fetch(`${base}/api/diagnose?${new URLSearchParams({ namespace: ns, end: new Date().toISOString(), ...thresholds })}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Report;
  };

  beforeAll(async () => {
    ({ serve, base } = await serveToStore(stack, join(dir, 'kt.sqlite')));
    healthy = await createNamespace('healthy');
    chaos = await createNamespace('chaos');
    // the healthy run: a 20-replica Deployment rolled, scaled up and down, deleted
    const k = (ns: string, args: string[]) => kubectl([...args, '-n', ns, ...as('tester')]);
    await k(healthy, ['create', 'deployment', 'web', '--image=nginx:1.0', '--replicas=20']);
    await rollout(healthy, 'web');
    await k(healthy, ['set', 'image', 'deployment/web', 'nginx=nginx:2.0']);
    await rollout(healthy, 'web');
    scaledAt = new Date().toISOString();
    await k(healthy, ['scale', 'deployment/web', '--replicas=30']);
    await rollout(healthy, 'web');
    await k(healthy, ['scale', 'deployment/web', '--replicas=5']);
    await rollout(healthy, 'web');
    await k(healthy, ['delete', 'deployment/web', '--wait=true']);
    await waitFor(
      async () => (await kubectlJson<{ items: unknown[] }>(['get', 'pods', '-n', healthy])).items.length === 0 || undefined,
      'web pods gone',
      120_000,
    );
    // the chaos run: a pod killer deleting the pods of a Deployment of 3, round after round
    await k(chaos, ['create', 'deployment', 'victim', '--image=nginx', '--replicas=3']);
    await rollout(chaos, 'victim');
    for (let round = 0; round < 6; round++) {
      // the live pods (the last round's may still be terminating, and gone by the delete)
      const pods = (await kubectlJson<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>(['get', 'pods', '-n', chaos])).items
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => p.metadata.name);
      await kubectl(['delete', 'pod', ...pods, '-n', chaos, '--wait=false', '--ignore-not-found', ...as(KILLER)]);
      await waitFor(
        async () => {
          const now = await kubectlJson<{ items: { metadata: { name: string; deletionTimestamp?: string } }[] }>(['get', 'pods', '-n', chaos]);
          const fresh = now.items.filter((p) => !pods.includes(p.metadata.name) && !p.metadata.deletionTimestamp);
          return fresh.length >= 3 || undefined;
        },
        'the ReplicaSet replaced the killed pods',
        60_000,
      );
    }
  }, 600_000);

  afterAll(async () => {
    await serve?.stop();
    for (const ns of [healthy, chaos]) if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('the chaos run is churn, and its cause is the pod killer', async () => {
    const report = await waitFor(
      async () => {
        const r = await diagnose(chaos);
        // every round's deletes were made before this test; their audit events reach kubetrail in
        // webhook batches, so wait until the finding counts all of them, not the first that shows
        const done = (f: (typeof r.findings)[number]) => f.detector === 'churn' && /deleted 1[5-8] of its pods$/.test(f.cause?.summary ?? '');
        return r.findings.some(done) ? r : undefined;
      },
      'churn with a cause counting every killed pod in /api/diagnose',
      120_000,
      2000,
    );
    const f = report.findings.find((x) => x.detector === 'churn' && x.cause?.summary.includes('deleted'))!;
    expect(f.objects[0]).toMatchObject({ group: 'apps', resource: 'replicasets', namespace: chaos });
    expect(f.title).toMatch(/^ReplicaSet .*\/victim-[a-z0-9]+ created \d+ pods while it wanted at most 3$/);
    expect(f.cause).toMatchObject({ actor: KILLER, verb: 'delete', object: { resource: 'pods', namespace: chaos } });
    expect(f.cause!.summary).toMatch(new RegExp(`^${KILLER} deleted 1[5-8] of its pods$`));
    expect(f.actors).toContain(KILLER);
    expect(f.chain).toHaveLength(3);
  });

  it('the healthy run has 0 warnings and 0 errors', async () => {
    const report = await waitFor(
      async () => {
        const r = await diagnose(healthy);
        // every pod create, binding and delete of the run is in
        return (r.spans ?? 0) > 500 ? r : undefined;
      },
      'the healthy run in /api/diagnose',
      120_000,
      2000,
    );
    const serious = (r: Report) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} [${f.detector}] ${f.title}`);
    expect(serious(report)).toEqual([]);
    expect(report.detectors.filter((d) => d.failed)).toEqual([]);
    // the controllers' routine no-op writes, retried 409s and hand-overs stay info at low thresholds too
    expect(serious(await diagnose(healthy, { noopMin: '2', conflictMin: '2', fightingMinFlips: '2' }))).toEqual([]);
  });

  it('each ScalingReplicaSet Event is after the ReplicaSet write it reports in the Deployment’s Jaeger JSON', async () => {
    const q = new URLSearchParams({ cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: healthy, name: 'web', ts: scaledAt });
    const res = await fetch(`${base}/redirect?${q}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const trace = (await (await fetch(`${base}${res.headers.get('location')!.replace('/trace/', '/api/traces/')}`)).json()).data[0];
    const logsOf = (op: string): Record<string, unknown>[] =>
      trace.spans
        .filter((s: { operationName: string }) => s.operationName === op)
        .flatMap((s: { logs: Log[] }) => s.logs.map((l) => ({ t: l.timestamp, ...Object.fromEntries(l.fields.map((x) => [x.key, x.value])) })));
    const events = logsOf(`deployments ${healthy}/web`).filter((l) => l.event === 'ScalingReplicaSet');
    expect(events.length).toBeGreaterThanOrEqual(4);
    let sameSecond = 0;
    for (const e of events) {
      const [, rs] = /replica set (\S+)/.exec(String(e.message))!;
      const second = Math.floor(Number(e.t) / 1e6);
      const reported = logsOf(`replicasets ${healthy}/${rs}`).filter(
        (l) => Math.floor(Number(l.t) / 1e6) === second && !l.subresource && (l.verb === 'create' || String(l.diff ?? '').includes('spec.replicas')),
      );
      if (reported.length) sameSecond++;
      for (const w of reported) expect(Number(e.t), `${e.message} after ${w.verb} ${w.diff ?? ''}`).toBeGreaterThan(Number(w.t));
    }
    expect(sameSecond).toBeGreaterThan(0);
  });
});
