// OTLP gRPC sink: SpanRecords become OpenTelemetry ReadableSpans with the derived IDs we computed
// (not the SDK's random ones), batched and exported with @opentelemetry/exporter-trace-otlp-grpc.
// write() resolves only once the collector acknowledged every batch holding its spans; a batch
// that still fails after the retries rejects its writers (who answer non-2xx upstream) and is
// logged and counted, so nothing is dropped silently.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from '../model.ts';
import { SinkFullError, type SpanSink } from './sink.ts';
import { log } from '../log.ts';

export const SERVICE_NAME = 'kubetrail';
const RESOURCE = resourceFromAttributes({ 'service.name': SERVICE_NAME });
const SCOPE = { name: 'kubetrail' };

function hrTime(us: number): HrTime {
  const sec = Math.floor(us / 1e6);
  return [sec, Math.round((us - sec * 1e6) * 1000)];
}

/** SpanRecord → the ReadableSpan shape the OTLP transformer reads. */
export function toReadableSpan(s: SpanRecord): ReadableSpan {
  const ctx = { traceId: s.traceId, spanId: s.spanId, traceFlags: TraceFlags.SAMPLED };
  const durUs = Math.max(0, s.endUs - s.startUs);
  return {
    name: s.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => ctx,
    ...(s.parentSpanId ? { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags: TraceFlags.SAMPLED } } : {}),
    startTime: hrTime(s.startUs),
    endTime: hrTime(s.endUs),
    duration: hrTime(durUs),
    status: s.error ? { code: SpanStatusCode.ERROR, message: s.error } : { code: SpanStatusCode.UNSET },
    attributes: s.error ? { ...s.attributes, error: true, 'otel.status_description': s.error } : s.attributes,
    links: [],
    events: [],
    ended: true,
    resource: RESOURCE,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as ReadableSpan;
}

export interface OtlpSinkOptions {
  /** gRPC endpoint, e.g. http://localhost:4317 (http:// = plaintext). Default OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4317. */
  endpoint?: string;
  /** Spans per export request. */
  batchSize?: number;
  /** Export requests in flight. */
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
  spans: ReadableSpan[];
  done: (err?: Error) => void;
}

export function normalizeEndpoint(endpoint: string): string {
  return /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

export class OtlpSink implements SpanSink {
  readonly endpoint: string;
  private readonly exporter: OTLPTraceExporter;
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
    this.concurrency = opts.concurrency ?? 2;
    this.maxQueue = opts.maxQueue ?? 100_000;
    this.maxAttempts = opts.maxAttempts ?? 6;
    this.exporter = new OTLPTraceExporter({ url: this.endpoint, timeoutMillis: opts.timeoutMs ?? 10_000 });
  }

  write(spans: SpanRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('OTLP sink is closed'));
    if (spans.length === 0) return Promise.resolve();
    if (this.full()) return Promise.reject(new SinkFullError(`OTLP queue holds ${this.pending()} spans`));
    const chunks: Promise<void>[] = [];
    for (let i = 0; i < spans.length; i += this.batchSize) {
      const part = spans.slice(i, i + this.batchSize).map(toReadableSpan);
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
    await this.exporter.shutdown();
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
    const spans = batch.flatMap((c) => c.spans);
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const result = await new Promise<ExportResult>((resolve) => this.exporter.export(spans, resolve));
      if (result.code === ExportResultCode.SUCCESS) {
        this.opts.onWritten?.(n);
        for (const c of batch) c.done();
        return;
      }
      lastError = result.error ?? new Error('OTLP export failed');
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
