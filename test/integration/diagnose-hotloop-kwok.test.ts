// hot-loops against the real KWOK cluster: an impersonated controller (system:serviceaccount:ops:looper)
// re-annotates one ConfigMap twice a second for about 40 s through the API, while ordinary work goes
// on beside it (a Deployment created, scaled, rolled and deleted; ConfigMaps created and labelled).
// Recorded live by `kubetrail serve`; `kubetrail diagnose` must name the looper, the annotation and a
// period near 0.5 s, with the looper's first write as the cause — and nothing else as a hot loop.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/sources/informers/kube-client.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { CLI, serveToStore, type RunningKubetrail } from '../setup/kubetrail.ts';
import type { Finding, Report } from '../../frontend-plugin/diagnose/types.ts';

const stack = inject('stack');
const LOOPER = 'system:serviceaccount:ops:looper';
const diagnoseCli = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'diagnose', ...args], { encoding: 'utf8', env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' } });

/** A merge patch of the ConfigMap's annotation, as `user` (impersonated; kwok-admin is system:masters). */
async function annotate(kc: KubeConfig, ns: string, name: string, value: string, user: string): Promise<void> {
  const server = kc.getCurrentCluster()!.server;
  const url = new URL(`/api/v1/namespaces/${ns}/configmaps/${name}`, server);
  const headers: Record<string, string> = {
    'content-type': 'application/merge-patch+json',
    'impersonate-user': user,
    'impersonate-group': 'system:masters',
  };
  const opts = { method: 'PATCH', headers };
  await kc.applyToHTTPSOptions(opts);
  await new Promise<void>((resolve, reject) => {
    const req = request(url, opts, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`PATCH ${url.pathname}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ metadata: { annotations: { tick: value } } }));
  });
}

describe('kubetrail diagnose ← a controller in a hot loop on the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-hotloop-'));
  const store = join(dir, 'kt.sqlite');
  let ns = '';
  let serve: RunningKubetrail | undefined;
  let until = '';
  let report: Report;
  const loops = (r: Report): Finding[] => r.findings.filter((f) => f.detector === 'hot-loops');

  beforeAll(async () => {
    ({ serve } = await serveToStore(stack, store));
    ns = await createNamespace('hotloop');
    const kc = loadKubeConfig({ kubeconfig: stack.kubeconfig });
    await kubectl(['create', 'configmap', 'loop', '-n', ns, '--from-literal=a=1']);
    // the loop: one write every 500 ms for 40 s (scheduled on the clock, so a slow write does not drift it)
    const t0 = Date.now();
    const loop = (async () => {
      for (let i = 0; i < 80; i++) {
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + i * 500 - Date.now())));
        await annotate(kc, ns, 'loop', String(i), LOOPER);
      }
    })();
    // ordinary work beside it: a 20-replica Deployment created, rolled, scaled down and deleted; ConfigMaps
    await kubectl(['create', 'deployment', 'web', '-n', ns, '--image=nginx:1.25', '--replicas=20']);
    await kubectl(['rollout', 'status', `deployment/web`, '-n', ns, '--timeout=120s']);
    await kubectl(['set', 'image', 'deployment/web', '-n', ns, 'nginx=nginx:1.26']);
    await kubectl(['rollout', 'status', `deployment/web`, '-n', ns, '--timeout=120s']);
    await kubectl(['scale', 'deployment/web', '-n', ns, '--replicas=5']);
    for (let i = 0; i < 5; i++) {
      await kubectl(['create', 'configmap', `plain-${i}`, '-n', ns, `--from-literal=i=${i}`]);
      await kubectl(['label', 'configmap', `plain-${i}`, '-n', ns, 'touched=yes']);
    }
    await kubectl(['delete', 'deployment/web', '-n', ns]);
    await loop;
    until = new Date(Date.now() + 2000).toISOString();
    report = await waitFor(
      async () => {
        const r = diagnoseCli('--store', store, '--until', until, '--json');
        // 0, or 1 when the whole cluster's run has an error finding (a loaded machine can starve kwok)
        if (r.status !== 0 && r.status !== 1) throw new Error(`diagnose exited ${r.status}: ${r.stderr}`);
        const rep = JSON.parse(r.stdout) as Report;
        const f = loops(rep).find((x) => x.actors?.[0] === LOOPER);
        return f && (f.data?.writes as number) >= 70 ? rep : undefined;
      },
      'the looper’s writes in the store',
      60_000,
      2000,
    );
  });

  afterAll(async () => {
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the looper, the annotation it keeps rewriting and a period near 0.5 s', () => {
    const [f, ...rest] = loops(report);
    expect(rest.map((x) => x.title)).toEqual([]); // the rollout, the controllers, leases and heartbeats are no hot loop
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [{ cluster: stack.clusterName, group: '', resource: 'configmaps', namespace: ns, name: 'loop' }],
      actors: [LOOPER],
    });
    expect(Object.keys(f!.data!.fields as object)).toEqual(['metadata.annotations.tick']);
    const m = new RegExp(`^${LOOPER} rewrites metadata\\.annotations\\.tick of ConfigMap ${ns}/loop every (\\d\\.\\d) s \\((\\d+) writes in \\d+ s\\)$`).exec(
      f!.title,
    );
    expect(m, f!.title).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(0.3);
    expect(Number(m![1])).toBeLessThanOrEqual(1.0);
    expect(f!.cause).toMatchObject({ actor: LOOPER, verb: 'patch', object: { resource: 'configmaps', namespace: ns, name: 'loop' } });
    expect(f!.evidence[0]).toMatchObject({ user: LOOPER, verb: 'patch', diff: expect.stringMatching(/^metadata\.annotations\.tick /) });
  });

  it('is the only warning of the run, and --fail-on warning fails CI with it', () => {
    // the only hot loop anywhere, and the only warning or error about the test's namespace (the rest
    // of the cluster is listed in the message: kwok starved of CPU can leave its nodes NotReady)
    const serious = report.findings.filter((f) => f.severity !== 'info');
    const ours = serious.filter((f) => f.detector === 'hot-loops' || f.objects.some((o) => o.namespace === ns));
    expect(
      ours.map((f) => f.detector),
      serious.map((f) => `${f.severity} [${f.detector}] ${f.title}`).join('\n'),
    ).toEqual(['hot-loops']);
    const r = diagnoseCli('--store', store, '--until', until, '--fail-on', 'warning');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`WARN  [hot-loops] ${LOOPER} rewrites metadata.annotations.tick of ConfigMap ${ns}/loop every `);
    // a higher floor than the loop's rate: no finding
    const lenient = diagnoseCli('--store', store, '--until', until, '--hot-loop-min-rate', '5', '--fail-on', 'warning');
    expect(lenient.stdout).toContain('hot-loops 0');
  });
});
