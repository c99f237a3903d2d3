// What a queued writer (queued-writer.ts) exports batches through. A transport does one thing: send
// one batch, once, and say how it went. Queueing, batching, retries, metrics and flush belong to the
// writer, as in OpenTelemetry where the batch span processor sits in front of an exporter.
import type { SpanRecord } from '../core/model.ts';
import type { FactsFeed } from './facts-feed.ts';

/**
 * How an export failed, which decides what the writer does next:
 * - `transient`: the receiver is down, slow or out of space; retry the same batch with backoff.
 * - `too-large`: the request exceeded the receiver's message limit; split the batch and resend.
 * - `permanent`: retrying cannot help (bad data, unauthenticated, unimplemented): fail those spans.
 */
export type FailureKind = 'transient' | 'too-large' | 'permanent';

export class ExportError extends Error {
  readonly kind: FailureKind;
  /** The receiver's code, e.g. a gRPC status name or SQLITE_FULL. */
  readonly code: string | undefined;
  constructor(message: string, kind: FailureKind, code?: string) {
    super(message);
    this.name = 'ExportError';
    this.kind = kind;
    this.code = code;
  }
}

export interface Transport {
  /** For logs and error messages, e.g. `OTLP export to http://jaeger:4317`, `store write to /x.sqlite`. */
  readonly label: string;
  /** Sends one batch. Resolves once it is durable; rejects with an ExportError (anything else counts as transient). */
  export(batch: SpanRecord[]): Promise<void>;
  /**
   * A cheap write that succeeds only if a real export would (e.g. a commit of as many bytes, an
   * empty request); the writer calls it while unhealthy and idle, so health recovers without
   * traffic. `bytes`: the estimated size of the last batch that failed (a probe that needs space,
   * as the store's does, needs as much as that batch).
   */
  probe?(bytes: number): Promise<void>;
  /** Hands the facts of every acknowledged batch to this feed (facts-feed.ts); transports that compute facts have it. */
  feedFacts?(feed: FactsFeed): void;
  /** Releases the connection/thread; called once, after the writer flushed. */
  shutdown(): Promise<void>;
}
