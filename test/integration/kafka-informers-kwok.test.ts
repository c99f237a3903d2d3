// Informers in receive role (issue 11): two receivers on one KWOK cluster elect one informer
// leader on a Lease; only the leader watches. SIGKILL it: the other takes over once the lease
// expires, and no change is lost across the handover (the ConfigMaps created meanwhile are in the
// new leader's initial list). Checked against the cluster's audit log.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { existsSync } from 'node:fs';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { createNamespace, deleteNamespace, kubectl, kubectlJson } from '../setup/kube.ts';
import '../setup/types.ts';
import { kafkaRoleArgs, storeTracerArgs, watchingReceiverArgs } from '../setup/kafka-roles.ts';
import { tracedNames } from '../setup/store-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-lease-'));
const running: RunningKubetrail[] = [];
let ns = '';
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  if (ns) await deleteNamespace(ns);
  rmSync(dir, { recursive: true, force: true });
});

describe('informer leader election across receivers (real KWOK, real Kafka)', () => {
  it('one receiver watches; kill it and the other takes over without losing a change', async () => {
    const stack = inject('stack');
    ns = await createNamespace('lease');
    const topic = `kt-lease-${randomBytes(3).toString('hex')}`;
    const store = join(dir, 'lease.sqlite');
    const cluster = stack.clusterName;
    const [pa, pb, pt] = await freePorts(3);
    const receiverArgs = (port: number) =>
      watchingReceiverArgs(stack.kafkaBroker, topic, {
        cluster,
        kubeconfig: stack.kubeconfig,
        leaseNamespace: ns,
        webhookPort: port,
        extra: ['--kafka-lease-duration', '6s'],
      });
    const a = await startKubetrail(receiverArgs(pa!), { ready: /audit webhook listening/ });
    running.push(a);
    const b = await startKubetrail(receiverArgs(pb!), { ready: /audit webhook listening/ });
    running.push(b);
    const t = await startKubetrail(storeTracerArgs(stack.kafkaBroker, topic, { store, cluster, webhookPort: pt!, extra: ['--list-watch-only'] }), {
      ready: /tracing from Kafka/,
    });
    running.push(t);

    const LEADS = /informer leader: watching the cluster/;
    const leader = await waitFor(() => (LEADS.test(a.output()) ? a : LEADS.test(b.output()) ? b : undefined), 'an informer leader', 60_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}\nreceiver a:\n${a.output().slice(-3000)}\nreceiver b:\n${b.output().slice(-2000)}`);
      },
    );
    const follower = leader === a ? b : a;
    // only one watches
    expect(LEADS.test(follower.output())).toBe(false);
    const lease = await kubectlJson(['get', 'lease', `kubetrail-informers-${cluster}`, '-n', ns]);
    expect(lease.spec.holderIdentity).toBeTruthy();

    const before = Array.from({ length: 5 }, (_, i) => `before-${i}`);
    for (const n of before) await kubectl(['create', 'configmap', n, '-n', ns, '--from-literal', 'k=v']);
    await waitFor(() => before.every((n) => tracedNames(store, 'configmaps', ns).has(n)), 'the first ConfigMaps traced', 60_000);

    await leader.stop('SIGKILL');
    const during = Array.from({ length: 5 }, (_, i) => `during-${i}`);
    for (const n of during) await kubectl(['create', 'configmap', n, '-n', ns, '--from-literal', 'k=v']);
    // the follower takes over once the dead leader's lease expired (6 s), well within this bound
    await waitFor(() => LEADS.test(follower.output()), 'the follower to take over', 60_000);
    const after = Array.from({ length: 5 }, (_, i) => `after-${i}`);
    for (const n of after) await kubectl(['create', 'configmap', n, '-n', ns, '--from-literal', 'k=v']);

    // every ConfigMap the audit log shows created in the namespace has its span
    const created = await waitFor(
      () => {
        const names = new Set<string>();
        for (const line of readFileSync(stack.auditLogPath, 'utf8').split('\n')) {
          if (!line.includes(`"namespace":"${ns}"`)) continue;
          const e = JSON.parse(line) as {
            stage: string;
            verb: string;
            objectRef?: { resource?: string; name?: string; namespace?: string };
            responseStatus?: { code?: number };
          };
          if (
            e.stage === 'ResponseComplete' &&
            e.verb === 'create' &&
            e.objectRef?.resource === 'configmaps' &&
            e.objectRef.namespace === ns &&
            (e.responseStatus?.code ?? 0) < 300 &&
            e.objectRef.name
          )
            names.add(e.objectRef.name);
        }
        return [...before, ...during, ...after].every((n) => names.has(n)) && names;
      },
      'the creates in the audit log',
      60_000,
    );
    await waitFor(() => [...created].every((n) => tracedNames(store, 'configmaps', ns).has(n)), 'every created ConfigMap traced', 90_000);
    const newLease = await kubectlJson(['get', 'lease', `kubetrail-informers-${cluster}`, '-n', ns]);
    expect(newLease.spec.holderIdentity).not.toBe(lease.spec.holderIdentity);
    expect(newLease.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
  }, 300_000);

  it('runs informers for several cluster names in one receiver (--cluster-context), each message with its cluster', async () => {
    const stack = inject('stack');
    const ns2 = await createNamespace('multi');
    try {
      const context = (await kubectl(['config', 'current-context'])).trim();
      const topic = `kt-multi-${randomBytes(3).toString('hex')}`;
      const store = join(dir, 'multi.sqlite');
      const [pr, pt] = await freePorts(2);
      const r = await startKubetrail(
        [
          ...kafkaRoleArgs(stack.kafkaBroker, topic, 'receive'),
          '--kafka-partitions',
          '2',
          '--kubeconfig',
          stack.kubeconfig,
          '--cluster-context',
          `kwok-a=${context}`,
          '--cluster-context',
          `kwok-b=${context}`,
          '--watch-resource',
          '/configmaps',
          '--no-events',
          '--kafka-lease-namespace',
          ns2,
          '--webhook-host',
          '127.0.0.1',
          '--webhook-port',
          String(pr),
          '--no-query',
        ],
        { ready: /audit webhook listening/ },
      );
      running.push(r);
      const t = await startKubetrail(
        [
          ...kafkaRoleArgs(stack.kafkaBroker, topic, 'trace'),
          '--kafka-group',
          `${topic}-g`,
          '--store',
          store,
          '--cluster-context',
          `kwok-a=${context}`,
          '--cluster-context',
          `kwok-b=${context}`,
          '--list-watch-only',
          '--no-informers',
          '--webhook-host',
          '127.0.0.1',
          '--webhook-port',
          String(pt),
          '--no-query',
        ],
        { ready: /tracing from Kafka/ },
      );
      running.push(t);
      await waitFor(() => (r.output().match(/informer leader: watching the cluster/g) ?? []).length >= 2, 'informers of both clusters', 60_000);
      await kubectl(['create', 'configmap', 'both', '-n', ns2, '--from-literal', 'k=v']);
      await waitFor(
        () => {
          if (!existsSync(store)) return false;
          const db = new DatabaseSync(store, { readOnly: true });
          try {
            const rows = db.prepare("SELECT DISTINCT cluster FROM spans WHERE kind = 'event' AND namespace = ? AND obj_name = 'both'").all(ns2) as {
              cluster: string;
            }[];
            return (
              rows
                .map((x) => x.cluster)
                .sort()
                .join(',') === 'kwok-a,kwok-b'
            );
          } finally {
            db.close();
          }
        },
        'the ConfigMap traced under both cluster names',
        90_000,
      ).catch((err: Error) => {
        const db = existsSync(store) ? new DatabaseSync(store, { readOnly: true }) : undefined;
        const rows = db?.prepare("SELECT cluster, namespace, obj_name, name FROM spans WHERE kind = 'event' LIMIT 20").all();
        db?.close();
        throw new Error(`${err.message}\nstored: ${JSON.stringify(rows)}\nreceiver:\n${r.output().slice(-2500)}\ntracer:\n${t.output().slice(-2500)}`);
      });
    } finally {
      await deleteNamespace(ns2);
    }
  }, 300_000);
});
