// Receiver failover with the audit webhook behind a Service (issue 19 item 5, docs/scale-out.md
// "Failover"): two receivers behind one address (test/setup/service-proxy.ts stands in for the
// Service: KWOK has no kube-proxy), the KWOK API server's audit webhook pointing at it, tracers
// without --list-watch-only. SIGKILL the receiver that leads the informers: the API server's
// retries reach the other receiver, which also takes over the informers, and every write the
// audit log shows — before, during and after the takeover — is traced as its audit event.
// The follower says what it is before it takes over.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { createNamespace, deleteNamespace, kubectl } from '../setup/kube.ts';
import { storeTracerArgs, watchingReceiverArgs } from '../setup/kafka-roles.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { startServiceProxy, type ServiceProxy } from '../setup/service-proxy.ts';
import '../setup/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'kt-failover-'));
const running: RunningKubetrail[] = [];
let proxy: ServiceProxy | undefined;
let ns = '';
afterAll(async () => {
  await proxy?.close();
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  if (ns) await deleteNamespace(ns);
  rmSync(dir, { recursive: true, force: true });
});

/** Audit IDs of the successful ConfigMap writes in `namespace`, by object name. */
function auditedWrites(auditLog: string, namespace: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(auditLog, 'utf8').split('\n')) {
    if (!line.includes(`"namespace":"${namespace}"`)) continue;
    const e = JSON.parse(line);
    if (e.stage !== 'ResponseComplete' || !['create', 'patch', 'update'].includes(e.verb) || (e.responseStatus?.code ?? 0) >= 300) continue;
    if (e.objectRef?.resource !== 'configmaps' || e.objectRef.namespace !== namespace || !e.objectRef.name) continue;
    out.set(e.objectRef.name, [...(out.get(e.objectRef.name) ?? []), e.auditID]);
  }
  return out;
}

describe('receiver failover behind a Service (real KWOK, real Kafka)', () => {
  it('the informer leader dies: writes after the takeover are traced from their audit events', async () => {
    const stack = inject('stack');
    ns = await createNamespace('failover');
    const topic = `kt-failover-${randomBytes(3).toString('hex')}`;
    const store = join(dir, 'failover.sqlite');
    const cluster = stack.clusterName;
    const [pa, pb, pt] = await freePorts(3);
    const receiver = (port: number) =>
      startKubetrail(
        watchingReceiverArgs(stack.kafkaBroker, topic, {
          cluster,
          kubeconfig: stack.kubeconfig,
          leaseNamespace: ns,
          webhookPort: port,
          extra: ['--kafka-lease-duration', '6s'],
        }),
        { ready: /audit webhook listening/ },
      );
    const a = await receiver(pa!);
    running.push(a);
    const b = await receiver(pb!);
    running.push(b);
    const t = await startKubetrail(storeTracerArgs(stack.kafkaBroker, topic, { store, cluster, webhookPort: pt! }), { ready: /tracing from Kafka/ });
    running.push(t);
    // the API server's audit webhook URL is the Service's address
    proxy = await startServiceProxy(stack.webhookPort, [pa!, pb!]);

    const LEADS = /informer leader: watching the cluster/;
    const leader = await waitFor(() => (LEADS.test(a.output()) ? a : LEADS.test(b.output()) ? b : undefined), 'an informer leader', 60_000);
    const follower = leader === a ? b : a;
    await waitFor(() => /following: another process holds the lease/.test(follower.output()), 'the follower to say it follows', 30_000);
    expect(LEADS.test(follower.output())).toBe(false);

    const create = (names: string[]) => Promise.all(names.map((n) => kubectl(['create', 'configmap', n, '-n', ns, '--from-literal', 'k=v'])));
    const traced = (names: string[]) => {
      const ids = new Set(storedEvents(store, cluster).map((e) => e.auditId));
      const audited = auditedWrites(stack.auditLogPath, ns);
      return names.every((n) => (audited.get(n) ?? []).length > 0 && audited.get(n)!.every((id) => ids.has(id)));
    };
    const before = ['before-0', 'before-1', 'before-2'];
    await create(before);
    await waitFor(() => traced(before), 'the first writes traced', 60_000);

    await leader.stop('SIGKILL');
    const during = ['during-0', 'during-1', 'during-2'];
    await create(during);
    await waitFor(() => LEADS.test(follower.output()), 'the follower to take over the informers', 60_000);
    const after = ['after-0', 'after-1', 'after-2'];
    await create(after);
    await kubectl(['patch', 'configmap', 'after-0', '-n', ns, '--type=merge', '-p', '{"data":{"k":"changed"}}']);

    await waitFor(() => traced([...before, ...during, ...after]), 'every audited write traced', 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\nfollower:\n${follower.output().slice(-3000)}\ntracer:\n${t.output().slice(-2000)}`);
    });
    // the patch after the takeover is its audit event, with its diff
    const patch = auditedWrites(stack.auditLogPath, ns).get('after-0')!.at(-1)!;
    const traced0 = storedEvents(store, cluster).find((e) => e.auditId === patch);
    expect(traced0?.name).toBe('patch');
    expect(traced0?.diff).toContain('data.k "v" -> "changed"');
    // the surviving receiver took the API server's batches once the other was gone
    expect(proxy.connections.get(follower === a ? pa! : pb!)).toBeGreaterThan(0);
  }, 300_000);
});
