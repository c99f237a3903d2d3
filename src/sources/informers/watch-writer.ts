// Informer callbacks are synchronous and arrive one object at a time; their spans go through the
// engine that commits (src/pipeline/engine.ts: a full sink is waited for, a failed write retried,
// the informers' transaction committed as spans become durable) to the sink (a queued writer, which
// batches them). This is the informers' side of it, backpressure instead of buffering: when
// the sink is full, or too many informer spans are not yet durable, it asks the informers to pause
// (they stop reading watch events: the watch is closed and later resumed from the last
// resourceVersion, so the API server keeps what we did not read). Spans already handed over are
// retried until durable; nothing is dropped.
import type { SpanRecord } from '../../core/model.ts';
import { untilWritable } from '../../core/sink.ts';
import { log } from '../../core/log.ts';
import { informerPauses } from '../../core/metrics.ts';
import { CommitEngine, type CommitStream, type RecordSink, type Staged } from '../../pipeline/engine.ts';

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

export class WatchWriter<R = SpanRecord> {
  private readonly sink: RecordSink<R>;
  private readonly engine: CommitEngine<R>;
  private readonly maxUnacked: number;
  private readonly opts: WatchWriterOptions;
  private isPaused = false;
  private pausedAt = 0;
  private lastPauseLog = -Infinity;
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(sink: RecordSink<R>, opts: WatchWriterOptions = {}) {
    this.sink = sink;
    this.opts = opts;
    this.maxUnacked = opts.maxUnacked ?? 20_000;
    // the sink already retried a write it failed: keep the spans and try again later (readiness is off meanwhile)
    const retry = {
      initialMs: opts.retryInitialMs ?? 1000,
      maxMs: 30_000,
      onRetry: (err: Error, spans: number, attempt: number, retryInMs: number) =>
        log.warn({ spans, attempt, retryInMs, err: err.message }, 'informer spans not written yet, retrying'),
    };
    this.engine = new CommitEngine(sink, { whenFull: 'wait', retry }, () => this.check());
  }

  /** The informers' transaction: each change's spans written, the change committed once they are durable. */
  stream<Tx extends Staged>(tx: Tx): CommitStream<Tx, R> {
    return this.engine.stream(tx);
  }

  /** Hands spans that carry no state to the sink; resolves once they are durable (it retries until they are). */
  async push(spans: R[]): Promise<void> {
    if (spans.length > 0) await this.engine.write(spans);
  }

  /** Spans handed over and not yet durable. */
  pending(): number {
    return this.engine.pending();
  }

  paused(): boolean {
    return this.isPaused;
  }

  /** Resolves when everything handed over is durable. */
  drain(): Promise<void> {
    return this.engine.drain();
  }

  private check(): void {
    const unacked = this.engine.pending();
    if (!this.isPaused && (unacked >= this.maxUnacked || this.sink.full())) {
      this.isPaused = true;
      this.pausedAt = Date.now();
      informerPauses.inc();
      const level = this.pausedAt - this.lastPauseLog >= PAUSE_LOG_INTERVAL_MS ? 'warn' : 'debug';
      if (level === 'warn') this.lastPauseLog = this.pausedAt;
      log[level](
        { unacked, sinkPending: this.sink.pending(), sinkFull: this.sink.full() },
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
    } else if (this.isPaused && unacked <= this.maxUnacked / 2 && !this.sink.full()) {
      const wait = this.pausedAt + (this.opts.minPauseMs ?? 1000) - Date.now();
      if (wait > 0) {
        this.resumeTimer ??= setTimeout(() => {
          this.resumeTimer = undefined;
          this.check();
        }, wait);
        return;
      }
      this.isPaused = false;
      log.debug({ unacked }, 'sink drained: informers read watch events again');
      this.opts.onResume?.();
    }
  }
}
