// Informer backpressure (issue 8, item 4): when the sink cannot keep up, the informers are asked to
// stop reading watch events instead of buffering without bound and dropping past a limit. A burst of
// watch changes far above the bound against a slow transport: every span arrives, the informers
// paused, the spans held never exceed the bound by more than what was in flight, nothing failed.
import { describe, expect, it } from 'vitest';
import { QueuedWriter } from '../../src/sinks/queued-writer.ts';
import { WatchWriter } from '../../src/sources/informers/watch-writer.ts';
import { registry } from '../../src/core/metrics.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { MemoryTransport } from '../helpers/memory-transport.ts';

function change(i: number): SpanRecord[] {
  const object = { cluster: 'kwok', group: '', resource: 'configmaps', namespace: 'default', name: `cm-${i}` };
  return [
    {
      traceId: i.toString(16).padStart(32, '0'),
      spanId: i.toString(16).padStart(16, '0'),
      kind: 'event',
      name: 'update',
      startUs: 1e15 + i,
      endUs: 1e15 + i,
      object,
      attributes: { verb: 'update', diff: `data.n ${i - 1} -> ${i}` },
    },
  ];
}

describe('WatchWriter backpressure', () => {
  it('pauses the informers while the sink is behind and loses no change', async () => {
    const t = new MemoryTransport();
    t.slowMs = 2; // a slow receiver
    const sink = new QueuedWriter(t, { name: 'test-informer', maxQueueSpans: 5000, maxBatchSpans: 500, concurrency: 1 });
    let paused = false;
    let pauses = 0;
    let resume: (() => void) | undefined;
    const writer = new WatchWriter(sink, {
      maxUnacked: 10_000,
      minPauseMs: 20,
      onPause: () => {
        paused = true;
        pauses++;
      },
      onResume: () => {
        paused = false;
        resume?.();
      },
    });
    // an informer: delivers watch events until told to pause, then waits to be resumed
    const total = 60_000;
    let maxHeld = 0;
    for (let i = 0; i < total; i++) {
      if (paused) await new Promise<void>((r) => (resume = r));
      void writer.push(change(i));
      maxHeld = Math.max(maxHeld, writer.pending());
    }
    await writer.drain();
    await sink.flush();
    expect(pauses).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThanOrEqual(10_000);
    expect(new Set(t.spans.map((s) => s.spanId)).size).toBe(total);
    expect(await registry.metrics()).not.toMatch(/kubetrail_spans_failed_total\{sink="test-informer"\} [1-9]/);
    expect(await registry.metrics()).toMatch(/kubetrail_informer_pauses_total [1-9]/);
    await sink.close();
  });

  it('keeps spans whose write failed and writes them once the sink works again', async () => {
    const t = new MemoryTransport();
    t.failures.push({ kind: 'transient', message: 'disk full' }, { kind: 'transient', message: 'disk full' });
    const sink = new QueuedWriter(t, { name: 'test-informer-retry', maxAttempts: 1, retryInitialMs: 1 });
    const writer = new WatchWriter(sink, { retryInitialMs: 5 });
    await writer.push(change(1));
    expect(t.spans).toHaveLength(1);
    expect(t.attempts).toHaveLength(3);
    await sink.close();
  });
});
