// The queued writer's policy (src/sinks/queued-writer.ts): bounds, batching by spans and bytes,
// splitting on a size rejection, no retry of permanent failures, retry of transient ones with
// health reported, attribute truncation, flush and close. The transport is an in-memory one; the
// real transports are tested against Jaeger (test/integration/otlp-jaeger.test.ts) and SQLite (store.test.ts).
import { describe, expect, it } from 'vitest';
import { QueuedWriter, truncateValue } from '../../src/sinks/queued-writer.ts';
import { SinkFullError } from '../../src/core/sink.ts';
import { registry } from '../../src/core/metrics.ts';
import type { ObjectRef, SpanRecord } from '../../src/core/model.ts';
import { MemoryTransport } from '../helpers/memory-transport.ts';
import { ExportError } from '../../src/sinks/transport.ts';

const pod = (i: number): ObjectRef => ({ cluster: 'kwok', group: '', resource: 'pods', namespace: 'default', name: `pod-${i}` });

function span(i: number, snapshotBytes = 0): SpanRecord {
  return {
    traceId: i.toString(16).padStart(32, '0'),
    spanId: i.toString(16).padStart(16, '0'),
    kind: 'event',
    name: 'create',
    startUs: 1e15 + i,
    endUs: 1e15 + i + 1,
    object: pod(i),
    attributes: { cluster: 'kwok', resource: 'pods', name: `pod-${i}`, verb: 'create', ...(snapshotBytes ? { snapshot: 'x'.repeat(snapshotBytes) } : {}) },
  };
}

const fast = { retryInitialMs: 1, retryMaxMs: 2 };

describe('QueuedWriter', () => {
  it('cuts exports by encoded size so each stays under the receiver limit', async () => {
    const t = new MemoryTransport();
    t.maxRequestBytes = 1024 ** 2;
    const w = new QueuedWriter(t, { name: 'test-bytes', maxBatchBytes: 900 * 1024, maxBatchSpans: 1024, ...fast });
    const spans = Array.from({ length: 400 }, (_, i) => span(i, 18_000));
    await w.write(spans);
    expect(t.spans).toHaveLength(400);
    expect(t.batches.length).toBeGreaterThan(1);
    for (const [, bytes] of t.attempts) expect(bytes).toBeLessThanOrEqual(t.maxRequestBytes);
    await w.close();
  });

  it('splits a batch the receiver refuses as too large and resends the halves', async () => {
    const t = new MemoryTransport();
    t.maxRequestBytes = 200 * 1024; // smaller than the writer believes
    const w = new QueuedWriter(t, { name: 'test-split', maxBatchBytes: 8 * 1024 ** 2, ...fast });
    const spans = Array.from({ length: 100 }, (_, i) => span(i, 18_000));
    await w.write(spans);
    expect(new Set(t.spans.map((s) => s.spanId)).size).toBe(100);
    expect(t.attempts[0]![0]).toBe(100); // the first request held everything and was refused
    expect(w.healthy()).toBe(true);
    expect(await registry.metrics()).toMatch(/kubetrail_sink_export_failures_total\{sink="test-split",kind="too_large"\} [1-9]/);
    await w.close();
  });

  it('cuts a span the receiver refuses alone as too large to half until it fits, marked, and delivers the others', async () => {
    const t = new MemoryTransport();
    t.maxRequestBytes = 50 * 1024;
    const w = new QueuedWriter(t, { name: 'test-huge', maxAttributeBytes: 0, ...fast });
    const small = w.write([span(1), span(2)]);
    await w.write([span(3, 100 * 1024)]);
    await small;
    expect(t.spans.map((s) => s.spanId).sort()).toEqual([1, 2, 3].map((i) => span(i).spanId).sort());
    const cut = t.spans.find((s) => s.spanId === span(3).spanId)!;
    expect(String(cut.attributes.snapshot)).toMatch(/^x+… \[truncated by kubetrail: 102400 bytes, limit \d+\]$/);
    expect(cut.attributes.truncated).toBe('snapshot');
    expect(await registry.metrics()).not.toMatch(/kubetrail_spans_failed_total\{sink="test-huge"\} [1-9]/);
    await w.close();
  });

  it('fails, without blocking the others, a span the receiver refuses even when cut to 16 KiB', async () => {
    const t = new MemoryTransport();
    t.maxRequestBytes = 8 * 1024;
    const w = new QueuedWriter(t, { name: 'test-tiny-receiver', maxAttributeBytes: 0, ...fast });
    const small = w.write([span(1), span(2)]);
    await expect(w.write([span(3, 100 * 1024)])).rejects.toThrow(/one span is larger than the receiver accepts/);
    await small;
    expect(t.spans.map((s) => s.spanId)).toEqual([span(1).spanId, span(2).spanId]);
    expect(await registry.metrics()).toMatch(/kubetrail_spans_failed_total\{sink="test-tiny-receiver"\} 1/);
    await w.close();
  });

  it('cuts a span larger than one export request before sending it, however high the attribute limit', async () => {
    const t = new MemoryTransport();
    t.maxRequestBytes = 1024 ** 2;
    const w = new QueuedWriter(t, { name: 'test-span-budget', maxAttributeBytes: 8 * 1024 ** 2, maxBatchBytes: 900 * 1024 });
    const big = span(1, 3 * 1024 ** 2);
    big.attributes.diff = 'd'.repeat(2 * 1024 ** 2);
    await w.write([big, span(2)]);
    expect(t.attempts.every(([, bytes]) => bytes <= t.maxRequestBytes)).toBe(true); // never refused
    const out = t.spans.find((s) => s.spanId === big.spanId)!;
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThan(1024 ** 2);
    expect(String(out.attributes.snapshot)).toMatch(/\[truncated by kubetrail: 3145728 bytes, limit \d+\]$/);
    expect(String(out.attributes.truncated).split(',').sort()).toEqual(['diff', 'snapshot']);
    await w.close();
  });

  it('never retries a permanent failure', async () => {
    const t = new MemoryTransport();
    t.failures.push({ kind: 'permanent', message: 'invalid argument', code: 'INVALID_ARGUMENT' });
    const w = new QueuedWriter(t, { name: 'test-permanent', maxAttempts: 6, ...fast });
    await expect(w.write([span(1)])).rejects.toThrow(/not retryable.*invalid argument/);
    expect(t.attempts).toHaveLength(1);
    expect(w.pending()).toBe(0);
    await w.close();
  });

  it('fails only the write whose spans are refused as not retryable when writes were merged', async () => {
    const t = new MemoryTransport();
    const bad = span(7);
    bad.name = 'bad';
    const refuse = t.export.bind(t);
    t.export = async (batch) => {
      if (batch.some((s) => s.name === 'bad')) {
        t.attempts.push([batch.length, 0]);
        throw new ExportError('invalid span', 'permanent', 'INVALID_ARGUMENT');
      }
      return refuse(batch);
    };
    t.slowMs = 5;
    const w = new QueuedWriter(t, { name: 'test-isolate', concurrency: 1 });
    const first = w.write([span(1)]); // in flight while the next three are merged into one batch
    const writes = [w.write([span(2), span(3)]), w.write([bad]), w.write([span(4)])];
    await first;
    const results = await Promise.allSettled(writes);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(t.spans.map((s) => s.spanId).sort()).toEqual([1, 2, 3, 4].map((i) => span(i).spanId).sort());
    await w.close();
  });

  it('retries transient failures, reports itself unhealthy meanwhile, and recovers', async () => {
    const t = new MemoryTransport();
    t.failures.push({ kind: 'transient', message: 'SQLITE_FULL: database or disk is full', code: 'SQLITE_FULL' });
    t.failures.push({ kind: 'transient', message: 'SQLITE_FULL: database or disk is full', code: 'SQLITE_FULL' });
    const w = new QueuedWriter(t, { name: 'test-transient', maxAttempts: 2, ...fast });
    await expect(w.write([span(1)])).rejects.toThrow(/failed after 2 attempts: SQLITE_FULL/);
    expect(w.healthy()).toBe(false);
    expect(w.lastError()).toMatch(/SQLITE_FULL/);
    await w.write([span(2)]);
    expect(w.healthy()).toBe(true);
    expect(t.spans.map((s) => s.spanId)).toEqual([span(2).spanId]);
    await w.close();
  });

  it('cuts an attribute above the limit and says so in the value', async () => {
    const t = new MemoryTransport();
    const w = new QueuedWriter(t, { name: 'test-truncate', maxAttributeBytes: 64 * 1024 });
    const big = span(1, 5 * 1024 ** 2);
    await w.write([big]);
    const out = t.spans[0]!;
    expect(Buffer.byteLength(String(out.attributes.snapshot))).toBeLessThanOrEqual(64 * 1024);
    expect(String(out.attributes.snapshot)).toMatch(/\[truncated by kubetrail: 5242880 bytes, limit 65536\]$/);
    expect(out.attributes.truncated).toBe('snapshot');
    expect(big.attributes.snapshot).toHaveLength(5 * 1024 ** 2); // the caller's span is untouched
    expect(truncateValue('é'.repeat(100), 80)).not.toContain('\uFFFD');
    await w.close();
  });

  it('refuses with SinkFullError over its span or byte bound, and says when it is writable again', async () => {
    const t = new MemoryTransport();
    t.slowMs = 20;
    const w = new QueuedWriter(t, { name: 'test-full', maxQueueSpans: 1000, maxQueueBytes: 100 * 1024, concurrency: 1 });
    const first = w.write(Array.from({ length: 10 }, (_, i) => span(i, 20_000))); // ~200 KB > byte bound
    expect(w.full()).toBe(true);
    await expect(w.write([span(99)])).rejects.toBeInstanceOf(SinkFullError);
    await w.writable();
    expect(w.full()).toBe(false);
    await first;
    await w.write([span(99)]);
    expect(t.spans).toHaveLength(11);
    await w.close();
    expect(t.shutdowns).toBe(1);
    await expect(w.write([span(100)])).rejects.toThrow(/closed/);
  });

  it('batches small writes that arrive while exports are busy, and flush waits for all', async () => {
    const t = new MemoryTransport();
    t.slowMs = 5;
    const w = new QueuedWriter(t, { name: 'test-batch', concurrency: 1, maxBatchSpans: 100 });
    const writes = Array.from({ length: 300 }, (_, i) => w.write([span(i)]));
    await w.flush();
    expect(w.pending()).toBe(0);
    await Promise.all(writes);
    expect(t.spans).toHaveLength(300);
    expect(t.batches.length).toBeLessThan(10);
    await w.close();
  });
});

describe('writer options from the OpenTelemetry environment', () => {
  it('maps OTEL_BSP_* and OTEL_EXPORTER_OTLP_* onto the OTLP writer, and rejects bad values clearly', async () => {
    const { otlpSettingsFromEnv, createSink } = await import('../../src/sinks/index.ts');
    expect(
      otlpSettingsFromEnv({
        OTEL_BSP_MAX_QUEUE_SIZE: '5000',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '256',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '65536',
      }),
    ).toEqual({ limits: { maxQueueSpans: 5000, maxBatchSpans: 256, scheduleDelayMs: 200, maxAttributeBytes: 65536 }, timeoutMs: 3000, compression: 'gzip' });
    expect(() => otlpSettingsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: 'lots' })).toThrow("OTEL_BSP_MAX_QUEUE_SIZE: expected a positive integer, got 'lots'");
    // command-line limits win over the defaults
    const chosen = createSink({ otlpEndpoint: 'http://127.0.0.1:1', ignoreEnv: true, limits: { maxBatchBytes: 1024 ** 2, maxQueueSpans: undefined } });
    const w = chosen.sink as QueuedWriter;
    expect(w.limits).toMatchObject({ maxBatchBytes: 1024 ** 2, maxQueueSpans: 100_000, maxBatchSpans: 1024 });
    await chosen.sink.close();
  });
});

describe('OTLP failure classes (the OTLP specification)', () => {
  it('retries only what can succeed, and splits on a message-size rejection', async () => {
    const { classifyGrpcFailure } = await import('../../src/sinks/otlp.ts');
    expect(classifyGrpcFailure('UNAVAILABLE', 'connect ECONNREFUSED')).toBe('transient');
    expect(classifyGrpcFailure(undefined, 'OTLP export worker exited with code 1')).toBe('transient');
    expect(classifyGrpcFailure('DEADLINE_EXCEEDED', 'deadline')).toBe('transient');
    expect(classifyGrpcFailure('RESOURCE_EXHAUSTED', 'grpc: received message larger than max (7568996 vs. 4194304)')).toBe('too-large');
    expect(classifyGrpcFailure('RESOURCE_EXHAUSTED', 'rate limited')).toBe('transient');
    for (const code of ['INVALID_ARGUMENT', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'UNIMPLEMENTED', 'BAD_ROWS']) {
      expect(classifyGrpcFailure(code, 'no')).toBe('permanent');
    }
  });
});
