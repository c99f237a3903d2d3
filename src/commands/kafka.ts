// `kubetrail serve --kafka-brokers ...`: scale-out roles on Kafka (docs/scale-out.md).
//   receive: the audit webhook publishes what it accepts to the topic (2xx once Kafka acknowledged)
//   trace:   a consumer group member traces its partitions into the sink (OTLP or the store)
//   all:     both in one process
// Without --kafka-brokers, serve runs the single-process path of serve.ts unchanged.
import Fastify from 'fastify';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
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
  kafkaLeaseNamespace: string;
  kafkaLeaseDuration: number;
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
  opt(new Option('--kafka-lease-namespace <ns>', 'receive role: namespace of the Lease that elects the one receiver running the informers').default('kube-system'));
  opt(new Option('--kafka-lease-duration <duration>', 'receive role: a dead informer leader is replaced after this long').argParser(parseDurationMs).default(15_000, '15s'));
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
  kubeconfig?: string;
  context?: string;
  listWatchOnly: boolean;
  events: boolean;
  watchResource: string[];
  ignoreWatchResource: string[];
}

export async function serveKafka(o: KafkaServeOptions, token: string | undefined, informers: boolean): Promise<void> {
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
      newPipeline: () => {
        const p = new Pipeline(config);
        if (o.listWatchOnly) p.setListWatchOnly(o.cluster, true); // the receivers' informer changes become the events
        return p;
      },
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
  let elector: { stop(): Promise<void> } | undefined;
  if (receive && informers && publisher) elector = await electedInformers(o, publisher);
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
      await elector?.stop();
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

/**
 * Receive role with informers: one receiver per cluster runs them, elected on a Lease
 * (src/sources/kafka/leader.ts); their changes go to the topic (watch-publisher.ts).
 */
async function electedInformers(o: KafkaServeOptions, publisher: KafkaPublisher): Promise<{ stop(): Promise<void> }> {
  const { loadKubeConfig } = await import('../sources/informers/kube-client.ts');
  const { startInformers } = await import('../sources/informers/index.ts');
  const { LeaseElector } = await import('../sources/kafka/leader.ts');
  const { WatchPublisher } = await import('../sources/kafka/watch-publisher.ts');
  const kc = loadKubeConfig(o);
  const watch = new WatchPublisher(publisher);
  const exclude = [...new Pipeline(tracerConfigFrom(o)).config.excludeResources, ...o.ignoreWatchResource];
  let running: { stop(): Promise<void> } | undefined;
  let starting: Promise<void> | undefined;
  const elector = new LeaseElector({
    kc, namespace: o.kafkaLeaseNamespace, name: `kubetrail-informers-${o.cluster}`,
    identity: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    leaseDurationSec: Math.max(1, Math.round(o.kafkaLeaseDuration / 1000)),
    onStartedLeading: () => {
      starting = (async () => {
        running = await startInformers({ kc, cluster: o.cluster, pipeline: watch.ingest(), sink: watch.sink(), events: o.events, include: o.watchResource, exclude });
        log.info({ cluster: o.cluster }, 'informer leader: watching the cluster, publishing changes to Kafka');
      })().catch((err) => log.error({ err: (err as Error).message }, 'informers failed to start'));
    },
    onStoppedLeading: async () => {
      await starting;
      await running?.stop();
      running = undefined;
      log.info({ cluster: o.cluster }, 'no longer the informer leader: informers stopped');
    },
  });
  elector.start();
  return {
    async stop() {
      await elector.stop();
      await watch.drain();
    },
  };
}
