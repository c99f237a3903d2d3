// Informers in receive role: this is their WatchIngest and their sink (src/sources/informers/):
// each change becomes a message, published to the topic instead of traced, keyed like audit
// events, as `watch` and `kube-event` messages. Changes are sent in order, in batches, each
// retried until Kafka acknowledged it (informer callbacks cannot be refused like a webhook batch
// can). Bounded: at `maxQueued` messages the sink reports full and the informers pause
// (src/sources/informers/watch-writer.ts: the watches close and later resume from the last
// resourceVersion, so the API server keeps what was not read) until the queue is down to half.
// A receiver that dies loses what was queued, and the next leader's initial list re-reads the
// current state (the tracers de-duplicate by derived IDs).
import { log as rootLog, type Logger } from '../../core/log.ts';
import { STATELESS, type Traced } from '../../pipeline/engine.ts';
import type { KafkaPublisher } from './producer.ts';
import type { TopicMessage } from './messages.ts';

const BATCH = 500;
/** Messages queued for Kafka at which the informers pause (docs/scale-out.md). */
export const DEFAULT_MAX_QUEUED = 20_000;

export class WatchPublisher {
  readonly #p: Pick<KafkaPublisher, 'publish'>;
  readonly #logger: Logger;
  readonly #max: number;
  #queue: TopicMessage[] = [];
  #sending: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #roomWaiters: (() => void)[] = [];
  published = 0;

  constructor(p: Pick<KafkaPublisher, 'publish'>, opts: { logger?: Logger; maxQueued?: number } = {}) {
    this.#p = p;
    this.#logger = opts.logger ?? rootLog.child({ component: 'watch-publisher' });
    this.#max = Math.max(1, opts.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  /** Whether the queue reached its bound (the informers pause). */
  full(): boolean {
    return this.#queue.length >= this.#max;
  }

  /** A WatchIngest (src/sources/informers/index.ts): its "transaction" makes each change a message and stages nothing. */
  begin() {
    const message = (kind: 'watch' | 'kube-event', item: unknown, cluster: string): Traced<TopicMessage> => ({ spans: [{ v: 1, cluster, kind, item }] });
    return {
      ...STATELESS,
      watchChange: (change: { type: string; object: unknown; group: string; version: string; resource: string }, cluster: string) =>
        message('watch', change, cluster),
      kubeEvent: (obj: unknown, cluster: string) => message('kube-event', obj, cluster),
    };
  }

  /**
   * The informers' sink: messages are accepted once queued, and the queue sends them in order,
   * each batch retried until Kafka acknowledged it (informer callbacks cannot be refused).
   */
  write(messages: TopicMessage[]): Promise<void> {
    for (const m of messages) this.#queue.push(m);
    this.#kick();
    return Promise.resolve();
  }

  /** Room again: the queue is down to half its bound. */
  writable(): Promise<void> {
    return this.#queue.length <= this.#max / 2 ? Promise.resolve() : new Promise<void>((r) => this.#roomWaiters.push(r));
  }

  pending(): number {
    return this.#queue.length;
  }

  drain(): Promise<void> {
    if (this.#queue.length === 0 && !this.#sending) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #kick(): void {
    if (this.#sending) return;
    this.#sending = (async () => {
      let attempt = 0;
      while (this.#queue.length > 0) {
        const batch = this.#queue.slice(0, BATCH);
        try {
          await this.#p.publish(batch);
          this.#queue.splice(0, batch.length);
          this.published += batch.length;
          attempt = 0;
          if (this.#queue.length <= this.#max / 2) for (const w of this.#roomWaiters.splice(0)) w();
        } catch (err) {
          const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt++, 6));
          this.#logger.warn({ queued: this.#queue.length, retryInMs: delay, err: (err as Error).message }, 'watch changes not published yet, retrying');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })().finally(() => {
      this.#sending = undefined;
      if (this.#queue.length > 0) this.#kick();
      else for (const w of [...this.#idle.splice(0), ...this.#roomWaiters.splice(0)]) w();
    });
  }
}
