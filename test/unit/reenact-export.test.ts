// `kubetrail export` as a user runs it (a real process) over the recorded KWOK scenario
// (examples/kwok-scenario) replayed into a temp store: kwok-admin's writes only, in order, each
// rebuilt from what the store keeps; --since still rebuilds objects created before it; the actor
// patterns override the rule; `reenact --dry-run` prints the plan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseReenact, type ReenactAction } from '../../frontend-plugin/reenact/format.ts';
import { runCli as run } from '../helpers/cli.ts';

const SCENARIO = resolve(import.meta.dirname, '../../examples/kwok-scenario');

let dir: string;
let store: string;
/** The export with no flags, made once. */
let full: ReturnType<typeof parseReenact> & { stderr: string; text: string };
const exported = async (...args: string[]) => {
  const r = await run('export', '--store', store, ...args);
  expect(r.status, r.stderr).toBe(0);
  return { ...parseReenact(r.stdout), stderr: r.stderr, text: r.stdout };
};
const what = (a: ReenactAction) => `${a.verb} ${a.ref.kind} ${a.ref.namespace ? `${a.ref.namespace}/` : ''}${a.ref.name}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kt-export-'));
  store = join(dir, 'scenario.sqlite');
  const r = await run('replay', '--cluster', 'kwok', '--store', store, '--no-progress', join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json'));
  expect(r.status, r.stderr).toBe(0);
  full = await exported();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubetrail export over the recorded scenario', () => {
  it("writes kwok-admin's writes in time order, not the controllers', scheduler's or kwok's", async () => {
    const { header, actions, stderr } = full;
    expect(header).toMatchObject({ format: 'kubetrail-reenact', version: 1, cluster: 'kwok', from: '2026-11-22T04:30:40.521833Z' });
    expect(actions.map(what)).toEqual([
      'create Node kwok-node-0',
      'create Node kwok-node-1',
      'create Node kwok-node-2',
      'create Namespace demo',
      'create Service demo/demo',
      'create Deployment demo/demo',
      'patch Deployment demo/demo',
      'patch Deployment demo/demo',
      'patch Deployment demo/demo',
      'create Secret demo/demo-credentials',
      'create Pod demo/secret-reader',
      'create Service demo/web',
      'create StatefulSet demo/web',
      'create Job demo/pi',
      'delete Node kwok-node-2',
      'delete Deployment demo/demo',
    ]);
    expect(new Set(actions.map((a) => a.recorded.user))).toEqual(new Set(['kwok-admin']));
    expect(actions.map((a) => a.offsetMs)).toEqual(actions.map((a) => a.offsetMs).sort((x, y) => x - y));
    expect(stderr).toBe('kubetrail export: 16 actions of cluster kwok\n');
  });

  it('cleans creates, keeps a scale as a patch of spec.replicas and an image change as the whole container list', async () => {
    const { actions } = full;
    const svc = actions[4]!.object as { metadata: Record<string, unknown>; spec: Record<string, unknown>; status?: unknown };
    expect(Object.keys(svc.metadata).sort()).toEqual(['labels', 'name', 'namespace']);
    expect(svc.spec.clusterIP).toBeUndefined();
    expect(svc.status).toBeUndefined();
    expect(actions[6]).toMatchObject({
      verb: 'patch',
      patch: { spec: { replicas: 4 } },
      recorded: { verb: 'patch', subresource: 'scale', changed: ['spec.replicas'] },
    });
    const containers = (actions[7]!.patch as { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }).spec.template.spec.containers;
    expect(containers.map((c) => [c.name, c.image])).toEqual([['nginx', 'nginx:1.26']]);
    expect(actions[9]!.secrets).toEqual([
      { path: 'data.password', bytes: 17, base64: true },
      { path: 'data.username', bytes: 4, base64: true },
    ]);
  });

  it('--since leaves out earlier writes but rebuilds the objects they made: the image patch still carries the whole list', async () => {
    const { actions } = await exported('--since', '2026-11-22T04:30:53Z');
    expect(actions.map(what).slice(0, 2)).toEqual(['patch Deployment demo/demo', 'patch Deployment demo/demo']);
    expect(actions[0]!.offsetMs).toBe(0);
    expect(actions[0]!.recorded.changed).toEqual(['spec.template.spec.containers[name=nginx].image']);
    expect(actions[0]!.notes).toBeUndefined();
    expect(JSON.stringify(actions[0]!.patch)).toContain('"ports":[{"containerPort":80');
  });

  it('--namespace keeps that namespace and the Namespace itself', async () => {
    expect((await exported('--namespace', 'demo')).actions.map(what)).toEqual(full.actions.map(what).filter((w) => !w.includes('Node')));
  });

  it('actor patterns override the rule', async () => {
    expect((await exported('--exclude-actor', 'kwok-*')).actions).toEqual([]);
    const all = (await exported('--include-actor', 'system:*')).actions;
    expect(all.some((a) => a.ref.kind === 'ReplicaSet' && a.recorded.user === 'system:serviceaccount:kube-system:deployment-controller')).toBe(true);
    expect(all.some((a) => a.recorded.user === 'system:kube-scheduler')).toBe(false); // only bindings: a subresource not re-enacted
  });

  it('reenact --dry-run prints the plan under the prefix and contacts no cluster', async () => {
    const file = join(dir, 'plan.jsonl');
    writeFileSync(file, full.text);
    const r = await run('reenact', file, '--dry-run', '--namespace-prefix', 'p-', '--kubeconfig', join(dir, 'no-such-kubeconfig'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      '16 actions of cluster kwok (2026-11-22T04:30:40.521833Z .. 2026-11-22T04:32:05.308028Z):',
      '+0.000s #1 create v1 Node kwok-node-0',
      '+0.008s #2 create v1 Node kwok-node-1',
    ]);
    expect(r.stdout).toContain('+7.249s #6 create apps/v1 Deployment p-demo/demo');
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(18);
  });

  it('reenact refuses bad flags and a bad --secret-values file before anything is applied (exit 2)', async () => {
    const file = join(dir, 'plan2.jsonl');
    writeFileSync(file, full.text);
    const bad = join(dir, 'bad-secrets.json');
    writeFileSync(bad, '{"demo/demo-credentials": ');
    for (const [args, why] of [
      [['--speed', '0'], /--speed.*a positive number/],
      [['--namespace-prefix', 'Run_2'], /--namespace-prefix.*lowercase/],
      [['--secret-values', bad], /--secret-values .*bad-secrets\.json: .*JSON.*nothing was applied/],
      [['--secret-values', join(dir, 'none.json')], /--secret-values .*none\.json: ENOENT/],
    ] as const) {
      const r = await run('reenact', file, '--dry-run', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(r.stdout).toBe('');
    }
  });

  it('reenact against a cluster it cannot reach: every action "not sent", exit 1', async () => {
    const file = join(dir, 'plan3.jsonl');
    writeFileSync(file, full.text);
    const kubeconfig = join(dir, 'unreachable.kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const r = await run('reenact', file, '--kubeconfig', kubeconfig, '--speed', 'max', '--no-progress');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^applied 0 of 16 actions, not applied 16$/m);
    expect(r.stdout).toMatch(/^ {2}not sent #1 create Node kwok-node-0: /m);
    expect(r.stderr).toBe('kubetrail: 16 of 16 actions could not be sent (listed above)\n');
  });

  it('a usage error exits 2 and a missing store 3, each with a message', async () => {
    const bad = await run('export', '--store', store, '--since', 'yesterday-ish');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--since/);
    const none = await run('export', '--store', join(dir, 'nothing.sqlite'));
    expect(none.status).toBe(3);
    expect(none.stderr).toMatch(/no store at/);
  });
});

describe('kubetrail export --format kwok over the recorded scenario', () => {
  const docs = (text: string) =>
    text
      .split('---\n')
      .filter(Boolean)
      .map((d) => JSON.parse(d) as Record<string, any>);

  it("writes kwok's recording: a ResourcePatch per write of every actor, the whole object after it, offsets in nanoseconds", async () => {
    const r = await run('export', '--store', store, '--namespace', 'demo', '--format', 'kwok');
    expect(r.status, r.stderr).toBe(0);
    const all = docs(r.stdout);
    expect(all.every((d) => d.apiVersion === 'action.kwok.x-k8s.io/v1alpha1' && d.kind === 'ResourcePatch')).toBe(true);
    expect(r.stderr).toBe(`kubetrail export: kwok recording: 0 objects in the snapshot, ${all.length} ResourcePatch documents\n`);
    const offsets = all.map((d) => d.durationNanosecond);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(all[0]).toMatchObject({ resource: { version: 'v1', resource: 'namespaces' }, target: { name: 'demo' }, durationNanosecond: 0, method: 'create' });
    // the controllers' writes too: kwok's replay stops them and writes every change itself
    expect(all.some((d) => d.resource.resource === 'replicasets')).toBe(true);
    const secret = all.find((d) => d.target.name === 'demo-credentials')!;
    expect(secret.template.data).toEqual({ password: Buffer.from('x'.repeat(17)).toString('base64'), username: Buffer.from('xxxx').toString('base64') });
    expect(secret.template.metadata.resourceVersion).toBeUndefined();
    expect(secret.template.metadata.uid).toBeTypeOf('string');
    expect(all.filter((d) => d.method === 'delete' && d.resource.resource === 'deployments')).toEqual([
      expect.objectContaining({
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        target: { name: 'demo', namespace: 'demo' },
        method: 'delete',
      }),
    ]);
  });

  it('--since: the objects as they were then form the snapshot, before the first ResourcePatch', async () => {
    const r = await run('export', '--store', store, '--namespace', 'demo', '--format', 'kwok', '--since', '2026-11-22T04:30:53Z');
    const all = docs(r.stdout);
    const first = all.findIndex((d) => d.kind === 'ResourcePatch');
    const snapshot = all.slice(0, first);
    expect(snapshot.map((d) => `${d.kind} ${d.metadata.name}`)).toEqual(expect.arrayContaining(['Namespace demo', 'Deployment demo', 'Service demo']));
    expect(snapshot.find((d) => d.kind === 'Deployment')?.spec.replicas).toBe(4);
    expect(all.slice(first).every((d) => d.kind === 'ResourcePatch')).toBe(true);
  });
});
