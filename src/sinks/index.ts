// Picks the sink from the command line: --otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) → OTLP gRPC
// to a collector such as Jaeger; otherwise the embedded SQLite store (--store FILE or the default file).
import type { SpanRecord } from '../core/model.ts';
import { SinkFullError, type SpanSink } from '../core/sink.ts';
import { OtlpSink } from './otlp.ts';
import { SqliteStore, defaultStorePath } from './sqlite-store.ts';
import { sinkQueueDepth, spansFailed, spansWritten, trackSinkQueue } from '../core/metrics.ts';

export interface SinkOptions {
  otlpEndpoint?: string;
  store?: string;
  /** Ignore OTEL_EXPORTER_OTLP_ENDPOINT (tests, demo). */
  ignoreEnv?: boolean;
}

export interface ChosenSink {
  sink: SpanSink;
  kind: 'otlp' | 'store';
  /** Set when kind is 'store': the same object serves the read path. */
  store?: SqliteStore;
  describe: string;
}

export function createSink(opts: SinkOptions): ChosenSink {
  if (opts.otlpEndpoint && opts.store) throw new Error('choose one sink: --otlp-endpoint or --store');
  const endpoint = opts.otlpEndpoint ?? (opts.store || opts.ignoreEnv ? undefined : process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (endpoint) {
    const otlp = new OtlpSink({ endpoint });
    return { sink: instrument(otlp, 'otlp'), kind: 'otlp', describe: `OTLP gRPC ${otlp.endpoint}` };
  }
  const store = new SqliteStore(opts.store ?? defaultStorePath());
  return { sink: instrument(store, 'store'), kind: 'store', store, describe: `store ${store.path}` };
}

/** Counts spans made durable and exposes the queue depth, without the sinks knowing about metrics. */
export function instrument(inner: SpanSink, kind: string): SpanSink {
  trackSinkQueue(kind, () => inner.pending());
  const gauge = () => sinkQueueDepth.set({ sink: kind }, inner.pending());
  return {
    async write(spans: SpanRecord[]) {
      const p = inner.write(spans);
      gauge();
      try {
        await p;
        spansWritten.inc({ sink: kind }, spans.length);
      } catch (err) {
        // full is backpressure (the writer retries); anything else means these spans were not stored
        if (!(err instanceof SinkFullError)) spansFailed.inc({ sink: kind }, spans.length);
        throw err;
      } finally {
        gauge();
      }
    },
    pending: () => inner.pending(),
    full: () => inner.full(),
    flush: async () => {
      await inner.flush();
      gauge();
    },
    close: () => inner.close(),
  };
}
