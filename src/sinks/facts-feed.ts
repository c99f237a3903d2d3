// The facts hand-over of a sink's writer thread: the OTLP export worker (otlp-worker.ts) and the
// store writer (sqlite-writer.ts) compute the diagnosis' facts of every span they write (facts
// spans, the facts table). A consumer that wants the facts of what the sink acknowledged — the live
// findings (frontend-plugin/diagnose/live.ts) — registers a FactsFeed with the sink: each time the
// writer thread starts, the feed opens a MessageChannel, and the thread posts the facts of every
// acknowledged batch on it, after the receiver (Jaeger, the SQLite commit) acknowledged the batch
// and before the writer answers the main thread. The facts go from thread to thread: the main
// thread (the webhook's) never copies them.
//
// Bounded: a shared counter holds the batches posted and not taken yet; at FEED_MAX_QUEUED_BATCHES
// the writer skips a batch (counted in the same buffer) instead of queuing without bound.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { EncodedFacts } from '../core/fact-spans.ts';

/** Batches of facts posted and not taken yet, at most; beyond, a batch is skipped (counted). */
export const FEED_MAX_QUEUED_BATCHES = 256;

/**
 * One acknowledged batch's facts: FactsPayload JSON (src/core/fact-spans.ts) per cluster, with the
 * facts' start times, so a consumer can keep them as they are and parse them only when it reads them.
 */
export interface FactsBatch {
  payloads: EncodedFacts[];
}

/** One end of a feed channel: the port and the shared counters [batches queued, facts skipped]. */
export interface FeedEnd {
  port: MessagePort;
  counters: Int32Array;
}

/** Called each time a writer thread starts: opens a channel to the consumer, returns the writer's end. */
export type FactsFeed = () => FeedEnd;

/** A sink that hands over the facts of what it acknowledged (both sinks of src/sinks/index.ts). */
export interface FactsSource {
  /** Registers the feed; before the first write (the writer thread takes it when it starts). */
  feedFacts(feed: FactsFeed): void;
}

export const isFactsSource = (sink: object): sink is FactsSource => typeof (sink as Partial<FactsSource>).feedFacts === 'function';

/** A channel: the writer's end and the consumer's, sharing the counters. */
export function factsChannel(): { writer: FeedEnd; consumer: FeedEnd } {
  const { port1, port2 } = new MessageChannel();
  const counters = new Int32Array(new SharedArrayBuffer(8));
  return { writer: { port: port1, counters }, consumer: { port: port2, counters } };
}

/** The writer's side: posts a batch's facts, or skips them while the consumer is FEED_MAX_QUEUED_BATCHES behind. */
export function postFacts(end: FeedEnd | undefined, batch: FactsBatch, count: number): void {
  if (!end || count === 0) return;
  if (Atomics.load(end.counters, 0) >= FEED_MAX_QUEUED_BATCHES) {
    Atomics.add(end.counters, 1, count);
    return;
  }
  Atomics.add(end.counters, 0, 1);
  end.port.postMessage(batch);
}

/** The consumer's side of one channel: takes batches as they come, and all that were posted so far on drain(). */
export class FactsReceiver {
  readonly #end: FeedEnd;
  readonly #take: (b: FactsBatch) => void;

  constructor(end: FeedEnd, take: (b: FactsBatch) => void) {
    this.#end = end;
    this.#take = take;
    end.port.on('message', (b: FactsBatch) => this.#got(b));
    end.port.unref();
  }

  #got(b: FactsBatch): void {
    Atomics.sub(this.#end.counters, 0, 1);
    this.#take(b);
  }

  /** Takes every batch posted before now (a batch acknowledged before a run is in that run). */
  drain(): void {
    for (let m = receiveMessageOnPort(this.#end.port); m; m = receiveMessageOnPort(this.#end.port)) this.#got(m.message as FactsBatch);
  }

  /** Facts the writer skipped because this side was behind. */
  skipped(): number {
    return Atomics.load(this.#end.counters, 1);
  }
}
