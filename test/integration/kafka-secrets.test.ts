// Secret values never reach Kafka (issue 21 item 2): a receiver and a tracer on a Kafka of this
// test's own (deploy/stack/kafka.sh, so its data directory is ours to read), Secret creates and
// same-length updates POSTed as the API server does, then the raw bytes of every file in Kafka's
// data directory (log segments, indexes, checkpoints), of the store and of both processes' output
// are searched for the values, in clear and in base64. The tracer must still say which key changed.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { cleanUpOwnKafka, ownKafka, type OwnKafka } from '../setup/own-kafka.ts';
import { waitFor } from '../setup/wait.ts';
import { storedEvents } from '../setup/store-reader.ts';
import { kafkaRoleArgs } from '../setup/kafka-roles.ts';
import { leaks, leaksInDir, secretStream } from '../setup/secret-stream.ts';

const dir = mkdtempSync(join(tmpdir(), 'kubetrail-kafka-secrets-'));
const running: RunningKubetrail[] = [];
let kafka: OwnKafka | undefined;

afterAll(() => cleanUpOwnKafka(running, kafka, dir));

async function role(broker: string, role: 'receive' | 'trace', port: number, extra: string[], ready: RegExp): Promise<RunningKubetrail> {
  const args = [...kafkaRoleArgs(broker, 'kubetrail-audit', role), '--webhook-host', '127.0.0.1', '--webhook-port', String(port)];
  const proc = await startKubetrail([...args, '--no-informers', '--no-query', ...extra], { ready });
  running.push(proc);
  return proc;
}

describe('receive role: no secret value reaches Kafka', () => {
  it("Kafka's data directory, the store and the logs hold no Secret value; the diff still says the password changed", async () => {
    const [rPort, tPort] = await freePorts(2);
    kafka = await ownKafka(dir);
    const broker = kafka.up();
    const store = join(dir, 'secrets.sqlite');
    const receiver = await role(broker, 'receive', rPort, ['--kafka-partitions', '2'], /audit webhook listening/);
    const tracer = await role(broker, 'trace', tPort, ['--store', store], /tracing from Kafka/);

    const { events, values } = secretStream(8, 'kafka-secrets');
    const res = await fetch(`http://127.0.0.1:${rPort}/audit/kafka-s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: events }),
    });
    expect(res.status).toBe(200);
    const stored = await waitFor(
      () => {
        const s = storedEvents(store, 'kafka-s');
        return s.length >= events.length && s;
      },
      `${events.length} event spans in the store`,
      120_000,
    );

    expect(leaksInDir(join(dir, 'kafka', 'data'), values)).toEqual([]);
    expect(leaks(receiver.output() + tracer.output(), values)).toEqual([]);
    const storeFiles = ['', '-wal'].map((s) => store + s).filter((f) => existsSync(f));
    expect(leaks(Buffer.concat(storeFiles.map((f) => readFileSync(f))), values)).toEqual([]);
    const updates = stored.filter((s) => s.name === 'update');
    expect(updates).toHaveLength(8);
    for (const u of updates) expect(u.diff).toMatch(/^data\.password "<redacted 28 bytes>" -> "<redacted 28 bytes, changed>"$/m);
    for (const u of updates) expect(u.diff).not.toContain('data.token');
  }, 240_000);
});
