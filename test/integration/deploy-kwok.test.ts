// The kwokctl recipe deploy/kwok/kwokctl-kubetrail.sh as a KWOK user runs it: a running kubetrail
// (HTTPS webhook with a token: kube-apiserver sends credentials only over TLS), then one command
// makes a kwokctl cluster (binary runtime) whose kube-apiserver sends it audit batches with the
// recipe's policy and batch settings, and whose audit events name each controller and the
// scheduler. The user's home (HOME of every command) is a fresh directory, so the test sees whether
// anything writes ~/.kube/config (kubectl's ~/.kube/cache is fine). The docker runtime cannot run
// here (no container engine): kwokctl's --dry-run shows the containers it would create, with the
// recipe's files mounted.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { ROOT, run, runOk, stackBin, stackVersion } from '../setup/deploy-tools.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import '../setup/types.ts';

const RECIPE = join(ROOT, 'deploy/kwok/kwokctl-kubetrail.sh');
/** Test-only certificates of the webhook TLS unit tests (server.crt is for 127.0.0.1, signed by ca.crt). */
const certs = join(ROOT, 'test/unit/webhook-tls');
const bin = stackBin();
const KWOKCTL = join(bin, `kwok-${stackVersion('KWOK_VERSION')}`, 'kwokctl');
const kube = join(bin, `k8s-${stackVersion('KUBE_VERSION')}`);
/** kwokctl downloads nothing here: the binaries deploy/stack/build.sh made. */
const localBinaries = [
  '--kube-apiserver-binary',
  join(kube, 'kube-apiserver'),
  '--kube-controller-manager-binary',
  join(kube, 'kube-controller-manager'),
  '--kube-scheduler-binary',
  join(kube, 'kube-scheduler'),
  '--kwok-controller-binary',
  join(bin, `kwok-${stackVersion('KWOK_VERSION')}`, 'kwok'),
  '--etcd-binary',
  join(bin, `etcd-${stackVersion('ETCD_VERSION')}`, 'etcd'),
];

describe('kwokctl recipe deploy/kwok/kwokctl-kubetrail.sh', () => {
  const stack = inject('stack');
  const name = 'kt-recipe';
  const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kwok-recipe-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  const env = { KWOKCTL, KWOK_WORKDIR: join(dir, 'kwok'), HOME: home, PATH: `${dirname(stack.kubectlPath)}:${process.env.PATH}` };
  const kubeconfig = join(dir, 'kwok/clusters', name, 'kubeconfig.yaml');
  /** A command the recipe printed, the line that contains `part`. */
  const printed = (part: string) =>
    created.stdout
      .split('\n')
      .find((l) => l.includes(part))
      ?.trim();
  let kt: RunningKubetrail;
  let port: number;
  let created: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    const token = 'recipe-token-0123456789abcdef';
    writeFileSync(join(dir, 'token'), token);
    [port] = await freePorts(1);
    const [apiserver] = await freePorts(1);
    kt = await startKubetrail(
      [
        'serve',
        '--cluster',
        name,
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(port),
        '--webhook-token-file',
        join(dir, 'token'),
        '--tls-cert',
        join(certs, 'server.crt'),
        '--tls-key',
        join(certs, 'server.key'),
        '--no-informers',
        '--no-query',
        '--store',
        join(dir, 'kubetrail.sqlite'),
      ],
      { ready: /audit webhook listening/ },
    );
    created = await run(
      'bash',
      [
        RECIPE,
        '--name',
        name,
        '--runtime',
        'binary',
        '--webhook-url',
        `https://127.0.0.1:${port}/audit/${name}`,
        '--token-file',
        join(dir, 'token'),
        '--ca-file',
        join(certs, 'ca.crt'),
        '--dir',
        join(dir, 'files'),
        '--',
        ...localBinaries,
        '--kube-apiserver-port',
        String(apiserver),
        '--wait',
        '120s',
        // this sandbox only: the loopback address is the one interface the apiserver may advertise
        '--extra-args',
        'kube-apiserver=advertise-address=127.0.0.1',
        '--extra-args',
        'kube-apiserver=endpoint-reconciler-type=none',
      ],
      { env, timeoutMs: 240_000 },
    );
  }, 300_000);
  afterAll(async () => {
    // also when a test failed (the last test deletes it with the printed command)
    await run(KWOKCTL, ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfig], { env, timeoutMs: 120_000 });
    await kt?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the cluster in one command, leaves ~/.kube/config alone and prints how to run kubetrail against it', () => {
    expect(created.code, created.stderr.slice(-3000)).toBe(0);
    const serve = `serve --cluster ${name} --kubeconfig ${kubeconfig} --webhook-port ${port} --webhook-token-file ${join(dir, 'token')} --tls-cert <cert> --tls-key <key>`;
    expect(printed('kubetrail serve')).toBe(`kubetrail ${serve}`);
    expect(printed('npm --prefix')).toBe(`or from this kubetrail checkout: npm --prefix ${ROOT} run kubetrail -- ${serve}`);
    expect(existsSync(kubeconfig)).toBe(true);
    expect(existsSync(join(home, '.kube/config'))).toBe(false);
  });

  it('audit events name each controller and the scheduler: a Deployment on nodes added with the printed command', async () => {
    const scale = printed(' scale node ')!;
    expect(scale).toBe(`KWOK_WORKDIR=${join(dir, 'kwok')} ${KWOKCTL} scale node --name ${name} --replicas 3`);
    await runOk('bash', ['-c', scale], { env, timeoutMs: 60_000 });
    await runOk(stack.kubectlPath, ['--kubeconfig', kubeconfig, 'create', 'deployment', 'recipe-web', '--image=nginx', '--replicas=2', '-n', 'default'], {
      env,
    });
    const actors = (resource: string, verb: string, subresource?: string) =>
      new Set(
        storedEvents(join(dir, 'kubetrail.sqlite'), name)
          .filter((e) => e.namespace === 'default' && e.objName.startsWith('recipe-web') && e.resource === resource)
          .filter((e) => e.verb === verb && e.subresource === subresource)
          .map((e) => e.user),
      );
    const bound = () => storedEvents(join(dir, 'kubetrail.sqlite'), name).filter((e) => e.objName.startsWith('recipe-web') && e.subresource === 'binding');
    const sa = (controller: string) => `system:serviceaccount:kube-system:${controller}`;
    // the API server sends its audit batches concurrently: wait for the creates' batches too
    await waitFor(
      () => bound().length >= 2 && actors('deployments', 'create').size > 0 && actors('replicasets', 'create').size > 0 && actors('pods', 'create').size > 0,
      'both pods bound to a node and the creates, in the store',
      90_000,
    );
    expect(actors('deployments', 'create')).toEqual(new Set(['kwok-admin'])); // kubectl with the cluster's admin kubeconfig
    expect(actors('replicasets', 'create')).toEqual(new Set([sa('deployment-controller')]));
    expect(actors('pods', 'create')).toEqual(new Set([sa('replicaset-controller')]));
    expect(actors('pods', 'create', 'binding')).toEqual(new Set(['system:kube-scheduler']));
  });

  it('the kube-apiserver runs with the audit policy, the webhook kubeconfig and the batch settings', () => {
    const pid = readFileSync(join(dir, 'kwok/clusters', name, 'pids/kube-apiserver.pid'), 'utf8').trim();
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(args).toEqual(
      expect.arrayContaining([
        `--audit-webhook-config-file=${join(dir, 'files/audit-webhook.kubeconfig')}`,
        '--audit-webhook-batch-max-wait=1s',
        '--audit-webhook-batch-max-size=400',
        '--audit-webhook-initial-backoff=1s',
        '--audit-webhook-batch-throttle-enable=false',
        '--bind-address=127.0.0.1', // this host only, unlike kwokctl's default 0.0.0.0
      ]),
    );
    expect(args.find((a) => a.startsWith('--audit-policy-file='))).toBeDefined();
    const webhook = parseYaml(readFileSync(join(dir, 'files/audit-webhook.kubeconfig'), 'utf8'));
    expect(webhook.clusters[0].cluster.server).toBe(`https://127.0.0.1:${port}/audit/${name}`);
    expect(Buffer.from(webhook.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(readFileSync(join(certs, 'ca.crt'), 'utf8'));
    expect(webhook.users[0].user.token).toBe('recipe-token-0123456789abcdef');
  });

  it("kubetrail receives the cluster's audit events, authenticated by the token", async () => {
    await runOk(stack.kubectlPath, ['--kubeconfig', kubeconfig, 'create', 'configmap', 'recipe-probe', '--from-literal=a=b', '-n', 'default'], { env });
    const metric = async (re: RegExp) =>
      (
        await new Promise<string>((resolvePromise, reject) => {
          httpsGet({ host: '127.0.0.1', port, path: '/metrics', ca: readFileSync(join(certs, 'ca.crt')) }, (res) => {
            let body = '';
            res.on('data', (d) => {
              body += d;
            });
            res.on('end', () => resolvePromise(body));
          }).on('error', reject);
        })
      )
        .split('\n')
        .filter((l) => re.test(l))
        .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
    await waitFor(async () => (await metric(/^kubetrail_audit_events_accepted_total/)) > 0, 'accepted audit events', 60_000);
    expect(await metric(/^kubetrail_webhook_requests_total\{code="200"\}/)).toBeGreaterThan(0);
    expect(await metric(/^kubetrail_webhook_requests_total\{code="401"\}/)).toBe(0);
    // the ConfigMap's create reached the store as a trace
    const store = new SqliteBackend(join(dir, 'kubetrail.sqlite'));
    const found = await waitFor(
      async () => (await store.findObjects({ startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 10, name: 'recipe-probe' }))[0],
      'the ConfigMap in the store',
      30_000,
    );
    expect(found).toBeDefined();
    expect(kt.output()).not.toMatch(/webhook request refused/);
  });

  it('refuses a token over plain http (kube-apiserver would not send it)', async () => {
    const r = await run('bash', [RECIPE, '--name', 'kt-recipe-http', '--token-file', join(dir, 'token'), '--dir', join(dir, 'http-files')], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs an https:\/\/ --webhook-url/);
  });

  it("docker runtime (dry run): the kube-apiserver container mounts the recipe's files and reads them there", async () => {
    const out = await runOk(
      'bash',
      [
        RECIPE,
        '--name',
        'kt-recipe-docker',
        '--runtime',
        'docker',
        '--webhook-url',
        'https://172.17.0.1:8443/audit/kt-recipe-docker',
        '--token-file',
        join(dir, 'token'),
        '--ca-file',
        join(certs, 'ca.crt'),
        '--dir',
        join(dir, 'docker-files'),
        '--',
        '--dry-run',
      ],
      { env: { ...env, KWOK_WORKDIR: join(dir, 'kwok-docker') } },
    );
    const container = (component: string) => out.split('\n').find((l) => l.startsWith(`docker create --name=kwok-kt-recipe-docker-${component} `))!;
    const apiserver = container('kube-apiserver');
    expect(apiserver).toContain(`--volume=${join(dir, 'docker-files')}:/etc/kubetrail:ro`);
    expect(apiserver).toContain('--audit-webhook-config-file=/etc/kubetrail/audit-webhook.kubeconfig');
    expect(apiserver).toContain('--audit-webhook-batch-max-wait=1s');
    expect(apiserver).toContain('--token-auth-file=/etc/kubetrail/tokens.csv');
    const webhook = parseYaml(readFileSync(join(dir, 'docker-files/audit-webhook.kubeconfig'), 'utf8'));
    expect(webhook.clusters[0].cluster.server).toBe('https://172.17.0.1:8443/audit/kt-recipe-docker');
    expect(webhook.users[0].user.token).toBe('recipe-token-0123456789abcdef');
    // the identities: controllers as their service accounts, the scheduler by its token, over the
    // container network to the kube-apiserver container (it sees only its own kubeconfig)
    expect(container('kube-controller-manager')).toContain('--use-service-account-credentials=true');
    const scheduler = container('kube-scheduler');
    expect(scheduler).toContain(`--volume=${join(dir, 'docker-files/scheduler.kubeconfig')}:/etc/kubetrail/scheduler.kubeconfig:ro`);
    expect(scheduler).toContain('--kubeconfig=/etc/kubetrail/scheduler.kubeconfig');
    expect(scheduler).not.toContain('--kubeconfig=/root/.kube/config');
    const sched = parseYaml(readFileSync(join(dir, 'docker-files/scheduler.kubeconfig'), 'utf8'));
    expect(sched.clusters[0].cluster).toEqual({
      server: 'https://kwok-kt-recipe-docker-kube-apiserver:6443',
      'certificate-authority': '/etc/kubernetes/pki/ca.crt',
    });
    const token = sched.users[0].user.token;
    expect(readFileSync(join(dir, 'docker-files/tokens.csv'), 'utf8')).toBe(`${token},system:kube-scheduler,uid-kube-scheduler\n`);
    expect(existsSync(join(home, '.kube/config'))).toBe(false);
  });

  it('deletes the cluster with the printed command, still without a ~/.kube/config', async () => {
    const del = printed(' delete cluster ')!;
    expect(del).toBe(`KWOK_WORKDIR=${join(dir, 'kwok')} ${KWOKCTL} delete cluster --name ${name} --kubeconfig ${kubeconfig}`);
    await runOk('bash', ['-c', del], { env, timeoutMs: 120_000 });
    expect(existsSync(join(dir, 'kwok/clusters', name))).toBe(false);
    expect(existsSync(join(home, '.kube/config'))).toBe(false);
  });
});
