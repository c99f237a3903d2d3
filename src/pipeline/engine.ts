// The engine that commits. Every source (webhook, replay, informers, Kafka tracer) does the same
// thing with what it decoded: trace it in a transaction, write the records to the sink, commit the
// transaction once the sink acknowledged them, and refuse (roll back) when it cannot. This is that
// thing, once. A source decodes its input, feeds the engine, and maps the engine's answer to its
// protocol: an HTTP status (webhook), a committed offset (Kafka), a paused watch (informers), a
// wait (replay).
//
// What a full or failing sink does to a write is the source's refusal policy:
//   whenFull 'refuse' — the write is refused at once (the webhook answers 429);
//   whenFull 'wait'   — the write waits until the sink has room again (replay, informers, Kafka);
//   no retry          — a failed write is refused (webhook 503, replay stops);
//   retry             — a failed write is tried again after a backoff until durable (informers, Kafka).
//
// Records are spans for the span sink; in the receive role of scale-out they are Kafka messages and
// the "transaction" stages nothing (src/sources/kafka/producer.ts), the same engine all the same.
import { SinkFullError, untilWritable } from '../core/sink.ts';

/** Where the engine writes: a SpanSink, or (receive role) the Kafka publisher. */
export interface RecordSink<R> {
  /** Resolves once the records are durable; rejects with SinkFullError when full, else with the cause. */
  write(records: R[]): Promise<void>;
  full(): boolean;
  pending(): number;
  writable?(): Promise<void>;
}

/** What one input becomes inside a transaction: records for the sink, or why not. */
export interface Traced<R> {
  spans: R[];
  skipped?: string;
  error?: string;
}

/** The staged state of a transaction (src/pipeline/pipeline.ts PipelineTransaction). */
export interface Staged {
  mark(): number;
  commit(mark?: number): void;
  rollback(): void;
}

/** The transaction of a source whose records carry no pipeline state (receive role: Kafka messages). */
export const STATELESS: Staged = { mark: () => 0, commit: () => undefined, rollback: () => undefined };

export interface RefusalPolicy {
  /** A full sink: refuse the write, or wait until the sink has room again. */
  whenFull: 'refuse' | 'wait';
  /** A write the sink failed: refused when absent; else tried again, the wait doubling from `initialMs` up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number; onRetry?: (err: Error, records: number, attempt: number, delayMs: number) => void };
}

/** Why the engine did not commit: the sink was full, failed, or the source gave the write up. */
export interface Refusal {
  reason: 'full' | 'unavailable' | 'abandoned';
  error?: Error;
}

export interface WriteOptions {
  /** Asked before each attempt; false gives the write up (Kafka: the partition was revoked). */
  alive?: () => boolean;
  /** Between attempts (Kafka: a heartbeat, so a long outage does not cost the partition). */
  between?: () => Promise<unknown>;
  /** Reports a failed write about to be retried (default: the policy's). */
  onRetry?: NonNullable<RefusalPolicy['retry']>['onRetry'];
}

/** An input traced: its result, and the exception the pipeline threw on it, if it did. */
export type TraceResult<R> = Traced<R> & { thrown?: Error };

/** Runs one input through the transaction; a pipeline exception becomes the input's error. */
function traceOne<Tx, R>(tx: Tx, fn: (tx: Tx) => Traced<R>): TraceResult<R> {
  try {
    return fn(tx);
  } catch (err) {
    return { spans: [], error: `pipeline error: ${(err as Error).message}`, thrown: err as Error };
  }
}

/** A batch being fed: its transaction, and the records of the inputs traced so far. */
export class Batch<Tx extends Staged, R> {
  readonly tx: Tx;
  readonly records: R[] = [];

  constructor(tx: Tx) {
    this.tx = tx;
  }

  trace(fn: (tx: Tx) => Traced<R>): TraceResult<R> {
    const r = traceOne(this.tx, fn);
    for (const s of r.spans) this.records.push(s);
    return r;
  }
}

/** The answer to a batch: what the source's feeding returned, the records, and the refusal if there was one. */
export interface BatchAnswer<V, R> {
  value: V;
  records: R[];
  refused?: Refusal;
}

export class CommitEngine<R> {
  readonly sink: RecordSink<R>;
  readonly #policy: RefusalPolicy;
  readonly #onChange: (() => void) | undefined;
  #pending = 0;
  #idle: (() => void)[] = [];

  /** `onChange`: called whenever the records not yet durable change (the informers' pause policy). */
  constructor(sink: RecordSink<R>, policy: RefusalPolicy, onChange?: () => void) {
    this.sink = sink;
    this.#policy = policy;
    this.#onChange = onChange;
  }

  /** Whether a batch is refused before it is traced: a full sink, under the 'refuse' policy. */
  refusing(): boolean {
    return this.#policy.whenFull === 'refuse' && this.sink.full();
  }

  /** Records handed to the sink and not yet durable. */
  pending(): number {
    return this.#pending;
  }

  /** Resolves when every record handed over is durable (or refused). */
  drain(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Writes records under the policy: undefined once durable, else why not. */
  write(records: R[], opts: WriteOptions = {}): Promise<Refusal | undefined> {
    this.#pending += records.length;
    const done = this.#durable(records, opts).finally(() => {
      this.#pending -= records.length;
      this.#onChange?.();
      if (this.#pending === 0) for (const w of this.#idle.splice(0)) w();
    });
    this.#onChange?.();
    return done;
  }

  /**
   * One batch in a transaction of its own (webhook EventList, Kafka partition batch): `feed` traces
   * its inputs; the records are written, and the transaction commits once the sink acknowledged
   * them, or rolls back when refused, so a retry of the batch is traced as the first attempt was.
   */
  async batch<Tx extends Staged, V>(tx: Tx, feed: (b: Batch<Tx, R>) => V, opts?: WriteOptions): Promise<BatchAnswer<V, R>> {
    const b = new Batch<Tx, R>(tx);
    const value = feed(b);
    const refused = await this.write(b.records, opts);
    if (refused) tx.rollback();
    else tx.commit();
    return { value, records: b.records, refused };
  }

  /** A transaction as long-lived as its source (replay, informers), committed step by step. */
  stream<Tx extends Staged>(tx: Tx): CommitStream<Tx, R> {
    return new CommitStream(this, tx, () => this.#onChange?.());
  }

  async #durable(records: R[], opts: WriteOptions): Promise<Refusal | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (opts.alive && !opts.alive()) return { reason: 'abandoned' };
      try {
        await this.sink.write(records);
        return undefined;
      } catch (err) {
        if (err instanceof SinkFullError) {
          if (this.#policy.whenFull === 'refuse') return { reason: 'full', error: err };
          await untilWritable(this.sink);
        } else {
          const retry = this.#policy.retry;
          if (!retry) return { reason: 'unavailable', error: err as Error };
          const delay = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt, 16));
          (opts.onRetry ?? retry.onRetry)?.(err as Error, records.length, attempt + 1, delay);
          await new Promise((r) => setTimeout(r, delay));
        }
        await opts.between?.().catch(() => undefined);
      }
    }
  }
}

/**
 * A long-lived transaction: every input sees the state of every earlier one, and the state takes
 * an input once the records of the inputs up to it are durable (at once when they produced none).
 */
export class CommitStream<Tx extends Staged, R> {
  readonly #engine: CommitEngine<R>;
  readonly tx: Tx;
  readonly #changed: () => void;

  constructor(engine: CommitEngine<R>, tx: Tx, changed: () => void) {
    this.#engine = engine;
    this.tx = tx;
    this.#changed = changed;
  }

  trace(fn: (tx: Tx) => Traced<R>): TraceResult<R> {
    return traceOne(this.tx, fn);
  }

  /** Writes the records of the inputs traced since the last call; commits them once durable. */
  async commit(records: R[], opts?: WriteOptions): Promise<Refusal | undefined> {
    const mark = this.tx.mark();
    if (records.length === 0) {
      this.tx.commit(mark);
      this.#changed();
      return undefined;
    }
    const refused = await this.#engine.write(records, opts);
    if (!refused) this.tx.commit(mark);
    return refused;
  }
}
