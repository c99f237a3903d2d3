// Informer callbacks are synchronous and arrive one object at a time; this hands their spans to the
// sink (a queued writer, which batches them) and applies backpressure instead of buffering: when
// the sink is full, or too many informer spans are not yet durable, it asks the informers to pause
// (they stop reading watch events: the watch is closed and later resumed from the last
// resourceVersion, so the API server keeps what we did not read). Spans already handed over are
// retried until durable; nothing is dropped.
import type { SpanRecord } from '../../core/model.ts';
import { SinkFullError, untilWritable, type SpanSink } from '../../core/sink.ts';
import { log } from '../../core/log.ts';
import { informerPauses } from '../../core/metrics.ts';

export interface WatchWriterOptions {
  /** Informer spans not yet durable at which the informers pause (they resume at half). */
  maxUnacked?: number;
  /** Stop reading watch events. */
  onPause?: () => void;
  /** Read watch events again. */
  onResume?: () => void;
  /** Wait before re-sending spans whose write failed (doubles up to 30 s). */
  retryInitialMs?: number;
  /** Stay paused at least this long, so a sink at its limit does not restart the watches every few ms. */
  minPauseMs?: number;
}

/** Pauses are logged at warn at most this often (each one is counted in kubetrail_informer_pauses_total). */
const PAUSE_LOG_INTERVAL_MS = 60_000;

export class WatchWriter {
  private readonly sink: SpanSink;
  private readonly maxUnacked: number;
  private readonly opts: WatchWriterOptions;
  private unacked = 0;
  private isPaused = false;
  private pausedAt = 0;
  private lastPauseLog = -Infinity;
  private idle: (() => void)[] = [];
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(sink: SpanSink, opts: WatchWriterOptions = {}) {
    this.sink = sink;
    this.opts = opts;
    this.maxUnacked = opts.maxUnacked ?? 20_000;
  }

  /** Hands spans to the sink; resolves once they are durable (it retries until they are). */
  push(spans: SpanRecord[]): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    this.unacked += spans.length;
    const done = this.writeUntilDurable(spans).finally(() => {
      this.unacked -= spans.length;
      this.check();
      if (this.unacked === 0) for (const w of this.idle.splice(0)) w();
    });
    this.check();
    return done;
  }

  /**
   * Re-evaluates the backpressure after a change that handed over no spans: a sink that fills
   * without them (the Kafka publisher of the receive role queues the changes themselves).
   */
  poke(): void {
    this.check();
  }

  /** Spans handed over and not yet durable. */
  pending(): number {
    return this.unacked;
  }

  paused(): boolean {
    return this.isPaused;
  }

  /** Resolves when everything handed over is durable. */
  drain(): Promise<void> {
    if (this.unacked === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private check(): void {
    if (!this.isPaused && (this.unacked >= this.maxUnacked || this.sink.full())) {
      this.isPaused = true;
      this.pausedAt = Date.now();
      informerPauses.inc();
      const level = this.pausedAt - this.lastPauseLog >= PAUSE_LOG_INTERVAL_MS ? 'warn' : 'debug';
      if (level === 'warn') this.lastPauseLog = this.pausedAt;
      log[level](
        { unacked: this.unacked, sinkPending: this.sink.pending(), sinkFull: this.sink.full() },
        'sink cannot keep up: informers stop reading watch events until it drains',
      );
      this.opts.onPause?.();
      // resume also when the sink drains by itself (e.g. filled by the webhook, not by us)
      const wait = () =>
        void untilWritable(this.sink).then(() => {
          if (this.isPaused && this.sink.full()) return setTimeout(wait, 50);
          this.check();
        });
      wait();
    } else if (this.isPaused && this.unacked <= this.maxUnacked / 2 && !this.sink.full()) {
      const wait = this.pausedAt + (this.opts.minPauseMs ?? 1000) - Date.now();
      if (wait > 0) {
        this.resumeTimer ??= setTimeout(() => {
          this.resumeTimer = undefined;
          this.check();
        }, wait);
        return;
      }
      this.isPaused = false;
      log.debug({ unacked: this.unacked }, 'sink drained: informers read watch events again');
      this.opts.onResume?.();
    }
  }

  private async writeUntilDurable(spans: SpanRecord[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.sink.write(spans);
        return;
      } catch (err) {
        if (err instanceof SinkFullError) {
          await untilWritable(this.sink);
          continue;
        }
        // the sink already retried; keep the spans and try again later (readiness is off meanwhile)
        const delay = Math.min(30_000, (this.opts.retryInitialMs ?? 1000) * 2 ** Math.min(attempt, 10));
        log.warn({ spans: spans.length, attempt: attempt + 1, retryInMs: delay, err: (err as Error).message }, 'informer spans not written yet, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
