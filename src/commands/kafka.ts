// `kubetrail serve --kafka-brokers ...`: scale-out roles on Kafka (docs/scale-out.md).
//   receive: the audit webhook publishes what it accepts to the topic (2xx once Kafka acknowledged)
//   trace:   a consumer group member traces its partitions into the sink (OTLP or the store)
//   all:     both in one process
// Without --kafka-brokers, serve runs the single-process path of serve.ts unchanged.
import Fastify from 'fastify';
import { Option, type Command } from 'commander';
import { Pipeline } from '../pipeline/pipeline.ts';
import { createSink } from '../sinks/index.ts';
import { buildWebhookServer, loadTls, type WebhookServer } from '../sources/webhook.ts';
import { healthRoutes, metricsRoutes } from '../sources/health.ts';
import { KafkaPublisher, publisherHealth } from '../sources/kafka/producer.ts';
import { KafkaTracer } from '../sources/kafka/consumer.ts';
import { log } from '../core/log.ts';
import type { SpanSink } from '../core/sink.ts';
import { parseDurationMs, parsePositiveInt, tracerConfigFrom, writerOptionsFrom, type TracerCliOptions, type WriterCliOptions } from './options.ts';

export type KafkaRole = 'receive' | 'trace' | 'all';

export interface KafkaCliOptions {
  kafkaBrokers?: string;
  kafkaTopic: string;
  role: KafkaRole;
  kafkaGroup: string;
  kafkaWarmup: number;
  kafkaPartitions: number;
  kafkaSessionTimeout: number;
}

const GROUP = 'Scale-out on Kafka (docs/scale-out.md):';

export function addKafkaOptions(cmd: Command): Command {
  const opt = (o: Option) => cmd.addOption(o.helpGroup(GROUP));
  opt(new Option('--kafka-brokers <host:port,...>', 'scale out on this Kafka cluster (off: the single process traces everything itself)'));
  opt(new Option('--kafka-topic <name>', 'topic the receivers publish to and the tracers consume').default('kubetrail-audit'));
  opt(new Option('--role <role>', 'receive: webhook → topic; trace: topic → sink; all: both').choices(['receive', 'trace', 'all']).default('all'));
  opt(new Option('--kafka-group <id>', 'consumer group of the tracers').default('kubetrail'));
  opt(new Option('--kafka-warmup <duration>', 're-read this much before a newly assigned partition\'s committed offset to rebuild its diffs state').argParser(parseDurationMs).default(600_000, '10m'));
  opt(new Option('--kafka-partitions <n>', 'partitions of the topic when a receiver creates it (it exists: unchanged)').argParser(parsePositiveInt).default(12));
  opt(new Option('--kafka-session-timeout <duration>', 'how long a tracer that stopped answering keeps its partitions').argParser(parseDurationMs).default(30_000, '30s'));
  return cmd;
}

/** What serveKafka needs of serve's options (serve.ts ServeOptions has them). */
export interface KafkaServeOptions extends KafkaCliOptions, TracerCliOptions, WriterCliOptions {
  webhookPort: number;
  webhookHost: string;
  cluster: string;
  otlpEndpoint?: string;
  store?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  maxBodyBytes: number;
}

export async function serveKafka(o: KafkaServeOptions, token: string | undefined): Promise<void> {
  const brokers = (o.kafkaBrokers ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new Error('--kafka-brokers: give host:port[,host:port...]');
  const receive = o.role === 'receive' || o.role === 'all';
  const trace = o.role === 'trace' || o.role === 'all';

  let sink: SpanSink | undefined;
  let tracer: KafkaTracer | undefined;
  if (trace) {
    const chosen = createSink({ otlpEndpoint: o.otlpEndpoint, store: o.store, ...writerOptionsFrom(o) });
    sink = chosen.sink;
    const config = tracerConfigFrom(o);
    tracer = new KafkaTracer({
      brokers, topic: o.kafkaTopic, groupId: o.kafkaGroup, sink, warmupMs: o.kafkaWarmup, sessionTimeoutMs: o.kafkaSessionTimeout,
      newPipeline: () => new Pipeline(config),
    });
    log.info({ sink: chosen.describe }, 'tracer sink');
  }

  let publisher: KafkaPublisher | undefined;
  let webhook: WebhookServer | undefined;
  let health: ReturnType<typeof Fastify> | undefined;
  if (receive) {
    publisher = new KafkaPublisher({ brokers, topic: o.kafkaTopic, createPartitions: o.kafkaPartitions });
    // Kafka down at start is not fatal: batches get 503 (and /readyz says why) until it is back
    await publisher.connect().catch((err) => log.warn({ err: (err as Error).message }, 'Kafka not reachable yet'));
    const p = publisher;
    webhook = buildWebhookServer({
      sink: publisherHealth(p), publish: (items, cluster) => p.publishAudit(items, cluster),
      defaultCluster: o.cluster, maxBodyBytes: o.maxBodyBytes, token, tls: loadTls(o.tlsCert, o.tlsKey, o.clientCa),
    });
    await webhook.app.listen({ port: o.webhookPort, host: o.webhookHost });
  } else {
    // trace role: /healthz, /readyz (the sink) and /metrics on the webhook port
    const readiness = { draining: false };
    health = Fastify();
    healthRoutes(health, sink!, readiness);
    metricsRoutes(health);
    await health.listen({ port: o.webhookPort, host: o.webhookHost });
  }
  const server = (webhook?.app ?? health)!.server.address();
  const port = typeof server === 'object' && server ? server.port : o.webhookPort;
  if (tracer) await tracer.start();
  log.info({ role: o.role, brokers, topic: o.kafkaTopic, group: trace ? o.kafkaGroup : undefined, port }, receive ? 'audit webhook listening (POST /audit/:cluster), publishing to Kafka' : 'tracing from Kafka');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ signal }, 'draining');
    webhook?.startDraining();
    try {
      await webhook?.app.close();
      await publisher?.close();
      await tracer?.stop();
      await sink?.flush();
      await sink?.close();
      await health?.close();
      process.exit(0);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'drain failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
