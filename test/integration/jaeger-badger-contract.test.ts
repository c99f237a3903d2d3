// Storage contract with Jaeger's badger storage (issue 21, items 1 and 3): every span kubetrail writes
// through the webhook is read back by the Jaeger read side (frontend-plugin/backend/jaeger.ts)
// identical to what the writer sent — 1 MB and 5 MB ConfigMaps included, which badger refused as a
// whole span before ("Key with size 1000184 exceeded 65000 limit", after Jaeger had acknowledged) —
// and a span above the collector's message limit (--max-attribute-bytes 8Mi) is cut to fit instead
// of failing its whole batch with 503 on every retry. A Jaeger of the test's own, with badger storage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { OtlpSink } from '../../src/sinks/otlp.ts';
import { boundSpan } from '../../src/sinks/queued-writer.ts';
import { buildWebhookServer } from '../../src/sources/webhook.ts';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import type { SpanSink } from '../../src/core/sink.ts';
import { auditEvent, eventList } from '../unit/webhook.fixtures.ts';
import { ownBadgerJaeger, type OwnJaeger } from '../setup/own-jaeger.ts';
import { readBack } from '../helpers/read-back.ts';

/** Text of `bytes` UTF-8 bytes mixing 1- to 4-byte characters, so part boundaries fall inside characters. */
const text = (bytes: number, seed: string) => `${seed}:${'aé€😀'.repeat(Math.ceil(bytes / 10))}`;

const cm = (name: string, verb: 'create' | 'update' | 'delete', at: number, data?: Record<string, string>, code?: number) =>
  auditEvent({
    verb,
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespace: 'default',
    name,
    at,
    ...(data ? { object: { data } } : {}),
    ...(code ? { code } : {}),
  });

/**
 * POSTs one EventList to a webhook whose OTLP sink exports to `jaeger`, expects 200 with every event
 * traced, and returns each span the writer sent (cut to its attribute and request limits, boundSpan)
 * beside the same span as the Jaeger read side returns it.
 */
async function roundTrip(jaeger: OwnJaeger, items: unknown[], limits: { maxAttributeBytes?: number } = {}) {
  const sink = new OtlpSink({ endpoint: jaeger.otlpGrpcEndpoint, ...limits });
  const handed: SpanRecord[] = [];
  const recording: SpanSink = {
    write: (spans) => {
      handed.push(...spans);
      return sink.write(spans);
    },
    pending: () => sink.pending(),
    full: () => sink.full(),
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
  const server = buildWebhookServer({ pipeline: new Pipeline(), sink: recording, maxBodyBytes: 64 * 1024 ** 2 });
  const res = await server.app.inject({ method: 'POST', url: '/audit/kt-badger', payload: eventList(items) });
  await server.app.close();
  await sink.close();
  expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
  expect(res.json()).toMatchObject({ received: items.length, traced: items.length, rejected: 0 });
  const sent = handed.map((s) => boundSpan(s, sink.limits.maxAttributeBytes, sink.limits.maxBatchBytes).span);
  const backend = new JaegerBackend({ url: jaeger.queryUrl });
  const read = await readBack(backend, sent, 'spans in Jaeger (badger)', 30_000);
  for (const s of sent) expect(read.get(s.spanId), `${s.name} of ${s.object.name}`).toEqual(s);
  return { sent, read };
}

describe('Jaeger with badger storage: what kubetrail writes is read back identical', () => {
  let dir: string;
  let jaeger: OwnJaeger;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kt-badger-'));
    jaeger = await ownBadgerJaeger(dir);
  });
  afterAll(() => {
    jaeger?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it('1 MB and 5 MB ConfigMaps (create, update, delete), a failed request and small objects: every span, whole', async () => {
    const name = `big-${Date.now()}`;
    const items = [
      cm(`${name}-1mb`, 'create', 1, { blob: text(1_000_000, 'one'), small: 'a' }),
      cm(`${name}-1mb`, 'update', 2, { blob: text(1_000_000, 'one'), small: text(300_000, 'changed') }),
      cm(`${name}-5mb`, 'create', 3, { blob: text(5_000_000, 'five') }),
      cm(`${name}-1mb`, 'update', 4, { blob: 'x' }, 409),
      cm(`${name}-small`, 'create', 5, { k: 'v' }),
      cm(`${name}-1mb`, 'delete', 6),
    ];
    const { sent, read } = await roundTrip(jaeger, items);
    // what a user sees: the 1 MB snapshot and the 300 KB diff whole, the 5 MB snapshot cut at the
    // documented 1 MiB cap and marked
    const ofVerb = (verb: string, obj: string) =>
      read.get(sent.find((s) => s.attributes.verb === verb && s.object.name === obj && s.kind === 'event')!.spanId)!;
    expect(String(ofVerb('create', `${name}-1mb`).attributes.snapshot)).toContain(text(1_000_000, 'one'));
    expect(String(ofVerb('update', `${name}-1mb`).attributes.diff)).toContain(text(300_000, 'changed'));
    expect(String(ofVerb('create', `${name}-5mb`).attributes.snapshot).slice(-100)).toMatch(/\[truncated by kubetrail: \d+ bytes, limit 1048576\]$/);
  });

  it('--max-attribute-bytes 8Mi: a span above the collector limit is cut to fit and its batch is answered 200', async () => {
    const name = `huge-${Date.now()}`;
    const items = [
      cm(`${name}-6mb`, 'create', 10, { blob: 'h'.repeat(6 * 1024 ** 2) }),
      ...[1, 2, 3].map((i) => cm(`${name}-${i}`, 'create', 10 + i, { k: 'v' })),
    ];
    const { read } = await roundTrip(jaeger, items, { maxAttributeBytes: 8 * 1024 ** 2 });
    const big = [...read.values()].find((s) => s.object.name === `${name}-6mb` && s.kind === 'event')!;
    const snapshot = String(big.attributes.snapshot);
    expect(snapshot.startsWith('{') && snapshot.includes('h'.repeat(1024 ** 2))).toBe(true);
    expect(snapshot.slice(-100)).toMatch(/… \[truncated by kubetrail: \d+ bytes, limit \d+\]$/);
    expect(big.attributes.truncated).toBe('snapshot');
  });
});
