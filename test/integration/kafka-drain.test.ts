// `serve --role all` on the stack's real Kafka stopped with SIGTERM (issue 18, item 5): it drains in
// the order docs/architecture.md (Lifecycle) gives — the webhook refuses new batches first, then the
// receiver closes (webhook, producer) before the tracer stops, the sink is flushed before live
// findings stop, and the store closes last — and exits 0 with every acknowledged event stored.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';
import { auditStream } from '../setup/audit-stream.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { storeTracerArgs } from '../setup/kafka-roles.ts';
import '../setup/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-drain-'));
let all: RunningKubetrail | undefined;
afterAll(async () => {
  await all?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The components of the log lines with this message, in the order they were written. */
function steps(output: string, msg: string): string[] {
  return [...output.matchAll(/"component":"([^"]+)","msg":"([^"]+)"/g)].filter((m) => m[2] === msg).map((m) => m[1]!);
}

describe('serve --role all on Kafka, stopped with SIGTERM', () => {
  it('drains receiver before tracer, flushes before live findings stop, closes the store last, and exits 0 with everything stored', async () => {
    const stack = inject('stack');
    const topic = `kt-drain-${randomBytes(3).toString('hex')}`;
    const store = join(dir, 'drain.sqlite');
    const [port] = await freePorts(1);
    // the store tracer's flags, in the all role (the last --role wins)
    const args = storeTracerArgs(stack.kafkaBroker, topic, {
      store,
      cluster: 'kafka-d',
      webhookPort: port!,
      extra: ['--role', 'all', '--kafka-partitions', '2'],
    });
    all = await startKubetrail(args, { ready: /audit webhook listening/ });
    const events = auditStream({ objects: 10, updates: 2, namespace: 'drain' });
    const res = await fetch(`http://127.0.0.1:${port}/audit/kafka-d`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: events }),
    });
    expect(res.status).toBe(200);
    await waitFor(() => storedEvents(store, 'kafka-d').length >= events.length, `${events.length} event spans in the store`, 120_000);

    expect(await all.stop()).toBe(0);
    const out = all.output();
    expect(out).toContain('drained, bye');
    expect(steps(out, 'refusing new work')).toEqual(['audit webhook']);
    expect(steps(out, 'stopping')).toEqual(['audit webhook', 'kafka producer', 'kafka tracer', 'sink flush', 'live findings', 'sink']);
    expect(storedEvents(store, 'kafka-d')).toHaveLength(events.length);
  }, 180_000);
});
