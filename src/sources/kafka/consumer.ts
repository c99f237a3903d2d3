// Trace role (docs/scale-out.md): a consumer group reads the topic and runs the write path per
// partition. Each assigned partition has its own Pipeline (its version cache: what diffs need),
// so one object, always on one partition, always has exactly one writer.
//
// A batch of one partition is traced in one transaction, its spans written to the sink, and only
// once the sink acknowledged all of them are the pipeline's state committed and the partition's
// offset committed past the batch. A crash anywhere before that redelivers the batch to whoever
// owns the partition next; derived span IDs make the repeat invisible on the read path.
//
// Newly assigned partition (start, rebalance, a tracer died): before tracing from its committed
// offset, the consumer seeks back by the warm-up span (a timestamp lookup) and re-reads those
// messages in warm mode (Pipeline.warm: state only, no spans), so the first update it traces
// still has its diff. A revoked partition's state is dropped. Messages that are not ours (not
// JSON, wrong shape) are reported, skipped and committed with the rest: no crash loop.
//
// Start: the topic may not exist yet (receivers create it, and a Helm install starts receivers and
// tracers together) and Kafka may not answer yet. start() waits for both with backoff, and until
// it subscribed, waiting() says why (/readyz reports it, not ready).
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import { quietKafkajsNegativeTimeout } from './kafkajs-warning.ts';
import type { SpanSink } from '../../core/sink.ts';
import type { SpanRecord } from '../../core/model.ts';
import { log as rootLog, type Logger } from '../../core/log.ts';
import { eventLag, kafkaConsumerLag, kafkaMessagesConsumed, kafkaRebalances, kafkaWarmupSeconds } from '../../core/metrics.ts';
import type { IngestResult, Pipeline, PipelineTransaction, WatchChange } from '../../pipeline/pipeline.ts';
import { decodeMessage, type TopicMessage } from './messages.ts';
import { CommitEngine, type Batch } from '../../pipeline/engine.ts';

export interface TracerOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  sink: SpanSink;
  /** A fresh pipeline for a newly assigned partition. */
  newPipeline: () => Pipeline;
  /** Re-read this much (by message timestamp) before a newly assigned partition's committed offset. 0: none. */
  warmupMs: number;
  clientId?: string;
  /** Consumer group session timeout: how long a dead tracer holds its partitions. Default 30 s. */
  sessionTimeoutMs?: number;
  /** Partitions traced concurrently by this process. Default 4. */
  concurrency?: number;
  logger?: Logger;
}

interface PartitionState {
  pipeline: Pipeline;
  /** Next offset this state expects; another one means the state is not the partition's. */
  next: bigint;
  /** While warming: the committed offset tracing resumes at (messages below it are warm). */
  warmUntil?: bigint;
  warmStart?: number;
}

export interface ConsumedCounts {
  traced: number;
  warm: number;
  bad: number;
}

function ingest(tx: PipelineTransaction, m: TopicMessage): IngestResult {
  switch (m.kind) {
    case 'audit':
      return tx.auditEvent(m.item, m.cluster);
    case 'kube-event':
      return tx.kubeEvent(m.item, m.cluster);
    case 'watch':
      return tx.watchChange(m.item as WatchChange, m.cluster);
  }
}

export class KafkaTracer {
  readonly counts: ConsumedCounts = { traced: 0, warm: 0, bad: 0 };
  readonly #o: TracerOptions;
  readonly #kafka: Kafka;
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #logger: Logger;
  readonly #states = new Map<number, PartitionState>();
  #running = false;
  #waiting: string | undefined = 'not started';
  readonly #stopping = new AbortController();
  /** Commits a batch's state only once the sink acknowledged its spans; a full sink is waited for, a failed write retried. */
  readonly #engine: CommitEngine<SpanRecord>;

  constructor(opts: TracerOptions) {
    quietKafkajsNegativeTimeout();
    this.#o = opts;
    this.#engine = new CommitEngine(opts.sink, { whenFull: 'wait', retry: { initialMs: 500, maxMs: 30_000 } });
    this.#logger = opts.logger ?? rootLog.child({ component: 'kafka-tracer', topic: opts.topic });
    this.#kafka = new Kafka({ clientId: opts.clientId ?? 'kubetrail-tracer', brokers: opts.brokers, logLevel: logLevel.NOTHING });
    this.#consumer = this.#kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.max(500, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 10)),
      allowAutoTopicCreation: false,
    });
    this.#admin = this.#kafka.admin();
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, (e) => {
      kafkaRebalances.inc();
      const assigned = new Set(e.payload.memberAssignment[opts.topic] ?? []);
      for (const p of [...this.#states.keys()]) {
        if (!assigned.has(p)) this.#drop(p);
      }
      this.#logger.info({ partitions: [...assigned].sort((a, b) => a - b) }, 'partitions assigned');
    });
    this.#consumer.on(this.#consumer.events.CRASH, (e) => {
      this.#logger.error({ err: (e.payload.error as Error)?.message, restart: e.payload.restart }, 'consumer crashed');
    });
  }

  /** Partitions this tracer holds state for. */
  partitions(): number[] {
    return [...this.#states.keys()].sort((a, b) => a - b);
  }

  /** Why this tracer does not trace yet (the topic does not exist, Kafka does not answer), or undefined once it does. */
  waiting(): string | undefined {
    return this.#waiting;
  }

  /**
   * Subscribes and starts tracing; until the topic exists and Kafka answers, retries with backoff
   * (0.5 s doubling to 10 s), logging each new reason. Resolves once tracing, or when stopped.
   */
  async start(): Promise<void> {
    for (let attempt = 0; !this.#stopping.signal.aborted; attempt++) {
      try {
        if (await this.#subscribe()) break;
      } catch (err) {
        this.#wait(`Kafka did not answer: ${(err as Error).message}`);
        await this.#consumer.disconnect().catch(() => undefined);
        await this.#admin.disconnect().catch(() => undefined);
      }
      await sleep(Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)), undefined, { signal: this.#stopping.signal }).catch(() => undefined);
    }
    if (this.#stopping.signal.aborted) return;
    this.#running = true;
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#o.concurrency ?? 4,
      eachBatch: (payload) => this.#batch(payload),
    });
    this.#waiting = undefined;
    this.#logger.info({ group: this.#o.groupId, warmupMs: this.#o.warmupMs }, 'tracing from Kafka');
  }

  /** Subscribed (true), or the topic does not exist yet (false, reason recorded). */
  async #subscribe(): Promise<boolean> {
    await this.#admin.connect();
    const topics = await this.#admin.listTopics();
    if (!topics.includes(this.#o.topic)) {
      this.#wait(`topic ${this.#o.topic} does not exist yet (a receiver creates it, or create it yourself)`);
      return false;
    }
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [this.#o.topic], fromBeginning: true });
    return true;
  }

  #wait(reason: string): void {
    if (reason !== this.#waiting) this.#logger.warn({ reason }, 'waiting to subscribe to the topic');
    this.#waiting = reason;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    if (!this.#running) {
      await this.#consumer.disconnect().catch(() => undefined);
      await this.#admin.disconnect().catch(() => undefined);
      return;
    }
    this.#running = false;
    await this.#consumer.disconnect(); // waits for the batches being traced
    await this.#admin.disconnect();
    for (const p of [...this.#states.keys()]) this.#drop(p);
  }

  #drop(partition: number): void {
    this.#states.delete(partition);
    kafkaConsumerLag.remove({ topic: this.#o.topic, partition: String(partition) });
  }

  /** The state to trace a batch starting at `first` with, or a seek back to warm up first (undefined). */
  async #stateFor(partition: number, first: bigint, firstTimestamp: number): Promise<PartitionState | undefined> {
    const st = this.#states.get(partition);
    if (st && (first === st.next || (st.warmUntil !== undefined && first <= st.warmUntil && first >= st.next))) return st;
    if (st) this.#logger.info({ partition, expected: String(st.next), got: String(first) }, 'partition resumed elsewhere than its state: rebuilding it');
    const fresh: PartitionState = { pipeline: this.#o.newPipeline(), next: first };
    this.#states.set(partition, fresh);
    if (this.#o.warmupMs <= 0) return fresh;
    const offsets = await this.#admin.fetchTopicOffsetsByTimestamp(this.#o.topic, firstTimestamp - this.#o.warmupMs);
    const found = offsets.find((o) => o.partition === partition);
    const start = found ? BigInt(found.offset) : -1n;
    if (start < 0n || start >= first) return fresh;
    fresh.warmUntil = first;
    fresh.warmStart = performance.now();
    fresh.next = start;
    this.#logger.info({ partition, from: String(start), until: String(first) }, 'warming up partition state');
    this.#consumer.seek({ topic: this.#o.topic, partition, offset: String(start) });
    return undefined;
  }

  /** A batch's messages from the state's next offset on: warm ones into the state only, the rest traced; bad ones reported and skipped. */
  #feed(st: PartitionState, partition: number, messages: KafkaMessage[], b: Batch<PipelineTransaction, SpanRecord>) {
    const counts: ConsumedCounts = { traced: 0, warm: 0, bad: 0 };
    const stageTimes: number[] = [];
    let last = -1n;
    for (const m of messages) {
      const offset = BigInt(m.offset);
      if (offset < st.next) continue;
      last = offset;
      const msg = decodeMessage(m.value);
      const warm = st.warmUntil !== undefined && offset < st.warmUntil;
      if ('error' in msg) {
        if (!warm) {
          counts.bad++;
          this.#logger.warn({ partition, offset: m.offset, reason: msg.error }, 'skipping bad message');
        }
        continue;
      }
      if (warm) {
        const r = st.pipeline.warm((t) => ingest(t, msg));
        counts.warm++;
        if (r.error) this.#logger.debug({ partition, offset: m.offset, reason: r.error }, 'warm-up message not traceable');
        continue;
      }
      const r = b.trace((tx) => ingest(tx, msg));
      if (r.error) {
        counts.bad++;
        this.#logger.warn({ partition, offset: m.offset, kind: msg.kind, cluster: msg.cluster, reason: r.error }, 'skipping message the pipeline refused');
      } else {
        counts.traced++;
        const ts = msg.kind === 'audit' ? (msg.item as { stageTimestamp?: unknown }).stageTimestamp : undefined;
        if (typeof ts === 'string') stageTimes.push(Date.parse(ts) / 1000);
      }
    }
    return { counts, stageTimes, last };
  }

  async #batch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { partition, topic } = batch;
    kafkaConsumerLag.set({ topic, partition: String(partition) }, Number(batch.offsetLag()));
    if (batch.messages.length === 0) return;
    const first = BigInt(batch.messages[0]!.offset);
    const st = await this.#stateFor(partition, first, Number(batch.messages[0]!.timestamp));
    if (!st) return; // seeking back to warm up

    // nothing new in this batch (all of it below what the state already traced)
    if (BigInt(batch.messages.at(-1)!.offset) < st.next) return;

    // the sink retries by itself; a failure it reports is retried here, never skipped (the
    // engine waits for a full sink); a revoked partition gives the batch up, rolled back
    const { value, refused } = await this.#engine.batch(st.pipeline.begin(), (b) => this.#feed(st, partition, batch.messages, b), {
      alive: () => isRunning() && !isStale(),
      between: heartbeat,
      onRetry: (err, spans, _attempt, retryInMs) =>
        this.#logger.warn({ partition, spans, retryInMs, err: err.message }, 'sink write failed, retrying the batch'),
    });
    if (refused) return;
    const { counts, stageTimes, last } = value;
    st.next = last + 1n;
    // end to end, as in single-process mode: stageTimestamp → spans durable (here: through Kafka)
    const now = Date.now() / 1000;
    for (const t of stageTimes) if (Number.isFinite(t)) eventLag.observe(Math.max(0, now - t));
    this.counts.traced += counts.traced;
    this.counts.warm += counts.warm;
    this.counts.bad += counts.bad;
    kafkaMessagesConsumed.inc({ outcome: 'traced' }, counts.traced);
    kafkaMessagesConsumed.inc({ outcome: 'warm' }, counts.warm);
    kafkaMessagesConsumed.inc({ outcome: 'bad' }, counts.bad);
    resolveOffset(String(last)); // fetch on from here (committing is ours, below)
    if (st.warmUntil !== undefined) {
      if (st.next < st.warmUntil) return; // still warming: the committed offset is already past these
      kafkaWarmupSeconds.observe((performance.now() - (st.warmStart ?? 0)) / 1000);
      this.#logger.info({ partition, messages: counts.warm }, 'partition warm, tracing');
      st.warmUntil = undefined;
    }
    await this.#consumer.commitOffsets([{ topic, partition, offset: String(st.next) }]);
    await heartbeat();
  }
}
