// workload-failures against a real KWOK cluster whose kwok controller runs the corpus's Stages
// (bench/diagnose-corpus/kwok-stages.yaml: a pod labelled pod-container-running-failed.stage.kwok.x-k8s.io
// is reported Failed, as a kubelet would). The real job-controller retries a Job of bob's whose pods
// fail and marks it Failed past its backoffLimit; `kubetrail diagnose` over the API server's audit
// log must name the Job, BackoffLimitExceeded and bob as the cause — and leave alone a Job whose
// pods complete. Its own cluster (not the shared stack's): giving Stages replaces kwok's defaults.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const KWOK = join(ROOT, 'deploy/stack/kwok.sh');
const NAME = 'kt-failures';
const FAIL_LABEL = 'pod-container-running-failed.stage.kwok.x-k8s.io';

const run = (cmd: string, args: string[], input?: string): Promise<string> =>
  new Promise((ok, fail) => {
    const c = execFile(cmd, args, { timeout: 240_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : ok(stdout),
    );
    c.stdin!.end(input ?? '');
  });

const job = (name: string, labels: Record<string, string>): string =>
  JSON.stringify({
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

describe('kubetrail diagnose ← a Job past its backoffLimit on a KWOK cluster with failure Stages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-failures-'));
  const common = ['--name', NAME, '--workdir', join(dir, 'kwok')];
  let report: Report;

  beforeAll(async () => {
    const [webhookPort, apiserverPort] = await freePorts(2);
    const out = await run('bash', [
      KWOK,
      'up',
      ...common,
      '--nodes',
      '1',
      '--webhook-port',
      String(webhookPort),
      '--apiserver-port',
      String(apiserverPort),
      '--extra-config',
      join(ROOT, 'bench/diagnose-corpus/kwok-stages.yaml'),
    ]);
    const env = Object.fromEntries(out.split('\n').flatMap((l) => (/^([A-Z_]+)=(.+)$/.exec(l) ? [[l.split('=')[0]!, l.slice(l.indexOf('=') + 1)]] : [])));
    const kubectl = (args: string[], input?: string) => run(env.KUBECTL!, ['--kubeconfig', env.KUBECONFIG!, ...args], input);
    const since = new Date().toISOString();
    await kubectl(['apply', '--as=bob', '--as-group=system:masters', '-f', '-'], job('doomed', { [FAIL_LABEL]: 'true' }));
    await kubectl(['apply', '--as=bob', '--as-group=system:masters', '-f', '-'], job('fine', {}));
    const condition = (name: string, type: string) =>
      kubectl(['get', 'job', name, '-n', 'default', '-o', `jsonpath={.status.conditions[?(@.type=="${type}")].status}`]).then((s) => s.trim() === 'True');
    await waitFor(() => condition('doomed', 'Failed'), 'Job doomed Failed', 120_000, 1000);
    await waitFor(() => condition('fine', 'Complete'), 'Job fine Complete', 60_000, 1000);
    await new Promise((r) => setTimeout(r, 2000)); // the audit log's last batch
    const until = new Date().toISOString();
    const store = join(dir, 'kt.sqlite');
    const rep = spawnSync(process.execPath, [CLI, 'replay', '--cluster', NAME, '--store', store, '--no-progress', env.AUDIT_LOG!], { encoding: 'utf8' });
    expect(rep.status, rep.stderr).toBe(0);
    const diag = spawnSync(process.execPath, [CLI, 'diagnose', '--store', store, '--since', since, '--until', until, '--json'], { encoding: 'utf8' });
    expect([0, 1], diag.stderr).toContain(diag.status);
    report = JSON.parse(diag.stdout) as Report;
  });

  afterAll(async () => {
    await run('bash', [KWOK, 'down', ...common]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the Job, BackoffLimitExceeded, its failed pods and bob who submitted it', () => {
    const f = report.findings.filter((x) => x.detector === 'workload-failures');
    expect(f.map((x) => x.objects[0]?.name)).toEqual(['doomed']);
    expect(f[0]!.severity).toBe('warning');
    expect(f[0]!.title).toMatch(/^Job default\/doomed failed \(BackoffLimitExceeded\) after 2 failed pods/);
    expect(f[0]!.objects.filter((o) => o.resource === 'pods')).toHaveLength(2);
    expect(f[0]!.cause).toMatchObject({ actor: 'bob', verb: 'create' });
  });
});
