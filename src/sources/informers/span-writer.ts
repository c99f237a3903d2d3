// Informer callbacks are synchronous and arrive one object at a time; this buffers their spans and
// writes them to the sink in batches, retrying while the sink is full or failing.
import type { SpanRecord } from '../../core/model.ts';
import type { SpanSink } from '../../core/sink.ts';
import { log } from '../../core/log.ts';
import { spansFailed } from '../../core/metrics.ts';

export class SpanWriter {
  private buffer: SpanRecord[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly sink: SpanSink;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly maxBuffered: number;

  constructor(sink: SpanSink, opts: { batchSize?: number; lingerMs?: number; maxBuffered?: number } = {}) {
    this.sink = sink;
    this.batchSize = opts.batchSize ?? 2000;
    this.lingerMs = opts.lingerMs ?? 200;
    this.maxBuffered = opts.maxBuffered ?? 500_000;
  }

  // spans pushed / durable so far, and who waits for which count
  private pushed = 0;
  private durable = 0;
  private waiting: { upTo: number; resolve: () => void }[] = [];

  /** push(), resolving once these spans are durable (the SpanSink.write contract). */
  write(spans: SpanRecord[]): Promise<void> {
    if (!this.push(spans)) return Promise.reject(new Error('informer span buffer full'));
    if (spans.length === 0) return Promise.resolve();
    const upTo = this.pushed;
    return new Promise((resolve) => this.waiting.push({ upTo, resolve }));
  }

  push(spans: SpanRecord[]): boolean {
    if (spans.length === 0) return true;
    if (this.buffer.length + spans.length > this.maxBuffered) {
      // the sink has been unavailable for long: say so loudly rather than grow without bound
      spansFailed.inc({ sink: 'informer-buffer' }, spans.length);
      log.error({ spans: spans.length, buffered: this.buffer.length }, 'informer span buffer full, dropping spans');
      return false;
    }
    this.buffer.push(...spans);
    this.pushed += spans.length;
    if (this.buffer.length >= this.batchSize) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.lingerMs);
    return true;
  }

  pending(): number {
    return this.buffer.length;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing || this.buffer.length === 0) return;
    const spans = this.buffer.splice(0, this.batchSize);
    this.writing = this.writeWithRetry(spans).finally(() => {
      this.writing = undefined;
      if (this.buffer.length > 0) this.kick();
    });
  }

  private async writeWithRetry(spans: SpanRecord[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sink.write(spans);
        this.durable += spans.length;
        while (this.waiting.length > 0 && this.waiting[0]!.upTo <= this.durable) this.waiting.shift()!.resolve();
        return;
      } catch (err) {
        const delay = Math.min(30_000, 100 * 2 ** attempt);
        if (attempt % 5 === 4) log.warn({ spans: spans.length, attempt, err: (err as Error).message }, 'informer spans not written yet, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Writes everything buffered; resolves when it is durable. */
  async drain(): Promise<void> {
    while (this.writing || this.buffer.length > 0) {
      this.kick();
      await this.writing;
    }
  }
}
