// `kubetrail explain` as a user runs it (real processes) over recorded KWOK scenarios of the
// diagnosis corpus, each replayed into a temp store with `kubetrail replay`: why the unscheduled pod
// is Pending, why the quota-stuck Deployment does not roll out, why the ConfigMap stays Terminating —
// each naming the actors the labels name; GET /api/explain answers the same; exit codes 4 and 3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import type { Explanation } from '../../frontend-plugin/diagnose/explain.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli.ts');
const CORPUS = join(ROOT, 'bench/diagnose-corpus/scenarios');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' } });
const SCENARIOS = ['unscheduled-node-selector', 'stuck-rollout-quota', 'stuck-deletion-finalizer'] as const;

let dir: string;
const stores: Record<string, string> = {};
/** The end of each recording window: explained there, as the benchmark judges it. */
const ends: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-explain-'));
  for (const s of SCENARIOS) {
    stores[s] = join(dir, `${s}.sqlite`);
    const r = run('replay', '--cluster', 'corpus', '--store', stores[s], '--no-progress', join(CORPUS, s, 'audit.log.gz'), join(CORPUS, s, 'events.json.gz'));
    expect(r.status, r.stderr).toBe(0);
    ends[s] = (JSON.parse(readFileSync(join(CORPUS, s, 'recording.json'), 'utf8')) as { end: string }).end;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const explainJson = (s: (typeof SCENARIOS)[number], target: string): Explanation => {
  const r = run('explain', target, '-n', s, '--store', stores[s]!, '--at', ends[s]!, '--json');
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Explanation;
};

describe('kubetrail explain on recorded scenarios', () => {
  it("a Pending pod: not bound, the scheduler's FailedScheduling message, the deployer who wrote the node selector", () => {
    const ex = explainJson('unscheduled-node-selector', 'pod/picky-c9fffddb8-xn4px');
    expect(ex).toMatchObject({ state: 'exists', phase: 'Pending', created: { actor: 'system:serviceaccount:kube-system:replicaset-controller' } });
    expect(ex.waitingFor[0]).toMatchObject({ reason: 'FailedScheduling', actor: 'default-scheduler' });
    expect(ex.waitingFor[0]!.message).toMatch(/didn't match Pod's node affinity\/selector/);
    expect(ex.findings.find((f) => f.detector === 'unscheduled-pods')?.cause?.actor).toBe('system:serviceaccount:team-a:deployer');
    const text = run(
      'explain',
      'pod/picky-c9fffddb8-xn4px',
      '-n',
      'unscheduled-node-selector',
      '--store',
      stores['unscheduled-node-selector']!,
      '--at',
      ends['unscheduled-node-selector']!,
    );
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^Pod unscheduled-node-selector\/picky-c9fffddb8-xn4px: exists, phase Pending/);
    expect(text.stdout).toMatch(/a node: not bound yet \(FailedScheduling, reported by default-scheduler\)/);
    expect(text.stdout).toContain('cause: system:serviceaccount:team-a:deployer');
    // its Deployment: no replica available, its three pods refused alike by the scheduler, in one line
    const dep = explainJson('unscheduled-node-selector', 'deployment/picky');
    expect(dep.conditions.Available).toBe('False');
    expect(dep.waitingFor.map((w) => w.summary)).toEqual([
      expect.stringMatching(/^replicas: 0 of 3 available, 3 unavailable \(last said by system:serviceaccount:kube-system:deployment-controller\)/),
      expect.stringMatching(/^Pod unscheduled-node-selector\/picky-\w+-\w+ \(and 2 more\): FailedScheduling \(reported by default-scheduler\)/),
    ]);
  });

  it("a Deployment whose rollout a quota refuses: its ReplicaSet's FailedCreate, the quota-admin as the cause, the deployer's image change", () => {
    const ex = explainJson('stuck-rollout-quota', 'deploy/api');
    expect(ex.object).toMatchObject({ group: 'apps', resource: 'deployments', name: 'api' });
    const wait = ex.waitingFor.find((w) => w.reason === 'FailedCreate');
    expect(wait).toMatchObject({ object: { resource: 'replicasets' }, actor: 'replicaset-controller' });
    expect(wait!.message).toMatch(/exceeded quota: pod-cap/);
    expect(ex.findings.find((f) => f.detector === 'stuck-rollouts')?.cause).toMatchObject({
      actor: 'system:serviceaccount:platform:quota-admin',
      object: { resource: 'resourcequotas', name: 'pod-cap' },
    });
    expect(ex.fields.find((f) => f.path.endsWith('.image'))).toMatchObject({ actor: 'system:serviceaccount:ci:deployer', verb: 'patch' });
  });

  it('a Terminating ConfigMap: the finalizer the legacy operator added, the cleanup bot that deleted it', () => {
    const ex = explainJson('stuck-deletion-finalizer', 'cm/settings');
    expect(ex).toMatchObject({ state: 'terminating', finalizers: ['example.com/cleanup-hook'] });
    expect(ex.waitingFor[0]).toMatchObject({ actor: 'system:serviceaccount:ops:legacy-operator' });
    expect(ex.fields.find((f) => f.path === 'metadata.deletionTimestamp')).toMatchObject({ actor: 'system:serviceaccount:ci:cleanup-bot', verb: 'delete' });
    expect(ex.findings.find((f) => f.detector === 'stuck-deletions')?.cause?.actor).toBe('system:serviceaccount:ops:legacy-operator');
  });

  it('GET /api/explain answers the same explanation; 404 for an object not in the record, 400 without a name', async () => {
    const s = 'stuck-deletion-finalizer';
    const backend = new SqliteBackend(stores[s]!);
    const app = await createQueryServer({ backend, windowSec: 1800 });
    try {
      const res = await app.inject({ method: 'GET', url: `/api/explain?cluster=corpus&resource=configmaps&namespace=${s}&name=settings&at=${ends[s]}` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(explainJson(s, 'configmap/settings'));
      expect((await app.inject({ method: 'GET', url: `/api/explain?resource=configmaps&namespace=${s}&name=nope` })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/api/explain?resource=configmaps' })).statusCode).toBe(400);
    } finally {
      await app.close();
      await backend.close();
    }
  });

  it('exits 4 for an object not in the record, 3 without a store, 2 for a kind it does not know', () => {
    const s = 'stuck-deletion-finalizer';
    const missing = run('explain', 'configmap/nope', '-n', s, '--store', stores[s]!);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toMatch(/configmap\/nope .* is not in the record/);
    expect(run('explain', 'configmap/settings', '--store', join(dir, 'none.sqlite')).status).toBe(3);
    expect(run('explain', 'gizmo/x', '--store', stores[s]!).status).toBe(2);
  });
});
