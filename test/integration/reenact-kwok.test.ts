// Issue 17: record a scenario live on the real KWOK cluster (`serve` → store), `export` the
// driving user's writes, `reenact` them into a second, fresh KWOK cluster at --speed 2 (and beside
// the original under a namespace prefix), and check what a user would: every driving write applied, in order (the API server's own audit
// log), the controllers' writes not exported, the Deployment reaching its replicas, a refused write
// named with its reason and exit 1, a truncated or foreign file refused before anything is applied,
// and --cleanup removing what the re-enactment made.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { CLI, type RunningKubetrail, serveToStore } from '../setup/kubetrail.ts';
import { exec, kwokDown, kwokUp, STACK_LIB } from '../setup/kwok-cluster.ts';
import type { ReenactAction, ReenactHeader } from '../../frontend-plugin/reenact/format.ts';

const stack = inject('stack');
const FRESH = 'kt-reenact';
const as = ['--as=alice', '--as-group=system:masters'];

const cli = (args: string[]) => exec(process.execPath, [CLI, ...args]);

const freshCluster = (workdir: string) => kwokUp(FRESH, workdir);

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const what = (a: ReenactAction) => `${a.verb}${a.subresource ? ` ${a.subresource}` : ''} ${a.ref.kind} ${a.ref.name.replace(/^job-.*/, 'job-*')}`;

describe('export and reenact ← a scenario recorded on the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-reenact-'));
  const store = join(dir, 'kt.sqlite');
  const file = join(dir, 'run.jsonl');
  let serve: RunningKubetrail | undefined;
  let ns = '';
  let actions: ReenactAction[] = [];
  let header: ReenactHeader;
  const made: string[] = [];
  let fresh: { KUBECONFIG: string; AUDIT_LOG: string };

  beforeAll(async () => {
    const starting = freshCluster(join(dir, 'kwok'));
    starting.catch(() => {});
    ({ serve } = await serveToStore(stack, store));
    ns = await createNamespace('reenact');
    const k = (args: string[], input?: string) => kubectl([...args, '-n', ns, ...as], input === undefined ? {} : { input });
    await k(['create', 'deployment', 'web', '--image=nginx:1', '--replicas=2']);
    await k(['create', 'configmap', 'settings', '--from-literal=mode=a']);
    await k(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret']);
    await k(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"mode":"b","extra":"1"}}']);
    await k(['scale', 'deployment/web', '--replicas=3']);
    await k(['set', 'image', 'deployment/web', 'nginx=nginx:2']);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'job-' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const podName = (await k(['create', '-f', '-', '-o', 'name'], JSON.stringify(pod))).trim();
    await k(['label', podName, 'stage=done']);
    await k(['create', 'configmap', 'temp', '--from-literal=x=1']);
    await k(['delete', 'configmap', 'temp']);
    await waitFor(
      async () => (await kubectlJson(['get', 'deployment', 'web', '-n', ns])).status?.readyReplicas === 3,
      'web ready with 3 replicas',
      120_000,
      1000,
    );
    // the store has all of alice's 10 writes and the namespace's create: the API server sends its
    // audit batches concurrently, so the delete's batch may be stored before an earlier one
    await waitFor(
      async () => {
        const r = await cli(['export', '--store', store, '--namespace', ns, '--out', file]);
        if (r.code !== 0) throw new Error(r.err);
        const lines = readLines(file).slice(1, -1) as unknown as ReenactAction[];
        return (lines.length >= 11 && lines.some((l) => l.verb === 'delete')) || undefined;
      },
      "all of alice's writes in the export",
      60_000,
      1000,
    );
    const lines = readLines(file);
    header = lines[0] as unknown as ReenactHeader;
    actions = lines.slice(1, -1) as unknown as ReenactAction[];
    fresh = await starting;
  }, 300_000);

  afterAll(async () => {
    await serve?.stop();
    await kwokDown(FRESH, join(dir, 'kwok'));
    for (const n of [ns, ...made]) if (n) await deleteNamespace(n).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the driving writes only, in time order, cleaned for re-application', () => {
    expect(header).toMatchObject({ format: 'kubetrail-reenact', version: 1, cluster: stack.clusterName, namespaces: [ns] });
    expect(actions.map(what)).toEqual([
      `create Namespace ${ns}`,
      'create Deployment web',
      'create ConfigMap settings',
      'create Secret creds',
      'patch ConfigMap settings',
      'patch Deployment web',
      'patch Deployment web',
      'create Pod job-*',
      'patch Pod job-*',
      'create ConfigMap temp',
      'delete ConfigMap temp',
    ]);
    expect(actions.slice(1).every((a) => a.recorded.user === 'alice')).toBe(true);
    expect(actions.map((a) => a.offsetMs)).toEqual([...actions.map((a) => a.offsetMs)].sort((x, y) => x - y));
    const web = actions[1]!.object as { metadata: Record<string, unknown>; status?: unknown };
    expect(Object.keys(web.metadata).sort()).toEqual(['labels', 'name', 'namespace']);
    expect(web.status).toBeUndefined();
    expect(actions[5]!.patch).toEqual({ spec: { replicas: 3 } });
    expect(actions[5]!.recorded.subresource).toBe('scale');
    const containers = (actions[6]!.patch as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers;
    expect(containers.map((c) => c.image)).toEqual(['nginx:2']);
    expect((actions[7]!.object as { metadata: Record<string, unknown> }).metadata).toMatchObject({ generateName: 'job-' });
    expect((actions[7]!.object as { metadata: Record<string, unknown> }).metadata.name).toBeUndefined();
    expect(actions[3]!.secrets).toEqual([{ path: 'data.password', bytes: 6, base64: true }]);
    expect(JSON.stringify(actions)).not.toContain(Buffer.from('s3cret').toString('base64'));
  });

  it("leaves the controllers' writes out, unless --include-actor asks for them", async () => {
    expect(actions.some((a) => a.ref.kind === 'ReplicaSet' || a.recorded.user.startsWith('system:'))).toBe(false);
    const r = await cli(['export', '--store', store, '--namespace', ns, '--include-actor', 'system:*', '--include-actor', 'kwok*']);
    expect(r.code).toBe(0);
    const all = r.out
      .trimEnd()
      .split('\n')
      .slice(1, -1)
      .map((l) => JSON.parse(l) as ReenactAction);
    expect(all.some((a) => a.ref.kind === 'ReplicaSet' && a.verb === 'create')).toBe(true);
    expect(all.length).toBeGreaterThan(actions.length);
  });

  it('re-enacts every driving write into a fresh cluster, in order, at --speed 2; the Deployment reaches its replicas', async () => {
    const secrets = join(dir, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ [`${ns}/creds`]: { 'data.password': 's3cret' } }));
    const r = await cli(['reenact', file, '--kubeconfig', fresh.KUBECONFIG, '--speed', '2', '--secret-values', secrets, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { applied: { seq: number }[]; refused: unknown[]; standIns: string[] };
    expect(summary.refused).toEqual([]);
    expect(summary.standIns).toEqual([]);
    expect(summary.applied.map((x) => x.seq)).toEqual(actions.map((a) => a.seq));
    // the fresh cluster's API server saw them in the file's order (kwok's controller runs with the
    // same admin kubeconfig: told apart by its user agent)
    const seen = readFileSync(fresh.AUDIT_LOG, 'utf8')
      .split('\n')
      .filter((l) => l.includes(ns))
      .map((l) => JSON.parse(l) as { stage: string; verb: string; user: { username: string }; userAgent: string; objectRef?: { resource: string } })
      .filter(
        (e) =>
          e.stage === 'ResponseComplete' &&
          !e.user.username.startsWith('system:') &&
          !e.userAgent.startsWith('kwok') &&
          ['create', 'patch', 'delete'].includes(e.verb),
      )
      .map((e) => `${e.verb} ${e.objectRef!.resource}`);
    const plural: Record<string, string> = { Namespace: 'namespaces', Deployment: 'deployments', ConfigMap: 'configmaps', Secret: 'secrets', Pod: 'pods' };
    expect(seen).toEqual(actions.map((a) => `${a.verb} ${plural[a.ref.kind]}`));
    const get = (args: string[]) => kubectlJson([...args, '-n', ns], { kubeconfig: fresh.KUBECONFIG });
    const web = await waitFor(
      async () => {
        const d = await get(['get', 'deployment', 'web']);
        return d.status?.readyReplicas === 3 && d.status?.updatedReplicas === 3 ? d : undefined;
      },
      're-enacted web ready with 3 replicas',
      120_000,
      1000,
    );
    expect(web.spec.template.spec.containers[0].image).toBe('nginx:2');
    expect((await get(['get', 'configmap', 'settings'])).data).toEqual({ mode: 'b', extra: '1' });
    expect((await get(['get', 'secret', 'creds'])).data.password).toBe(Buffer.from('s3cret').toString('base64'));
    const pods = await get(['get', 'pods', '-l', 'stage=done']);
    expect(pods.items.map((p: { metadata: { generateName: string } }) => p.metadata.generateName)).toEqual(['job-']);
    await expect(get(['get', 'configmap', 'temp'])).rejects.toThrow(/NotFound|not found/);
  });

  it('--dry-run prints the plan and applies nothing', async () => {
    const r = await cli(['reenact', file, '--dry-run', '--namespace-prefix', 'd-']);
    expect(r.code).toBe(0);
    const rows = r.out.trimEnd().split('\n');
    expect(rows[0]).toBe(`${actions.length} actions of cluster ${stack.clusterName} (${header.from} .. ${header.until}):`);
    expect(rows[2]).toMatch(new RegExp(`^\\+\\d+\\.\\d{3}s #2 create apps/v1 Deployment d-${ns}/web$`));
    await expect(kubectl(['get', 'namespace', `d-${ns}`])).rejects.toThrow(/NotFound|not found/);
  });

  it('names a refused write with its reason and exits 1', async () => {
    const target = `b-${ns}`;
    made.push(target);
    await kubectl(['create', 'namespace', target]);
    await kubectl(['create', 'configmap', 'settings', '-n', target, '--from-literal=mode=theirs']);
    const r = await cli(['reenact', file, '--kubeconfig', stack.kubeconfig, '--speed', 'max', '--namespace-prefix', 'b-', '--no-progress']);
    expect(r.code).toBe(1);
    // the namespace was there too
    expect(r.out).toContain(`refused #1 create Namespace ${target}: 409 AlreadyExists`);
    expect(r.err).toBe(`kubetrail: the API server refused 2 of ${actions.length} actions (listed above)\n`);
    expect(r.out).toMatch(new RegExp(`refused #3 create ConfigMap ${target}/settings: 409 AlreadyExists: configmaps "settings" already exists`));
    expect(r.out).toContain(`clean up: kubetrail reenact ${file} --cleanup --kubeconfig ${stack.kubeconfig} --namespace-prefix b-`);
    // what it could apply, it applied
    await waitFor(async () => (await kubectlJson(['get', 'deployment', 'web', '-n', target])).spec.replicas === 3, 'web in b-', 30_000);
  });

  it('--as-recorded-actor sends each write as its recorded user; a kubeconfig user that may not impersonate is named in the summary', async () => {
    const k = (args: string[], input?: string) => kubectl(args, { kubeconfig: fresh.KUBECONFIG, ...(input === undefined ? {} : { input }) });
    // the recorded users have no rights of their own in the fresh cluster (alice wrote with --as-group=system:masters)
    for (const user of new Set(actions.map((a) => a.recorded.user))) {
      await k(['create', 'clusterrolebinding', `admin-${user.replace(/[^a-z0-9]/g, '-')}`, '--clusterrole=cluster-admin', `--user=${user}`]);
    }
    const r = await cli(['reenact', file, '--kubeconfig', fresh.KUBECONFIG, '--speed', 'max', '--namespace-prefix', 'as-', '--as-recorded-actor', '--json']);
    expect(r.code, r.out + r.err).toBe(0);
    // the fresh cluster's API server: the kubeconfig's user, impersonating the recorded user, for every write
    const writes = readFileSync(fresh.AUDIT_LOG, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`as-${ns}`))
      .map((l) => JSON.parse(l) as { stage: string; verb: string; user: { username: string }; userAgent: string; impersonatedUser?: { username: string } })
      .filter(
        (e) =>
          e.stage === 'ResponseComplete' &&
          ['create', 'patch', 'delete'].includes(e.verb) &&
          (e.impersonatedUser !== undefined || (!e.user.username.startsWith('system:') && !e.userAgent.startsWith('kwok'))),
      );
    expect(writes.map((e) => `${e.verb} as ${e.impersonatedUser?.username}`)).toEqual(actions.map((a) => `${a.verb} as ${a.recorded.user}`));
    // a ServiceAccount allowed every write but not impersonation
    const rules = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'writes-only' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'] }],
    };
    await k(['apply', '-f', '-'], JSON.stringify(rules));
    await k(['create', 'serviceaccount', 'limited', '-n', 'default']);
    await k(['create', 'clusterrolebinding', 'limited-writes', '--clusterrole=writes-only', '--serviceaccount=default:limited']);
    const token = (await k(['create', 'token', 'limited', '-n', 'default'])).trim();
    const config = JSON.parse(await k(['config', 'view', '--raw', '--minify', '-o', 'json'])) as { users: { user: unknown }[] };
    config.users[0]!.user = { token };
    const limited = join(dir, 'limited.kubeconfig');
    writeFileSync(limited, JSON.stringify(config));
    const denied = await cli(['reenact', file, '--kubeconfig', limited, '--speed', 'max', '--namespace-prefix', 'li-', '--as-recorded-actor', '--no-progress']);
    expect(denied.code).toBe(1);
    expect(denied.out).toMatch(/cannot impersonate resource "users"/);
    expect(denied.out).toContain(`--as-recorded-actor: the kubeconfig's user may not impersonate: ${actions.length} actions refused before they were tried`);
  });

  it('refuses a truncated or foreign file before applying anything', async () => {
    const text = readFileSync(file, 'utf8');
    const cut = join(dir, 'cut.jsonl');
    for (const [content, why] of [
      [text.split('\n').slice(0, -2).join('\n') + '\n', /truncated/],
      [text.slice(0, Math.floor(text.length / 2)), /truncated/],
      [text.replace('"mode":"b"', '"mode":"c"'), /checksum/],
      ['{"kind":"EventList","items":[]}\n', /not a kubetrail-reenact file/],
    ] as const) {
      writeFileSync(cut, content);
      const r = await cli(['reenact', cut, '--kubeconfig', stack.kubeconfig, '--namespace-prefix', 'c-']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(why);
      expect(r.err).toContain('nothing was applied');
    }
    await expect(kubectl(['get', 'namespace', `c-${ns}`])).rejects.toThrow(/NotFound|not found/);
  });

  it('--cleanup removes what the re-enactment made', async () => {
    const r = await cli(['reenact', file, '--cleanup', '--kubeconfig', fresh.KUBECONFIG]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Namespace ${ns}`);
    await waitFor(
      async () =>
        kubectl(['get', 'namespace', ns], { kubeconfig: fresh.KUBECONFIG }).then(
          () => undefined,
          (e: Error) => /NotFound|not found/.test(e.message),
        ),
      `namespace ${ns} gone from the fresh cluster`,
      120_000,
      1000,
    );
    // b-: the namespace was not the re-enactment's, so only its labelled objects go; the ConfigMap
    // it found there (and patched, as recorded) stays
    const b = await cli(['reenact', file, '--cleanup', '--kubeconfig', stack.kubeconfig, '--namespace-prefix', 'b-']);
    expect(b.code).toBe(0);
    expect((await kubectlJson(['get', 'deployments,secrets', '-n', `b-${ns}`])).items).toEqual([]);
    expect((await kubectlJson(['get', 'configmap', 'settings', '-n', `b-${ns}`])).data).toEqual({ mode: 'b', extra: '1' });
  });

  it("kwok's own replay (kwokctl snapshot replay) plays the --format kwok recording into the fresh cluster", async () => {
    // after --cleanup above: the namespace is gone from the fresh cluster
    const recording = join(dir, 'run.kwok.yaml');
    const r = await cli(['export', '--store', store, '--namespace', ns, '--format', 'kwok', '--out', recording]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/kwok recording: 0 objects in the snapshot, \d+ ResourcePatch documents/);
    const kwokctl = (await exec('bash', ['-c', `. '${STACK_LIB}' >/dev/null; echo "$STACK_BIN/kwok-$KWOK_VERSION/kwokctl"`])).out.trim();
    const replay = await exec(kwokctl, ['--name', FRESH, 'snapshot', 'replay', '--path', recording], { KWOK_WORKDIR: join(dir, 'kwok') });
    expect(replay.code, replay.err).toBe(0);
    expect(replay.err).not.toMatch(/"level":"WARN"/);
    const get = (args: string[]) => kubectlJson([...args, '-n', ns], { kubeconfig: fresh.KUBECONFIG });
    const original = await kubectlJson(['get', 'deployment', 'web', '-n', ns]);
    const web = await waitFor(async () => get(['get', 'deployment', 'web']), 'web replayed by kwok', 60_000, 1000);
    // the object as recorded, uid and all
    expect(web.metadata.uid).toBe(original.metadata.uid);
    expect([web.spec.replicas, web.spec.template.spec.containers[0].image]).toEqual([3, 'nginx:2']);
    expect((await get(['get', 'configmap', 'settings'])).data).toEqual({ mode: 'b', extra: '1' });
    await expect(get(['get', 'configmap', 'temp'])).rejects.toThrow(/NotFound|not found/);
  });
});
