// Receive role with informers while Kafka is down (real KWOK, a Kafka of this test's own, started and
// stopped with deploy/stack/kafka.sh): the watch changes wait for Kafka in a bounded queue; at the
// bound (--kafka-watch-queue) the informers stop reading watch events (logged, counted in
// kubetrail_informer_pauses_total) instead of growing the queue without end, and once Kafka is back
// every ConfigMap created during the outage is traced: the API server kept what was not read. The
// tracer serves the query API and UI over its store.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { cleanUpOwnKafka, ownKafka, type OwnKafka } from '../setup/own-kafka.ts';
import { waitFor } from '../setup/wait.ts';
import { createNamespace, deleteNamespace, kubectl } from '../setup/kube.ts';
import '../setup/types.ts';
import { kafkaRoleArgs, watchingReceiverArgs } from '../setup/kafka-roles.ts';
import { tracedNames } from '../setup/store-reader.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-informers-outage-'));
const running: RunningKubetrail[] = [];
let kafka: OwnKafka | undefined;
let ns = '';

afterAll(async () => {
  if (ns) await deleteNamespace(ns).catch(() => undefined);
  await cleanUpOwnKafka(running, kafka, dir);
});

describe('informers in receive role while Kafka is down (real KWOK, real Kafka)', () => {
  it('pause at the queue bound instead of buffering without end, and trace every change once Kafka is back', async () => {
    const stack = inject('stack');
    const [rPort, tPort, qPort] = await freePorts(3);
    const k = await ownKafka(dir);
    kafka = k;
    const broker = k.up();
    const topic = 'kubetrail-informers-outage';
    const store = join(dir, 'outage.sqlite');
    ns = await createNamespace('kafka-down');
    const cluster = stack.clusterName;
    const receiver = await startKubetrail(
      watchingReceiverArgs(broker, topic, {
        cluster,
        kubeconfig: stack.kubeconfig,
        leaseNamespace: ns,
        webhookPort: rPort!,
        extra: ['--kafka-watch-queue', '10'],
      }),
      { ready: /audit webhook listening/ },
    );
    running.push(receiver);
    const tracer = await startKubetrail(
      [
        ...kafkaRoleArgs(broker, topic, 'trace'),
        '--store',
        store,
        '--cluster',
        cluster,
        '--list-watch-only',
        '--no-informers',
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(tPort),
        // the tracer serves the query API and UI over its store
        '--query-host',
        '127.0.0.1',
        '--query-port',
        String(qPort),
      ],
      { ready: /tracing from Kafka/ },
    );
    running.push(tracer);
    await waitFor(() => /informer leader: watching the cluster/.test(receiver.output()) || undefined, 'the receiver to run the informers', 60_000);
    await kubectl(['create', 'configmap', 'before', '-n', ns, '--from-literal', 'k=v']);
    await waitFor(() => tracedNames(store, 'configmaps', ns).has('before') || undefined, 'a ConfigMap traced through Kafka', 60_000);

    k.down();
    const during = Array.from({ length: 40 }, (_, i) => `during-${i}`);
    for (const n of during) await kubectl(['create', 'configmap', n, '-n', ns, '--from-literal', 'k=v']);
    // the queue reached its bound of 10: the informers stopped reading
    await waitFor(() => /informers stop reading watch events/.test(receiver.output()) || undefined, 'the informers to pause', 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nreceiver:\n${receiver.output().slice(-3000)}`);
    });
    const metrics = await (await fetch(`http://127.0.0.1:${rPort}/metrics`)).text();
    expect(metrics).toMatch(/^kubetrail_informer_pauses_total [1-9]/m);

    k.up();
    await waitFor(() => during.every((n) => tracedNames(store, 'configmaps', ns).has(n)) || undefined, 'every ConfigMap of the outage traced', 180_000).catch(
      (err: Error) => {
        const have = tracedNames(store, 'configmaps', ns);
        throw new Error(`${err.message}: missing ${during.filter((n) => !have.has(n)).join(', ')}\nreceiver:\n${receiver.output().slice(-3000)}`);
      },
    );
    expect(tracedNames(store, 'configmaps', ns).has('before')).toBe(true);
    // what a user of the tracer's UI finds: the namespace, and a ConfigMap of the outage by name
    const q = `http://127.0.0.1:${qPort}`;
    const summary = (await (await fetch(`${q}/api/ui/summary`)).json()) as { data: { namespaces: string[] } };
    expect(summary.data.namespaces).toContain(ns);
    const tags = JSON.stringify({ resource: 'configmaps', namespace: ns, name: 'during-7' });
    const search = new URLSearchParams({ service: 'tracing', operation: cluster, tags, start: '0', end: String(Date.now() * 1000 + 3600e6), limit: '5' });
    const found = (await (await fetch(`${q}/api/traces?${search}`)).json()) as { data: unknown[] };
    expect(found.data.length).toBe(1);
    expect(JSON.stringify(found.data[0])).toContain('during-7');
    expect((await fetch(`${q}/`)).headers.get('content-type')).toMatch(/text\/html/);
  });
});
