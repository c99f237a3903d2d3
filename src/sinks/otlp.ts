// OTLP gRPC sink: SpanRecords become OpenTelemetry ReadableSpans with the derived IDs we computed
// (not the SDK's random ones) and are exported with @opentelemetry/exporter-trace-otlp-grpc.
// OtlpTransport sends one batch per call through the export worker (otlp-worker.ts, where the
// protobuf serialisation and gRPC run, off the webhook's event loop) and classifies failures by
// gRPC status as the OTLP specification does; OtlpSink is the queued writer (queued-writer.ts) in
// front of it, which owns the queue, batching by spans and bytes, retries, splitting and accounting.
import type { SpanRecord } from '../core/model.ts';
import { spansToRows, type OtlpWorkerData, type SpanRow } from './otlp-rows.ts';
import { QueuedWriter, type WriterLimits } from './queued-writer.ts';
import type { FactsFeed } from './facts-feed.ts';
import { ExportError, type FailureKind, type Transport } from './transport.ts';
import { WorkerRpc } from './worker-rpc.ts';

export { SERVICE_NAME, toReadableSpan } from './otlp-rows.ts';

/** Retryable per the OTLP specification (RESOURCE_EXHAUSTED is handled apart). */
const RETRYABLE = new Set(['CANCELLED', 'DEADLINE_EXCEEDED', 'ABORTED', 'OUT_OF_RANGE', 'UNAVAILABLE', 'DATA_LOSS']);

/** What a failed export means, from its gRPC status name (undefined: no answer from the receiver). */
export function classifyGrpcFailure(code: string | undefined, message: string): FailureKind {
  if (code === undefined || RETRYABLE.has(code)) return 'transient';
  if (code === 'RESOURCE_EXHAUSTED') {
    // grpc-go: "grpc: received message larger than max (5242880 vs. 4194304)"; anything else is load shedding
    return /larger than max|message too large|exceeds .*(size|limit)|too large/i.test(message) ? 'too-large' : 'transient';
  }
  return 'permanent';
}

export function normalizeEndpoint(endpoint: string): string {
  return /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
}

export interface OtlpTransportOptions {
  endpoint: string;
  /** Deadline of one export request. */
  timeoutMs?: number;
  compression?: 'gzip' | 'none';
}

export class OtlpTransport implements Transport {
  readonly label: string;
  readonly endpoint: string;
  private readonly rpc: WorkerRpc<SpanRow[], true>;

  constructor(opts: OtlpTransportOptions) {
    this.endpoint = normalizeEndpoint(opts.endpoint);
    this.label = `OTLP export to ${this.endpoint}`;
    const data: OtlpWorkerData = {
      endpoint: this.endpoint,
      timeoutMs: opts.timeoutMs ?? 10_000,
      ...(opts.compression ? { compression: opts.compression } : {}),
    };
    this.rpc = new WorkerRpc(new URL('./otlp-worker.ts', import.meta.url), data, 'OTLP export');
  }

  async export(batch: SpanRecord[]): Promise<void> {
    try {
      await this.rpc.call(spansToRows(batch));
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = (err as Error).message;
      throw new ExportError(message, classifyGrpcFailure(code, message), code);
    }
  }

  /** The facts of every acknowledged request also go to this feed (facts-feed.ts). */
  feedFacts(feed: FactsFeed): void {
    this.rpc.setFeed(feed);
  }

  /** An empty export request: the collector answers it like any other (used to notice recovery). */
  probe(): Promise<void> {
    return this.export([]);
  }

  shutdown(): Promise<void> {
    return this.rpc.shutdown();
  }
}

export interface OtlpSinkOptions extends Partial<WriterLimits> {
  /** gRPC endpoint, e.g. http://localhost:4317 (http:// = plaintext). Default $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4317. */
  endpoint?: string;
  /** Spans per export request (maxBatchSpans). */
  batchSize?: number;
  /** Spans queued (not yet acknowledged) at which write() refuses (maxQueueSpans). */
  maxQueue?: number;
  /** Deadline of one export request. */
  timeoutMs?: number;
  compression?: 'gzip' | 'none';
  /** Metrics label; default otlp. */
  name?: string;
}

/** Defaults of the OTLP writer (docs/otlp-export.md). 3 MiB per request stays under the 4 MiB gRPC default of Jaeger and the OpenTelemetry Collector. */
export const OTLP_DEFAULTS: Partial<WriterLimits> = {
  maxQueueSpans: 100_000,
  maxBatchSpans: 1024,
  maxBatchBytes: 3 * 1024 ** 2,
  concurrency: 4,
  maxAttempts: 6,
  retryInitialMs: 250,
  retryMaxMs: 10_000,
};

export function defaultOtlpEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;
}

/** The queued writer over an OTLP transport. */
export class OtlpSink extends QueuedWriter {
  readonly endpoint: string;

  constructor(opts: OtlpSinkOptions = {}) {
    const { endpoint, batchSize, maxQueue, timeoutMs, compression, name, ...limits } = opts;
    const transport = new OtlpTransport({ endpoint: endpoint ?? defaultOtlpEndpoint() ?? 'http://localhost:4317', timeoutMs, compression });
    super(transport, {
      ...OTLP_DEFAULTS,
      ...(batchSize !== undefined ? { maxBatchSpans: batchSize } : {}),
      ...(maxQueue !== undefined ? { maxQueueSpans: maxQueue } : {}),
      ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
      name: name ?? 'otlp',
    });
    this.endpoint = transport.endpoint;
  }
}
