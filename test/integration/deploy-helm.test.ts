// The Helm chart deploy/helm/kubetrail with the real helm (built by deploy/stack/build.sh) and the
// real KWOK cluster: lint and template with every documented option set (ci/*-values.yaml), the
// manifests accepted by the real API server (server-side dry run), values the schema refuses,
// `helm install` and its objects, and RBAC: kubetrail run locally with the chart's ServiceAccount
// token lists and watches everything its informers need, and a `kubectl auth can-i` matrix shows
// nothing beyond.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { CHART, HELM, parseManifests, run, runOk, valuesFile, type Manifest } from '../setup/deploy-tools.ts';
import '../setup/types.ts';

const CI = join(CHART, 'ci');
const optionSets = readdirSync(CI)
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();
const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const one = (ms: Manifest[], kind: string) => {
  const found = byKind(ms, kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const container = (ms: Manifest[]) => one(ms, 'Deployment').spec.template.spec.containers[0];
const secretNamed = (ms: Manifest[], name: string) => {
  const s = byKind(ms, 'Secret').find((m) => m.metadata.name === name);
  expect(s, `Secret ${name}`).toBeDefined();
  return s!;
};
const config = (ms: Manifest[]) => parseYaml(one(ms, 'ConfigMap').data['config.yaml']);

async function template(release: string, ns: string, file: string): Promise<{ text: string; manifests: Manifest[] }> {
  const text = await runOk(HELM, ['template', release, CHART, '--namespace', ns, '-f', file]);
  return { text, manifests: parseManifests(text) };
}

/** What each documented option set must change in the rendered chart (beyond being valid). */
const expectations: Record<string, (ms: Manifest[], ns: string) => void> = {
  'default-values.yaml': (ms, ns) => {
    const c = container(ms);
    expect(c.image).toBe('ghcr.io/kubetrail/kubetrail:0.1.0');
    expect(c.args).toEqual(['serve', '--config', '/etc/kubetrail/config/config.yaml']);
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'webhook', scheme: 'HTTPS' });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'webhook', scheme: 'HTTPS' });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(one(ms, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
    expect(config(ms)).toMatchObject({
      webhookHost: '0.0.0.0',
      webhookPort: 8080,
      webhookTokenFile: '/etc/kubetrail/token/token',
      store: '/var/lib/kubetrail/kubetrail.sqlite',
      queryHost: '127.0.0.1',
      cluster: 'default',
      tlsCert: '/etc/kubetrail/tls/tls.crt',
      tlsKey: '/etc/kubetrail/tls/tls.key',
    });
    expect(config(ms).clientCa).toBeUndefined();
    const secret = secretNamed(ms, 'kt-kubetrail-webhook-token');
    expect(Buffer.from(secret.data.token, 'base64').toString()).toMatch(/^[A-Za-z0-9]{48}$/);
    // the generated certificate: signed by the generated CA, for the Service's names
    const tls = secretNamed(ms, 'kt-kubetrail-webhook-tls');
    expect(tls.type).toBe('kubernetes.io/tls');
    const cert = new X509Certificate(Buffer.from(tls.data['tls.crt'], 'base64'));
    const ca = new X509Certificate(Buffer.from(tls.data['ca.crt'], 'base64'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain(`DNS:kt-kubetrail.${ns}.svc`);
    expect(one(ms, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'tls').secret.secretName).toBe('kt-kubetrail-webhook-tls');
    expect(one(ms, 'ClusterRole').rules).toEqual([{ apiGroups: ['*'], resources: ['*'], verbs: ['list', 'watch'] }]);
    expect(byKind(ms, 'Role')).toHaveLength(0);
    expect(byKind(ms, 'ServiceMonitor')).toHaveLength(0);
    expect(one(ms, 'Service').spec.ports.map((p: any) => p.name)).toEqual(['webhook']);
  },
  'otlp-jaeger-values.yaml': (ms) => {
    const c = config(ms);
    expect(c).toMatchObject({
      otlpEndpoint: 'http://jaeger-collector.observability:4317',
      jaegerQuery: 'http://jaeger-query.observability:16686',
      cluster: 'prod-eu1',
    });
    expect(c.store).toBeUndefined();
  },
  'tls-token-values.yaml': (ms) => {
    expect(config(ms)).toMatchObject({
      tlsCert: '/etc/kubetrail/tls/tls.crt',
      tlsKey: '/etc/kubetrail/tls/tls.key',
      webhookTokenFile: '/etc/kubetrail/token/token',
    });
    expect(config(ms).clientCa).toBeUndefined();
    expect(container(ms).readinessProbe.httpGet.scheme).toBe('HTTPS');
    expect(Buffer.from(one(ms, 'Secret').data.token, 'base64').toString()).toBe('0123456789abcdef0123456789abcdef');
    // the Secret given, none generated
    expect(one(ms, 'Deployment').spec.template.spec.volumes.find((v: any) => v.name === 'tls').secret.secretName).toBe('kubetrail-webhook-tls');
  },
  'mtls-values.yaml': (ms) => {
    expect(config(ms)).toMatchObject({ clientCa: '/etc/kubetrail/tls/ca.crt' });
    expect(config(ms).webhookTokenFile).toBeUndefined();
    expect(byKind(ms, 'Secret')).toHaveLength(0);
    // the kubelet presents no client certificate
    expect(container(ms).readinessProbe.tcpSocket).toEqual({ port: 'webhook' });
  },
  'unauthenticated-values.yaml': (ms) => {
    expect(container(ms).args).toContain('--allow-unauthenticated');
    expect(byKind(ms, 'Secret')).toHaveLength(0);
  },
  'scaled-values.yaml': (ms) => {
    expect(one(ms, 'Deployment').spec.replicas).toBe(3);
    const role = one(ms, 'Role');
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [role.metadata.name.replace(/-leader-election$/, '')],
        verbs: ['get', 'update'],
      },
    ]);
    expect(one(ms, 'RoleBinding').roleRef.name).toBe(role.metadata.name);
  },
  'persistence-values.yaml': (ms) => {
    const pvc = one(ms, 'PersistentVolumeClaim');
    expect(pvc.spec.resources.requests.storage).toBe('20Gi');
    const d = one(ms, 'Deployment');
    expect(d.spec.strategy.type).toBe('Recreate');
    expect(d.spec.template.spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
    expect(config(ms)).toMatchObject({ window: '1h', cacheBytes: '512Mi', redact: ['/configmaps:data.password'] });
  },
  'watch-resources-values.yaml': (ms) => {
    expect(one(ms, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
    ]);
    expect(config(ms).watchResource).toEqual(['/pods', 'apps/deployments', 'apps/replicasets']);
  },
  'webhook-only-values.yaml': (ms) => {
    expect(byKind(ms, 'ClusterRole')).toHaveLength(0);
    expect(byKind(ms, 'ClusterRoleBinding')).toHaveLength(0);
    expect(one(ms, 'Deployment').spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(config(ms).informers).toBe(false);
  },
  'servicemonitor-values.yaml': (ms, ns) => {
    const sm = one(ms, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints).toEqual([
      {
        port: 'webhook',
        path: '/metrics',
        scheme: 'https',
        interval: '15s',
        scrapeTimeout: '10s',
        tlsConfig: { serverName: `kt-kubetrail.${ns}.svc`, ca: { secret: { name: 'kt-kubetrail-webhook-tls', key: 'ca.crt' } } },
      },
    ]);
    expect(sm.spec.selector.matchLabels).toEqual(one(ms, 'Service').spec.selector);
  },
  'nodeport-query-values.yaml': (ms) => {
    const svc = one(ms, 'Service');
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports).toEqual([
      { name: 'webhook', port: 8080, targetPort: 'webhook', protocol: 'TCP', nodePort: 30880 },
      { name: 'query', port: 16686, targetPort: 'query', protocol: 'TCP' },
    ]);
    expect(config(ms).queryHost).toBe('0.0.0.0');
    // the address the kube-apiserver uses is in the generated certificate
    const cert = new X509Certificate(Buffer.from(secretNamed(ms, 'kt-kubetrail-webhook-tls').data['tls.crt'], 'base64'));
    expect(cert.subjectAltName).toContain('IP Address:192.0.2.10');
  },
};

describe('Helm chart deploy/helm/kubetrail', () => {
  const stack = inject('stack');
  let ns: string;
  beforeAll(async () => {
    ns = await createNamespace('helm');
  });
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  });

  it('every documented option set has its expectations here', () => {
    expect(optionSets.sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(optionSets)('%s: helm lint, helm template, accepted by the API server (server-side dry run)', async (file) => {
    const lint = await run(HELM, ['lint', CHART, '--strict', '-f', join(CI, file)]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    const { manifests } = await template('kt', ns, join(CI, file));
    expectations[file]!(manifests, ns);
    for (const m of manifests) expect(m.metadata.labels?.['app.kubernetes.io/instance'], `${m.kind} ${m.metadata.name}`).toBe('kt');
    // no prometheus-operator CRDs in a bare cluster: a ServiceMonitor is validated against the JSON
    // schema generated from its CRD (@kubernetes-models/prometheus-operator) instead
    for (const sm of byKind(manifests, 'ServiceMonitor')) new ServiceMonitor(sm as any).validate();
    const forServer = manifests.filter((m) => m.kind !== 'ServiceMonitor');
    const out = await kubectl(['apply', '--dry-run=server', '-n', ns, '-o', 'name', '-f', '-'], { input: forServer.map((m) => stringify(m)).join('---\n') });
    expect(out.trim().split('\n')).toHaveLength(forServer.length);
  });

  it('a ServiceMonitor with client certificates is valid too, and the CRD schema check is real', async () => {
    const { manifests } = await template(
      'kt',
      ns,
      valuesFile({
        serviceMonitor: { enabled: true },
        webhook: { token: { enabled: false }, tls: { existingSecret: 'kubetrail-webhook-tls', clientCA: true } },
      }),
    );
    const sm = one(manifests, 'ServiceMonitor');
    expect(sm.spec.endpoints[0].tlsConfig.keySecret).toEqual({ name: 'kubetrail-webhook-tls', key: 'tls.key' });
    new ServiceMonitor(sm as any).validate();
    const bad = { ...sm, spec: { ...sm.spec, endpoints: [{ ...sm.spec.endpoints[0], scheme: 'ftp' }] } };
    expect(() => new ServiceMonitor(bad as any).validate()).toThrow(/scheme/);
  });

  it.each([
    ['a string where a number goes', { replicaCount: 'two' }, /replicaCount/],
    ['a port out of range', { webhook: { port: 70000 } }, /webhook.*port|maximum/],
    ['an unknown key (a typo)', { webhok: { port: 8080 } }, /webhok|additional properties/i],
    ['a window that is not minutes or hours', { tracer: { window: '90s' } }, /window/],
    ['an unknown log level', { logLevel: 'verbose' }, /logLevel/],
    ['a short token', { webhook: { token: { value: 'secret' } } }, /token|value/],
    ['client certificates without the Secret holding their CA', { webhook: { tls: { clientCA: true } } }, /existingSecret/],
    ['a token over plain http (kube-apiserver would not send it)', { webhook: { tls: { enabled: false } } }, /only over https/],
    [
      'an http:// externalURL while the webhook serves https',
      { webhook: { externalURL: 'http://10.0.0.5:30080/audit/default' } },
      /externalURL is http but the webhook serves https/,
    ],
    ['replicas without a shared sink', { replicaCount: 2 }, /endpoint|otlp/],
    ['no authentication without the explicit opt-out', { webhook: { token: { enabled: false } } }, /allowUnauthenticated/],
    ['a grace period shorter than the drain', { terminationGracePeriodSeconds: 5 }, /terminationGracePeriodSeconds/],
  ])('refuses %s', async (_what, values, message) => {
    const r = await run(HELM, ['template', 'kt', CHART, '-f', valuesFile(values)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('NOTES.txt prints the audit policy and an audit webhook kubeconfig the API server can load', async () => {
    const r = await runOk(HELM, [
      'install',
      'notes',
      CHART,
      '--dry-run',
      '--namespace',
      ns,
      '--kubeconfig',
      stack.kubeconfig,
      '-f',
      valuesFile({ cluster: 'kwok' }),
    ]);
    const notes = r.slice(r.indexOf('NOTES:'));
    const indented = (after: string, until: string) =>
      notes
        .slice(notes.indexOf(after) + after.length, notes.indexOf(until))
        .split('\n')
        .map((l) => l.replace(/^ {3}/, ''))
        .join('\n');
    const policy = parseYaml(indented('audit-policy.yaml):\n', '2. The audit webhook'));
    expect(policy).toMatchObject({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'] });
    expect(policy.rules.at(-1)).toEqual({ level: 'RequestResponse' });
    const kubeconfig = parseYaml(indented('audit-webhook.kubeconfig):\n', '<CA_DATA> is the CA'));
    expect(kubeconfig.clusters[0].cluster.server).toBe(`https://notes-kubetrail.${ns}.svc:8080/audit/kwok`);
    expect(kubeconfig.clusters[0].cluster['certificate-authority-data']).toBe('<CA_DATA>');
    expect(kubeconfig.users[0].user.token).toBe('<TOKEN>');
    expect(notes).toContain('--audit-webhook-batch-max-wait=1s');
    expect(notes).toContain(`kubectl -n ${ns} get secret notes-kubetrail-webhook-token`);
    expect(notes).toContain(`kubectl -n ${ns} get secret notes-kubetrail-webhook-tls -o jsonpath='{.data.ca\\.crt}'`);
  });

  describe('helm install into the KWOK cluster', () => {
    const release = 'kt';
    let kt: RunningKubetrail | undefined;
    const sa = () => `system:serviceaccount:${ns}:${release}-kubetrail`;

    beforeAll(async () => {
      await runOk(
        HELM,
        [
          'install',
          release,
          CHART,
          '--namespace',
          ns,
          '--kubeconfig',
          stack.kubeconfig,
          '-f',
          valuesFile({ cluster: stack.clusterName }),
          '--wait',
          '--timeout',
          '120s',
        ],
        { timeoutMs: 180_000 },
      );
    });
    afterAll(async () => {
      await kt?.stop('SIGKILL');
      await run(HELM, ['uninstall', release, '--namespace', ns, '--kubeconfig', stack.kubeconfig]);
      await kubectl(['delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${release}`, '--ignore-not-found']);
    });

    it('creates its objects; the Deployment is available on a fake node', async () => {
      const status = JSON.parse(await runOk(HELM, ['status', release, '-n', ns, '--kubeconfig', stack.kubeconfig, '-o', 'json']));
      expect(status.info.status).toBe('deployed');
      for (const [kind, name] of [
        ['serviceaccount', `${release}-kubetrail`],
        ['service', `${release}-kubetrail`],
        ['configmap', `${release}-kubetrail`],
        ['secret', `${release}-kubetrail-webhook-token`],
        ['secret', `${release}-kubetrail-webhook-tls`],
        ['deployment', `${release}-kubetrail`],
      ] as const) {
        expect((await kubectl(['get', kind, name, '-n', ns, '-o', 'name'])).trim()).toBe(`${kind === 'deployment' ? 'deployment.apps' : kind}/${name}`);
      }
      for (const kind of ['clusterrole', 'clusterrolebinding']) {
        expect((await kubectl(['get', `${kind}.rbac.authorization.k8s.io`, `${release}-kubetrail`, '-o', 'name'])).trim()).toContain(`${release}-kubetrail`);
      }
      const dep = await kubectlJson(['get', 'deployment', `${release}-kubetrail`, '-n', ns]);
      expect(dep.status.availableReplicas).toBe(1);
      const pods = await kubectlJson(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/instance=${release}`]);
      expect(pods.items[0].spec.nodeName).toMatch(/^kwok-node-/);
      expect(pods.items[0].spec.serviceAccountName).toBe(`${release}-kubetrail`);
    });

    it('the kubetrail ServiceAccount may list and watch every resource and nothing beyond (kubectl auth can-i)', async () => {
      const can = async (...args: string[]) => {
        const r = await run(stack.kubectlPath, ['--kubeconfig', stack.kubeconfig, 'auth', 'can-i', ...args, `--as=${sa()}`]);
        return r.stdout.trim();
      };
      const allowed = [
        ['list', 'pods', '--all-namespaces'],
        ['watch', 'pods', '--all-namespaces'],
        ['list', 'secrets', '--all-namespaces'],
        ['watch', 'deployments.apps', '--all-namespaces'],
        ['list', 'events', '--all-namespaces'],
        ['watch', 'events', '--all-namespaces'],
        ['list', 'nodes'],
        ['watch', 'customresourcedefinitions.apiextensions.k8s.io'],
        ['list', 'clusterroles.rbac.authorization.k8s.io'],
      ];
      const denied = [
        ['get', 'pods', '-n', 'default'],
        ['get', 'secrets', '-n', 'kube-system'],
        ['create', 'pods', '-n', ns],
        ['delete', 'pods', '-n', ns],
        ['update', 'deployments.apps', '-n', ns],
        ['patch', 'nodes'],
        ['create', 'pods/exec', '-n', ns],
        ['create', 'serviceaccounts/token', '-n', ns],
        ['create', 'leases.coordination.k8s.io', '-n', ns],
        ['update', 'leases.coordination.k8s.io', '-n', 'kube-system'],
        ['impersonate', 'users'],
        ['escalate', 'clusterroles.rbac.authorization.k8s.io'],
        ['bind', 'clusterroles.rbac.authorization.k8s.io'],
        ['create', 'events', '-n', ns],
        ['deletecollection', 'configmaps', '-n', ns],
        ['create', 'tokenreviews.authentication.k8s.io'],
      ];
      for (const a of allowed) expect(`${a.join(' ')}: ${await can(...a)}`).toBe(`${a.join(' ')}: yes`);
      for (const d of denied) expect(`${d.join(' ')}: ${await can(...d)}`).toBe(`${d.join(' ')}: no`);
    });

    it('scaled out (3 replicas): the ServiceAccount may also create leases and get/update its own Lease only', async () => {
      const scaled = 'kts';
      await runOk(
        HELM,
        ['install', scaled, CHART, '--namespace', ns, '--kubeconfig', stack.kubeconfig, '-f', join(CI, 'scaled-values.yaml'), '--wait', '--timeout', '120s'],
        { timeoutMs: 180_000 },
      );
      try {
        const dep = await kubectlJson(['get', 'deployment', `${scaled}-kubetrail`, '-n', ns]);
        expect(dep.status.availableReplicas).toBe(3);
        const as = `--as=system:serviceaccount:${ns}:${scaled}-kubetrail`;
        const can = async (...args: string[]) =>
          `${args.join(' ')}: ${(await run(stack.kubectlPath, ['--kubeconfig', stack.kubeconfig, 'auth', 'can-i', ...args, as])).stdout.trim()}`;
        const lease = `leases.coordination.k8s.io/${scaled}-kubetrail`;
        for (const a of [
          ['create', 'leases.coordination.k8s.io', '-n', ns],
          ['get', lease, '-n', ns],
          ['update', lease, '-n', ns],
          ['list', 'pods', '--all-namespaces'],
        ]) {
          expect(await can(...a)).toBe(`${a.join(' ')}: yes`);
        }
        for (const d of [
          ['update', 'leases.coordination.k8s.io/kube-scheduler', '-n', ns],
          ['delete', lease, '-n', ns],
          ['patch', lease, '-n', ns],
          ['create', 'leases.coordination.k8s.io', '-n', 'kube-system'],
          ['update', lease, '-n', 'kube-system'],
          ['get', 'leases.coordination.k8s.io/other', '-n', ns],
        ]) {
          expect(await can(...d)).toBe(`${d.join(' ')}: no`);
        }
      } finally {
        await run(HELM, ['uninstall', scaled, '--namespace', ns, '--kubeconfig', stack.kubeconfig]);
      }
    });

    it("kubetrail run with the ServiceAccount token and the chart's --config lists and watches what its informers need", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kubetrail-helm-rbac-'));
      const token = (await kubectl(['create', 'token', `${release}-kubetrail`, '-n', ns, '--duration=1h'])).trim();
      const admin = parseYaml(readFileSync(stack.kubeconfig, 'utf8'));
      const cluster = admin.clusters[0].cluster;
      const saKubeconfig = join(dir, 'sa.kubeconfig');
      writeFileSync(
        saKubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'kwok', cluster }],
          users: [{ name: 'kubetrail', user: { token } }],
          contexts: [{ name: 'kubetrail', context: { cluster: 'kwok', user: 'kubetrail' } }],
          'current-context': 'kubetrail',
        }),
      );
      expect((await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: saKubeconfig })).trim()).toBe(sa());

      // the installed ConfigMap and Secret, with the in-pod paths moved to the temp dir
      const cm = await kubectlJson(['get', 'configmap', `${release}-kubetrail`, '-n', ns]);
      const secret = await kubectlJson(['get', 'secret', `${release}-kubetrail-webhook-token`, '-n', ns]);
      const cfg = parseYaml(cm.data['config.yaml']);
      writeFileSync(join(dir, 'token'), Buffer.from(secret.data.token, 'base64'));
      // (plain http on loopback here: this test is about the informers' permissions)
      writeFileSync(
        join(dir, 'config.yaml'),
        stringify({ ...cfg, webhookTokenFile: join(dir, 'token'), store: join(dir, 'kubetrail.sqlite'), tlsCert: undefined, tlsKey: undefined }),
      );
      const [port] = await freePorts(1);
      kt = await startKubetrail(
        [
          'serve',
          '--config',
          join(dir, 'config.yaml'),
          '--kubeconfig',
          saKubeconfig,
          '--webhook-host',
          '127.0.0.1',
          '--webhook-port',
          String(port),
          '--no-query',
          '--log-level',
          'debug',
        ],
        { ready: /informers started/ },
      );

      const metric = async (re: RegExp) => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return text
          .split('\n')
          .filter((l) => re.test(l))
          .reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
      };
      // the initial lists arrive as ADDED notifications: nodes, namespaces, ServiceAccounts, Secrets, ...
      await waitFor(async () => (await metric(/^kubetrail_watch_events_total\{source="watch",type="ADDED"\}/)) > 20, 'initial lists', 60_000);
      // a change after start arrives over the watches (objects and Events)
      const before = await metric(/^kubetrail_watch_events_total\{source="watch"/);
      await kubectl(['create', 'deployment', 'rbac-probe', '--image=nginx:1.25', '--replicas=1', '-n', ns]);
      await waitFor(
        async () => (await metric(/^kubetrail_watch_events_total\{source="watch"/)) > before + 3,
        'watch notifications of the new Deployment',
        60_000,
      );
      await waitFor(async () => (await metric(/^kubetrail_watch_events_total\{source="event"/)) > 0, 'Kubernetes Events', 60_000);
      const out = kt.output();
      expect(out).not.toMatch(/"status":403|forbidden/i);
      expect(await metric(/^kubetrail_watch_errors_total/)).toBe(0);
      // informers started on every discovered resource
      expect(JSON.parse(out.split('\n').find((l) => l.includes('informers started'))!).resources).toBeGreaterThan(20);
    });
  });
});
