// Receive role (docs/scale-out.md): the webhook and the informers publish what they accept to the
// topic instead of tracing it. A batch counts as accepted only once Kafka acknowledged every one
// of its messages (acks=all, idempotent producer); otherwise the caller answers 503 so the API
// server retries, and /readyz reports not ready until a send succeeds again. Every message is
// redacted first (redact-message.ts): no secret value reaches Kafka.
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { normalizeAudit } from '../../normalize/audit-event.ts';
import { log as rootLog, type Logger } from '../../core/log.ts';
import { kafkaMessagesProduced, kafkaProduceErrors, kafkaProduceSeconds } from '../../core/metrics.ts';
import { STATELESS, type Traced } from '../../pipeline/engine.ts';
import { encodeMessage, type TopicMessage } from './messages.ts';
import { quietKafkajsNegativeTimeout } from './kafkajs-warning.ts';
import { MessageRedactor } from './redact-message.ts';
import type { RedactionRule } from '../../core/config.ts';

export interface PublisherOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
  /** Create the topic with this many partitions when it does not exist (default: leave it to the broker/operator). */
  createPartitions?: number;
  /** The `--redact` rules (Secret values are always redacted before a message leaves this process). */
  redact?: RedactionRule[];
  logger?: Logger;
}

export class KafkaPublisher {
  readonly topic: string;
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #logger: Logger;
  readonly #createPartitions: number | undefined;
  readonly #redactor: MessageRedactor;
  #connecting: Promise<void> | undefined;
  #lastError: string | undefined;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;

  constructor(opts: PublisherOptions) {
    quietKafkajsNegativeTimeout();
    this.topic = opts.topic;
    this.#logger = opts.logger ?? rootLog.child({ component: 'kafka-producer' });
    this.#createPartitions = opts.createPartitions;
    this.#redactor = new MessageRedactor(opts.redact);
    this.#kafka = new Kafka({
      clientId: opts.clientId ?? 'kubetrail-receiver',
      brokers: opts.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      // a few quick retries, then the webhook answers 503 and the API server retries the batch
      retry: { initialRetryTime: 200, retries: 3, maxRetryTime: 2000 },
    });
    this.#producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // murmur2 like the Java client: the same key lands on the same partition from any producer
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    this.#producer.on(this.#producer.events.DISCONNECT, () => {
      this.#connecting = undefined;
    });
  }

  /** Connects (and creates the topic if asked); rejects while Kafka is unreachable, the next call tries again. */
  connect(): Promise<void> {
    this.#connecting ??= (async () => {
      if (this.#createPartitions) {
        const admin = this.#kafka.admin();
        await admin.connect();
        try {
          const topics = await admin.listTopics();
          if (!topics.includes(this.topic)) {
            await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: this.#createPartitions }], waitForLeaders: true });
            this.#logger.info({ topic: this.topic, partitions: this.#createPartitions }, 'created topic');
          }
        } finally {
          await admin.disconnect();
        }
      }
      await this.#producer.connect();
    })().catch((err) => {
      this.#connecting = undefined;
      this.#failed(`Kafka not reachable (${this.topic}): ${(err as Error).message}`);
      throw err;
    });
    return this.#connecting;
  }

  /** Resolves once Kafka acknowledged every message (all in-sync replicas), secret values redacted; rejects otherwise. */
  async publish(messages: TopicMessage[]): Promise<void> {
    if (messages.length === 0) return;
    if (this.#closed) throw new Error('Kafka producer is closed');
    const end = kafkaProduceSeconds.startTimer();
    try {
      await this.connect();
      await this.#producer.send({ topic: this.topic, acks: -1, messages: messages.map((m) => encodeMessage(this.#redactor.redact(m))) });
      end();
      this.#lastError = undefined;
      clearInterval(this.#probe);
      this.#probe = undefined;
      const byKind = new Map<string, number>();
      for (const m of messages) byKind.set(m.kind, (byKind.get(m.kind) ?? 0) + 1);
      for (const [kind, n] of byKind) kafkaMessagesProduced.inc({ kind }, n);
    } catch (err) {
      kafkaProduceErrors.inc();
      this.#failed(`Kafka did not acknowledge ${messages.length} messages on ${this.topic}: ${(err as Error).message}`);
      this.#logger.warn({ topic: this.topic, messages: messages.length, err: (err as Error).message }, 'publish failed');
      throw new Error(this.#lastError!);
    }
  }

  /**
   * Receive role, for the webhook's engine (src/sources/webhook.ts): a batch's "transaction" checks
   * each item's shape and makes an audit event a message; it stages no state. The publisher is the
   * engine's sink too (write = publish).
   */
  begin() {
    return {
      ...STATELESS,
      auditEvent: (item: unknown, cluster: string): Traced<TopicMessage> => {
        const n = normalizeAudit(item);
        if ('error' in n) return { spans: [], error: n.error };
        // stages other than ResponseComplete are intentionally not published
        if ('skipped' in n && n.skipped === 'stage') return { spans: [], skipped: 'stage' };
        return { spans: [{ v: 1, cluster, kind: 'audit', item }] };
      },
    };
  }

  write(messages: TopicMessage[]): Promise<void> {
    return this.publish(messages);
  }

  /** Never full: a batch waits for Kafka's acknowledgement, or fails (503). */
  full(): boolean {
    return false;
  }

  pending(): number {
    return 0;
  }

  /**
   * Unhealthy until Kafka answers again. Without traffic no send would tell (and a load balancer
   * sends none to a receiver that is not ready), so a probe asks the brokers for the topic's
   * metadata every 2 s until they answer.
   */
  #failed(reason: string): void {
    this.#lastError = reason;
    if (this.#probe || this.#closed) return;
    let busy = false;
    this.#probe = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        const admin = this.#kafka.admin();
        try {
          await admin.connect();
          await admin.fetchTopicMetadata({ topics: [this.topic] });
          await this.connect();
          this.#lastError = undefined;
          clearInterval(this.#probe);
          this.#probe = undefined;
          this.#logger.info({ topic: this.topic }, 'Kafka reachable again');
        } catch {
          // still down
        } finally {
          await admin.disconnect().catch(() => undefined);
          busy = false;
        }
      })();
    }, 2000);
    this.#probe.unref();
  }

  healthy(): boolean {
    return this.#lastError === undefined;
  }

  lastError(): string | undefined {
    return this.#lastError;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probe);
    await this.#producer.disconnect().catch(() => undefined);
  }
}
