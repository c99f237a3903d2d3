// Proof that the KWOK cluster of the test stack is real: a Deployment becomes Running pods on
// fake nodes through the real controllers and scheduler, and kube-apiserver's audit webhook
// delivers audit.k8s.io/v1 EventLists naming each actor.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { startAuditReceiver, type AuditReceiver } from '../setup/audit-receiver.ts';
import '../setup/types.ts';

describe('KWOK cluster (real control plane, fake nodes)', () => {
  let receiver: AuditReceiver;
  let ns: string;

  beforeAll(async () => {
    const stack = inject('stack');
    receiver = await startAuditReceiver(stack.webhookPort);
    ns = await createNamespace('stack-kwok');
  });
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
    await receiver?.close();
  });

  it('runs every component on the port kwok.sh chose, so clusters created at the same moment do not share one', () => {
    // kwokctl alone probes a fixed range upwards: two clusters created together got the same port,
    // and one cluster's kube-apiserver wrote to the other's etcd
    const clusterDir = dirname(dirname(inject('stack').auditLogPath));
    const workdir = dirname(dirname(clusterDir));
    const name = clusterDir.split('/').pop()!;
    const keys = ['kubeApiserverPort', 'etcdPort', 'etcdPeerPort', 'kubeControllerManagerPort', 'kubeSchedulerPort', 'kwokControllerPort'];
    const optionsOf = (file: string) =>
      parseAllDocuments(readFileSync(file, 'utf8'))
        .map((d) => d.toJS() as { kind?: string; options?: Record<string, unknown> })
        .find((d) => d?.kind === 'KwokctlConfiguration')!.options!;
    const chosen = optionsOf(join(workdir, 'config', name, 'cluster.yaml'));
    const used = optionsOf(join(clusterDir, 'kwok.yaml'));
    const ports = keys.map((k) => chosen[k]);
    for (const p of ports) expect(p).toEqual(expect.any(Number));
    expect(new Set(ports).size).toBe(keys.length);
    expect(keys.map((k) => used[k])).toEqual(ports);
  });

  it('has 3 Ready fake nodes', async () => {
    const nodes = await kubectlJson(['get', 'nodes']);
    const fake = nodes.items.filter((n: any) => n.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake');
    expect(fake).toHaveLength(3);
    for (const n of fake) {
      expect(n.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
    }
  });

  it('runs a 3-replica Deployment on fake nodes and audits every actor over the webhook', async () => {
    const stack = inject('stack');
    await kubectl(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=3', '-n', ns]);

    const pods = await waitFor(
      async () => {
        const list = await kubectlJson(['get', 'pods', '-n', ns, '-l', 'app=web']);
        const running = list.items.filter((p: any) => p.status.phase === 'Running');
        return running.length === 3 ? running : undefined;
      },
      '3 Running pods',
      120_000,
    );
    for (const p of pods) expect(p.spec.nodeName).toMatch(/^kwok-node-\d$/);

    const inNs = (e: any) => e.objectRef?.namespace === ns && e.stage === 'ResponseComplete';
    const find = (pred: (e: any) => boolean) => receiver.events().filter((e) => inNs(e) && pred(e));
    const deploymentCreate = (e: any) => e.verb === 'create' && e.objectRef.resource === 'deployments' && !e.objectRef.subresource;
    const podCreate = (e: any) => e.verb === 'create' && e.objectRef.resource === 'pods' && !e.objectRef.subresource;
    const binding = (e: any) => e.verb === 'create' && e.objectRef.resource === 'pods' && e.objectRef.subresource === 'binding';

    // batches arrive every second; wait until all three kinds of writes are in
    await waitFor(
      () => find(deploymentCreate).length === 1 && find(podCreate).length >= 3 && find(binding).length >= 3,
      'audit events of the deployment, pod and binding creates',
      60_000,
    );

    expect(receiver.lists.every((l) => l.body.kind === 'EventList' && l.body.apiVersion === 'audit.k8s.io/v1')).toBe(true);
    expect(receiver.lists.every((l) => l.path === stack.webhookPath)).toBe(true);

    const [dep] = find(deploymentCreate);
    expect(dep.objectRef).toMatchObject({ apiGroup: 'apps', name: 'web' });
    expect(dep.level).toBe('RequestResponse');
    expect(dep.responseObject.spec.replicas).toBe(3);

    const podCreates = find(podCreate);
    expect(podCreates).toHaveLength(3);
    for (const e of podCreates) {
      expect(e.user.username).toBe('system:serviceaccount:kube-system:replicaset-controller');
      expect(e.responseStatus.code).toBe(201);
    }
    const bindings = find(binding);
    for (const e of bindings) expect(e.user.username).toBe('system:kube-scheduler');
    expect(new Set(bindings.map((e) => e.objectRef.name))).toEqual(new Set(pods.map((p: any) => p.metadata.name)));

    // the same events are in the JSON-lines audit log file, one Event object per line
    // (the API server is still appending: the text after the last newline may be half a line)
    const logged = readFileSync(stack.auditLogPath, 'utf8')
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l));
    expect(logged.every((e) => e.kind === 'Event' && e.apiVersion === 'audit.k8s.io/v1')).toBe(true);
    expect(logged.find((e) => e.auditID === dep.auditID)).toMatchObject({ verb: 'create', objectRef: { name: 'web', namespace: ns } });
  });
});
