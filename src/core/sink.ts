import type { SpanRecord } from './model.ts';

/** Thrown by SpanSink.write when the sink is over capacity; callers answer non-2xx so clients retry. */
export class SinkFullError extends Error {
  constructor(message = 'span sink is full') {
    super(message);
    this.name = 'SinkFullError';
  }
}

/**
 * Where spans go: OTLP gRPC to a Jaeger collector (otlp.ts) or the embedded SQLite store (sqlite-store.ts).
 * Bounded and observable; neither loses data silently.
 */
export interface SpanSink {
  /** Resolves once the spans are durable (stored, or acknowledged by the collector). Rejects with SinkFullError when full. */
  write(spans: SpanRecord[]): Promise<void>;
  /** Spans accepted but not yet durable. */
  pending(): number;
  /** True while write() would be refused. */
  full(): boolean;
  /** Waits until everything accepted is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
