// OTLP gRPC sink: SpanRecords become OpenTelemetry ReadableSpans with the derived IDs we computed
// (not the SDK's random ones), batched and exported with @opentelemetry/exporter-trace-otlp-grpc.
// The protobuf serialisation and gRPC run in a worker thread (otlp-worker.ts) so they do not compete
// with the webhook's JSON parsing for the main event loop; queueing, retries and accounting stay here.
// write() resolves only once the collector acknowledged every batch holding its spans; a batch
// that still fails after the retries rejects its writers (who answer non-2xx upstream) and is
// logged and counted, so nothing is dropped silently.
import { Worker } from 'node:worker_threads';
import type { SpanRecord } from '../core/model.ts';
import { SinkFullError, type SpanSink } from '../core/sink.ts';
import { spansToRows, type SpanRow, type WorkerReply, type WorkerRequest } from './otlp-rows.ts';
import { log } from '../core/log.ts';

export { SERVICE_NAME, toReadableSpan } from './otlp-rows.ts';

export interface OtlpSinkOptions {
  /** gRPC endpoint, e.g. http://localhost:4317 (http:// = plaintext). Default OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4317. */
  endpoint?: string;
  /** Spans per export request. */
  batchSize?: number;
  /** Export requests in flight (default 4: one per webhook batch the API server keeps in flight, so a batch rarely waits behind another). */
  concurrency?: number;
  /** Spans queued (not yet acknowledged) above which write() refuses with SinkFullError. */
  maxQueue?: number;
  /** Attempts per batch before it is reported as failed. */
  maxAttempts?: number;
  timeoutMs?: number;
  /** Called with the number of spans acknowledged / failed (metrics). */
  onWritten?: (n: number) => void;
  onFailed?: (n: number) => void;
}

interface Chunk {
  spans: SpanRecord[];
  done: (err?: Error) => void;
}

export function normalizeEndpoint(endpoint: string): string {
  return /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

export class OtlpSink implements SpanSink {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (err?: Error) => void>();
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly opts: OtlpSinkOptions;
  private readonly queue: Chunk[] = [];
  private queued = 0; // spans in `queue`
  private inFlightSpans = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(opts: OtlpSinkOptions = {}) {
    this.opts = opts;
    this.endpoint = normalizeEndpoint(opts.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4317');
    this.batchSize = opts.batchSize ?? 1024;
    this.concurrency = opts.concurrency ?? 4;
    this.maxQueue = opts.maxQueue ?? 100_000;
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  write(spans: SpanRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('OTLP sink is closed'));
    if (spans.length === 0) return Promise.resolve();
    if (this.full()) return Promise.reject(new SinkFullError(`OTLP queue holds ${this.pending()} spans`));
    const chunks: Promise<void>[] = [];
    for (let i = 0; i < spans.length; i += this.batchSize) {
      const part = spans.length <= this.batchSize ? spans : spans.slice(i, i + this.batchSize);
      chunks.push(new Promise<void>((resolve, reject) => {
        this.queue.push({ spans: part, done: (err) => (err ? reject(err) : resolve()) });
      }));
      this.queued += part.length;
    }
    this.pump();
    return Promise.all(chunks).then(() => undefined);
  }

  pending(): number {
    return this.queued + this.inFlightSpans;
  }

  full(): boolean {
    return this.pending() >= this.maxQueue;
  }

  flush(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    // let the exporter shut down cleanly, but never hang close() on a stuck worker
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      w.once('message', (m: WorkerReply) => m.type === 'shutdown' && (clearTimeout(timer), resolve()));
      w.once('exit', () => (clearTimeout(timer), resolve()));
      w.postMessage({ type: 'shutdown' } satisfies WorkerRequest);
    });
    await w.terminate();
  }

  /** The export worker, started on first use and again after it died. */
  private getWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./otlp-worker.ts', import.meta.url), {
      workerData: { endpoint: this.endpoint, timeoutMs: this.timeoutMs },
    });
    w.on('message', (m: WorkerReply) => {
      if (m.type !== 'result') return;
      const done = this.waiting.get(m.id);
      if (!done) return;
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) w.unref();
      done(m.ok ? undefined : new Error(m.error ?? 'OTLP export failed'));
    });
    const died = (err: Error) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      log.error({ endpoint: this.endpoint, err: err.message }, 'OTLP export worker died; its exports count as failed attempts');
      const pending = [...this.waiting.values()];
      this.waiting.clear();
      for (const done of pending) done(err);
    };
    w.on('error', died);
    w.on('exit', (code) => died(new Error(`OTLP export worker exited with code ${code}`)));
    w.unref(); // only in-flight exports keep the process alive (ref'd in exportOnce)
    this.worker = w;
    return w;
  }

  /** One export attempt in the worker; resolves with the error, if any. */
  private exportOnce(rows: SpanRow[]): Promise<Error | undefined> {
    return new Promise((resolve) => {
      const w = this.getWorker();
      const id = this.nextId++;
      this.waiting.set(id, resolve);
      w.ref();
      w.postMessage({ type: 'export', id, rows } satisfies WorkerRequest);
    });
  }

  /** Starts exports while there is room: each takes queued chunks up to batchSize spans. */
  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch: Chunk[] = [];
      let n = 0;
      while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.spans.length <= this.batchSize)) {
        const c = this.queue.shift()!;
        batch.push(c);
        n += c.spans.length;
      }
      this.queued -= n;
      this.inFlightSpans += n;
      this.inFlight++;
      void this.exportWithRetry(batch, n).finally(() => {
        this.inFlight--;
        this.inFlightSpans -= n;
        this.pump();
        if (this.pending() === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async exportWithRetry(batch: Chunk[], n: number): Promise<void> {
    const rows = spansToRows(batch.length === 1 ? batch[0]!.spans : batch.flatMap((c) => c.spans));
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const error = await this.exportOnce(rows);
      if (!error) {
        this.opts.onWritten?.(n);
        for (const c of batch) c.done();
        return;
      }
      lastError = error;
      if (attempt < this.maxAttempts) {
        const delay = Math.min(10_000, 250 * 2 ** (attempt - 1));
        log.warn({ endpoint: this.endpoint, spans: n, attempt, retryInMs: delay, err: lastError.message }, 'OTLP export failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    this.opts.onFailed?.(n);
    log.error({ endpoint: this.endpoint, spans: n, attempts: this.maxAttempts, err: lastError?.message }, 'OTLP export failed permanently; writers are told (non-2xx / replay error)');
    const err = new Error(`OTLP export to ${this.endpoint} failed: ${lastError?.message ?? 'unknown error'}`);
    for (const c of batch) c.done(err);
  }
}
