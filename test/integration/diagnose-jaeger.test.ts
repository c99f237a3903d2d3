// Diagnosis over Jaeger: `kubetrail serve` exports the KWOK cluster's audit events over OTLP to the
// real Jaeger, and `kubetrail diagnose --jaeger-query` (JaegerBackend.scanSpans: one search of
// the range) finds the same misbehaviour as over the store: two scalers fighting over spec.replicas.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { CLI, startKubetrail, type RunningKubetrail, stackServeArgs } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';

const stack = inject('stack');
const as = (user: string) => [`--as=${user}`, '--as-group=system:masters'];

describe('kubetrail diagnose --jaeger-query ← KWOK → serve → Jaeger', () => {
  let ns = '';
  let serve: RunningKubetrail | undefined;
  let base = '';
  const since = new Date(Date.now() - 60_000).toISOString();

  beforeAll(async () => {
    const [queryPort] = await freePorts(1);
    serve = await startKubetrail(
      [
        ...stackServeArgs(stack),
        '--otlp-endpoint',
        stack.otlpGrpcEndpoint,
        '--jaeger-query',
        stack.jaegerQueryUrl,
        '--query-port',
        String(queryPort),
        '--log-level',
        'info',
      ],
      { ready: /informers started/ },
    );
    base = `http://127.0.0.1:${queryPort}`;
    ns = await createNamespace('diagj');
    await kubectl(['create', 'deployment', 'fight', '-n', ns, '--image=nginx', '--replicas=1', ...as('creator')]);
    for (let i = 0; i < 3; i++) {
      await kubectl(['scale', 'deployment/fight', '-n', ns, '--replicas=3', ...as('hpa')]);
      await kubectl(['scale', 'deployment/fight', '-n', ns, '--replicas=1', ...as('kubectl-loop')]);
    }
  });
  afterAll(async () => {
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
  });

  it('finds the fight from the spans in Jaeger, through the CLI and through /api/diagnose', async () => {
    const args = ['diagnose', '--jaeger-query', stack.jaegerQueryUrl, '--cluster', stack.clusterName, '--namespace', ns, '--since', since, '--json'];
    const report = await waitFor(
      () => {
        const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' } });
        if (r.status !== 0) return undefined; // only warnings expected: exit 0 at the default --fail-on error
        const rep = JSON.parse(r.stdout) as Report;
        const f = rep.findings.find((x) => x.detector === 'fighting');
        return f && f.data?.flips === 5 ? rep : undefined;
      },
      'the fight in Jaeger',
      120_000,
      2000,
    );
    const f = report.findings.find((x) => x.detector === 'fighting')!;
    expect(f).toMatchObject({
      severity: 'warning',
      actors: ['hpa', 'kubectl-loop'],
      objects: [{ resource: 'deployments', namespace: ns, name: 'fight' }],
      data: { field: 'spec.replicas' },
    });
    expect(report.detectors.filter((d) => d.failed)).toEqual([]);
    const api = (await (
      await fetch(`${base}/api/diagnose?${new URLSearchParams({ cluster: stack.clusterName, namespace: ns, start: since })}`)
    ).json()) as Report;
    expect(api.findings.find((x) => x.detector === 'fighting')).toMatchObject({ actors: ['hpa', 'kubectl-loop'], data: { flips: 5 } });
    // the evidence link opens the Deployment's trace from Jaeger
    const res = await fetch(`${base}${f.redirect}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const t = (await (await fetch(`${base}${res.headers.get('location')!.replace('/trace/', '/api/traces/')}`)).json()).data[0];
    expect(t.spans[0].operationName).toBe(`deployments ${ns}/fight`);
  });
});
