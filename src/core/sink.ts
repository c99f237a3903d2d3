import type { SpanRecord } from './model.ts';

/** Thrown by SpanSink.write when the sink is over capacity; callers answer non-2xx so clients retry. */
export class SinkFullError extends Error {
  constructor(message = 'span sink is full') {
    super(message);
    this.name = 'SinkFullError';
  }
}

/**
 * Where spans go: a queued writer (src/sinks/queued-writer.ts) in front of a transport — OTLP gRPC to
 * a collector such as Jaeger, or the embedded SQLite store. Bounded and observable; neither loses
 * data silently.
 */
export interface SpanSink {
  /**
   * Resolves once the spans are durable (stored, or acknowledged by the collector). Rejects with
   * SinkFullError when full, and with an error naming the cause when the spans could not be made durable.
   */
  write(spans: SpanRecord[]): Promise<void>;
  /** Spans accepted but not yet durable. */
  pending(): number;
  /** True while write() would be refused. */
  full(): boolean;
  /** Waits until everything accepted is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** False while the sink's exports fail (it recovers by itself once one succeeds). Absent = always healthy. */
  healthy?(): boolean;
  /** Why the sink is unhealthy, e.g. `store write to /x.sqlite failed: SQLITE_FULL: database or disk is full`. */
  lastError?(): string | undefined;
  /** Resolves once write() would be accepted again (not full). Absent: poll full(). */
  writable?(): Promise<void>;
}

/** Waits until `sink` would accept a write again (its writable(), or a short pause for sinks without one). */
export function untilWritable(sink: Pick<SpanSink, 'writable'>, pollMs = 50): Promise<void> {
  if (sink.writable) return sink.writable();
  return new Promise((r) => setTimeout(r, pollMs));
}
