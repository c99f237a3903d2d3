// Completeness in audit mode against a real KWOK cluster whose API server's audit policy drops a
// class of requests: every request in namespace `dark` (`level: None`, first rule). `kubetrail
// serve` receives the audit webhook and runs the informers; the ConfigMaps alice creates, patches
// and deletes in `dark` are seen by the watch only, and once the grace period passed without an
// audit event explaining them they become `attribution: unexplained` spans: `kubetrail diagnose`
// reports a completeness finding naming them. The same writes in namespace `lit` (audited) and the
// cluster's own traffic are explained and named nowhere. Its own cluster: the policy is the API
// server's flag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { ownKwok, type OwnKwok } from '../setup/kwok-cluster.ts';
import { waitFor } from '../setup/wait.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('completeness ← an audit policy that drops the requests of one namespace, on KWOK', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-dark-'));
  const store = join(dir, 'kt.sqlite');
  let cluster: OwnKwok | undefined;
  let serve: RunningKubetrail | undefined;
  let report: Report;

  beforeAll(async () => {
    const policy = readFileSync(join(ROOT, 'deploy/kwok/audit-policy.yaml'), 'utf8').replace(
      /^rules:\n/m,
      'rules:\n# the class of requests this test drops\n- level: None\n  namespaces: ["dark"]\n',
    );
    writeFileSync(join(dir, 'policy.yaml'), policy);
    cluster = await ownKwok(dir, 'kt-dark', ['--audit-policy', join(dir, 'policy.yaml')]);
    const args = ['--cluster', cluster.name, '--kubeconfig', cluster.kubeconfig, '--webhook-port', String(cluster.webhookPort), '--no-query'];
    serve = await startKubetrail(['serve', ...args, '--store', store, '--unexplained-grace', '20s', '--log-level', 'info'], { ready: /informers synced/ });
    const kubectl = (a: string[]) => cluster!.kubectl(['--as=alice', '--as-group=system:masters', ...a]);
    for (const ns of ['dark', 'lit']) {
      await kubectl(['create', 'namespace', ns]);
      await kubectl(['create', 'configmap', 'kept', '-n', ns, '--from-literal=v=1']);
      await kubectl(['create', 'configmap', 'gone', '-n', ns, '--from-literal=v=1']);
      for (let i = 2; i <= 3; i++) await kubectl(['patch', 'configmap', 'kept', '-n', ns, '-p', JSON.stringify({ data: { v: String(i) } })]);
      await kubectl(['delete', 'configmap', 'gone', '-n', ns]);
    }
    // past the grace period (20 s: on a loaded machine an audit batch can reach kubetrail seconds
    // after the watch saw its change) and the next sweep (every 2 s), until the dark ConfigMaps are named
    const diagnose = (): Report => {
      const diag = spawnSync(process.execPath, [CLI, 'diagnose', '--store', store, '--json'], { encoding: 'utf8' });
      expect([0, 1], diag.stderr).toContain(diag.status);
      return JSON.parse(diag.stdout) as Report;
    };
    const named = (r: Report) => (r.findings.find((x) => x.detector === 'completeness')?.data?.unexplainedObjects ?? []) as string[];
    await waitFor(
      () => ['ConfigMap dark/kept', 'ConfigMap dark/gone'].every((n) => named(diagnose()).includes(n)) || undefined,
      'the dark ConfigMaps named',
      120_000,
      2000,
    );
    expect(await serve.stop()).toBe(0);
    serve = undefined;
    report = diagnose();
  }, 300_000);

  afterAll(async () => {
    await serve?.stop();
    await cluster?.down().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the objects whose changes no audit event explains, and only those', () => {
    const f = report.findings.find((x) => x.detector === 'completeness');
    expect(f, JSON.stringify(report.findings.map((x) => x.title))).toBeDefined();
    expect(f!.severity).toBe('info');
    // alice's ConfigMaps, and what the controllers wrote in `dark` (its default ServiceAccount, the
    // kube-root-ca.crt ConfigMap): every request there was dropped
    const named = f!.data!.unexplainedObjects as string[];
    expect(named).toEqual(expect.arrayContaining(['ConfigMap dark/kept', 'ConfigMap dark/gone']));
    expect(named.filter((n) => !/^\w+ dark\//.test(n))).toEqual([]);
    expect(f!.objects.filter((o) => o.namespace !== 'dark')).toEqual([]);
    expect(f!.data!.unexplained).toBeGreaterThanOrEqual(5); // kept: create + 2 patches; gone: create + delete
    expect(f!.title).toMatch(/changes of \d+ objects the informers saw no audit event explains/);
    expect(f!.title).toContain('ConfigMap dark/kept');
  });
});
