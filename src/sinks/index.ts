// Picks the sink from the command line: --otlp-endpoint (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
// OTEL_EXPORTER_OTLP_ENDPOINT) → OTLP gRPC to a collector such as Jaeger; otherwise the embedded
// SQLite store (--store FILE or the default file). Either way the sink is a queued writer
// (queued-writer.ts) in front of a transport; its limits come from the flags, then (OTLP only) the
// OpenTelemetry OTEL_BSP_* variables, then the sink's defaults.
import type { SpanSink } from '../core/sink.ts';
import { OtlpSink, defaultOtlpEndpoint } from './otlp.ts';
import { SqliteStore, defaultStorePath } from './sqlite-store.ts';
import type { WriterLimits } from './queued-writer.ts';

export { QueuedWriter, DEFAULT_LIMITS, type WriterLimits } from './queued-writer.ts';
export { ExportError, type Transport } from './transport.ts';

export interface SinkOptions {
  otlpEndpoint?: string;
  store?: string;
  /** Ignore the OTEL_* environment variables (tests, demo). */
  ignoreEnv?: boolean;
  /** Writer limits from the command line (win over the environment and the defaults). */
  limits?: Partial<WriterLimits>;
  /** Deadline of one OTLP export request. */
  otlpTimeoutMs?: number;
  otlpCompression?: 'gzip' | 'none';
}

export interface ChosenSink {
  sink: SpanSink;
  kind: 'otlp' | 'store';
  /** Set when kind is 'store': the same object serves the read path. */
  store?: SqliteStore;
  describe: string;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got '${raw}'`);
  return n;
}

/** The OpenTelemetry batch span processor and exporter variables that map onto the OTLP writer. */
export function otlpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  limits: Partial<WriterLimits>;
  timeoutMs?: number;
  compression?: 'gzip' | 'none';
} {
  const limits: Partial<WriterLimits> = {};
  const set = <K extends keyof WriterLimits>(k: K, v: number | undefined) => {
    if (v !== undefined) limits[k] = v;
  };
  set('maxQueueSpans', envInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE'));
  set('maxBatchSpans', envInt(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'));
  const delay = env.OTEL_BSP_SCHEDULE_DELAY?.trim();
  if (delay) {
    const n = Number(delay);
    if (!Number.isInteger(n) || n < 0) throw new Error(`OTEL_BSP_SCHEDULE_DELAY: expected milliseconds, got '${delay}'`);
    limits.scheduleDelayMs = n;
  }
  set('maxAttributeBytes', envInt(env, 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? envInt(env, 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'));
  const timeoutMs = envInt(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? envInt(env, 'OTEL_EXPORTER_OTLP_TIMEOUT') ?? envInt(env, 'OTEL_BSP_EXPORT_TIMEOUT');
  const c = (env.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION)?.trim();
  if (c && c !== 'gzip' && c !== 'none') throw new Error(`OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none, got '${c}'`);
  return { limits, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(c ? { compression: c as 'gzip' | 'none' } : {}) };
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function createSink(opts: SinkOptions): ChosenSink {
  if (opts.otlpEndpoint && opts.store) throw new Error('choose one sink: --otlp-endpoint or --store');
  const env = opts.ignoreEnv ? {} : process.env;
  const endpoint = opts.otlpEndpoint ?? (opts.store ? undefined : defaultOtlpEndpoint(env));
  if (endpoint) {
    const fromEnv = otlpSettingsFromEnv(env);
    const otlp = new OtlpSink({
      endpoint,
      ...fromEnv.limits,
      ...defined(opts.limits),
      timeoutMs: opts.otlpTimeoutMs ?? fromEnv.timeoutMs,
      compression: opts.otlpCompression ?? fromEnv.compression,
    });
    return { sink: otlp, kind: 'otlp', describe: `OTLP gRPC ${otlp.endpoint}` };
  }
  const store = new SqliteStore(opts.store ?? defaultStorePath(), defined(opts.limits));
  return { sink: store, kind: 'store', store, describe: `store ${store.path}` };
}

/**
 * Kept for callers written before the queued writer: the sinks count their spans (written, failed)
 * and expose their queue depth themselves, labelled with their name, so this returns the sink as is.
 */
export function instrument(inner: SpanSink, _kind?: string): SpanSink {
  return inner;
}
