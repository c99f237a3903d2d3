// `kubetrail serve --kafka-brokers ...`: scale-out roles on Kafka (docs/scale-out.md).
//   receive: the audit webhook publishes what it accepts to the topic (2xx once Kafka acknowledged)
//   trace:   a consumer group member traces its partitions into the sink (OTLP or the store)
//   all:     both in one process
// Without --kafka-brokers, serve runs the single-process path of serve.ts unchanged.
import { DEFAULT_MAX_QUEUED } from '../sources/kafka/watch-publisher.ts';
import Fastify from 'fastify';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { Pipeline } from '../pipeline/pipeline.ts';
import { resolveConfig } from '../core/config.ts';
import { buildWebhookServer, loadTls } from '../sources/webhook.ts';
import { healthRoutes, metricsRoutes } from '../sources/health.ts';
import { KafkaPublisher } from '../sources/kafka/producer.ts';
import { KafkaTracer } from '../sources/kafka/consumer.ts';
import { log } from '../core/log.ts';
import type { SpanSink } from '../core/sink.ts';
import { Lifecycle, runUntilSignal, type Component } from '../core/lifecycle.ts';
import type { LiveCliOptions } from './live.ts';
import { httpComponent, spanWriter, type SpanWriter } from './components.ts';
import { collect, parseDurationMs, parsePositiveInt, tracerConfigFrom, type TracerCliOptions, type WriterCliOptions } from './options.ts';

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
  kafkaWatchQueue: number;
  clusterContext: string[];
}

const GROUP = 'Scale-out on Kafka (docs/scale-out.md):';

export function addKafkaOptions(cmd: Command): Command {
  const opt = (o: Option) => cmd.addOption(o.helpGroup(GROUP));
  opt(new Option('--kafka-brokers <host:port,...>', 'scale out on this Kafka cluster (off: the single process traces everything itself)'));
  opt(new Option('--kafka-topic <name>', 'topic the receivers publish to and the tracers consume').default('kubetrail-audit'));
  opt(new Option('--role <role>', 'receive: webhook → topic; trace: topic → sink; all: both').choices(['receive', 'trace', 'all']).default('all'));
  opt(new Option('--kafka-group <id>', 'consumer group of the tracers').default('kubetrail'));
  opt(
    new Option('--kafka-warmup <duration>', "re-read this much before a newly assigned partition's committed offset to rebuild its diffs state")
      .argParser(parseDurationMs)
      .default(600_000, '10m'),
  );
  opt(
    new Option('--kafka-partitions <n>', 'partitions of the topic when a receiver creates it (it exists: unchanged)').argParser(parsePositiveInt).default(12),
  );
  opt(
    new Option('--kafka-session-timeout <duration>', 'how long a tracer that stopped answering keeps its partitions')
      .argParser(parseDurationMs)
      .default(30_000, '30s'),
  );
  opt(
    new Option('--kafka-lease-namespace <ns>', 'receive role: namespace of the Lease that elects the one receiver running the informers').default(
      'kube-system',
    ),
  );
  opt(
    new Option('--kafka-lease-duration <duration>', 'receive role: a dead informer leader is replaced after this long')
      .argParser(parseDurationMs)
      .default(15_000, '15s'),
  );
  opt(
    new Option('--kafka-watch-queue <n>', 'receive role: watch changes queued for Kafka at which the informers pause until half are sent')
      .argParser(parsePositiveInt)
      .default(DEFAULT_MAX_QUEUED),
  );
  opt(
    new Option(
      '--cluster-context <cluster=context>',
      'receive role: run informers for this cluster name from this kubeconfig context (repeatable; default --cluster with --context)',
    )
      .argParser(collect)
      .default([]),
  );
  // a Kafka option without --kafka-brokers would be silently ignored: refuse it
  cmd.hook('preAction', (c) => {
    if (c.opts().kafkaBrokers) return;
    const given = c.options.filter(
      (o) => o.helpGroupHeading === GROUP && o.attributeName() !== 'kafkaBrokers' && c.getOptionValueSource(o.attributeName()) === 'cli',
    );
    if (given.length) c.error(`error: ${given.map((o) => o.long).join(', ')}: only with --kafka-brokers (scale-out on Kafka)`);
  });
  return cmd;
}

/** What serveKafka needs of serve's options (serve.ts ServeOptions has them). */
export interface KafkaServeOptions extends KafkaCliOptions, TracerCliOptions, WriterCliOptions, LiveCliOptions {
  webhookPort: number;
  webhookHost: string;
  query: boolean;
  queryPort: number;
  queryHost: string;
  jaegerQuery?: string;
  uiDir?: string;
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

interface TracerSide {
  writer: SpanWriter;
  tracer: KafkaTracer;
}

/** The trace role's parts: its span writer (sink, query UI, live findings) and the Kafka tracer feeding it. */
function tracerSide(o: KafkaServeOptions, brokers: string[], config: ReturnType<typeof resolveConfig>): TracerSide {
  // live findings of this tracer's partitions (docs/scale-out.md)
  const writer = spanWriter(o, config.windowSec);
  const listWatchClusters = [o.cluster, ...parseClusterContexts(o.clusterContext).map(([c]) => c)];
  const tracer = new KafkaTracer({
    brokers,
    topic: o.kafkaTopic,
    groupId: o.kafkaGroup,
    sink: writer.sink,
    warmupMs: o.kafkaWarmup,
    sessionTimeoutMs: o.kafkaSessionTimeout,
    newPipeline: () => {
      const p = new Pipeline(config);
      // the receivers' informer changes become the events (of every cluster this tracer is told of)
      if (o.listWatchOnly) for (const c of listWatchClusters) p.setListWatchOnly(c, true);
      return p;
    },
  });
  log.info({ sink: writer.chosen.describe }, 'tracer sink');
  return { writer, tracer };
}

interface ReceiverWiring {
  brokers: string[];
  config: ReturnType<typeof resolveConfig>;
  token: string | undefined;
  informers: boolean;
  /** all role: the tracer in this process, whose wait /readyz reports */
  tracer: KafkaTracer | undefined;
  listening: (port: number) => void;
}

/** The receive role's parts, in lifecycle order: the Kafka producer, the webhook publishing to it, the elected informers. */
function receiverComponents(o: KafkaServeOptions, { brokers, config, token, informers, tracer, listening }: ReceiverWiring): (Component | false)[] {
  const publisher = new KafkaPublisher({ brokers, topic: o.kafkaTopic, createPartitions: o.kafkaPartitions, redact: config.redact });
  const webhook = buildWebhookServer({
    pipeline: publisher,
    sink: publisher,
    publishes: true,
    defaultCluster: o.cluster,
    maxBodyBytes: o.maxBodyBytes,
    token,
    tls: loadTls(o.tlsCert, o.tlsKey, o.clientCa),
  });
  if (tracer) webhook.readiness.waiting = waitingOf(tracer);
  let elector: { stop(): Promise<void> } | undefined;
  return [
    {
      name: 'kafka producer',
      // Kafka down at start is not fatal: batches get 503 (and /readyz says why) until it is back
      start: () => publisher.connect().catch((err) => log.warn({ err: (err as Error).message }, 'Kafka not reachable yet')),
      stop: () => publisher.close(),
    },
    httpComponent('audit webhook', webhook.app, { port: o.webhookPort, host: o.webhookHost }, { listening, drain: () => webhook.startDraining() }),
    informers && {
      name: 'informer election',
      start: async () => {
        elector = await electedInformers(o, publisher);
      },
      stop: () => elector?.stop(),
    },
  ];
}

export async function serveKafka(o: KafkaServeOptions, token: string | undefined, informers: boolean): Promise<void> {
  const brokers = (o.kafkaBrokers ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('--kafka-brokers: give host:port[,host:port...]');
  const receive = o.role === 'receive' || o.role === 'all';
  const trace = o.role === 'trace' || o.role === 'all';
  const config = resolveConfig(tracerConfigFrom(o));
  const { writer, tracer } = trace ? tracerSide(o, brokers, config) : ({} as Partial<TracerSide>);
  let port = o.webhookPort;
  const listening = (p: number) => (port = p);
  // trace role: /healthz, /readyz (the sink, and the tracer until it traces) and /metrics on the webhook port
  const health = !receive && healthServer(writer!.sink, tracer!);
  const lifecycle = new Lifecycle([
    health && httpComponent('health', health, { port: o.webhookPort, host: o.webhookHost }, { listening }),
    ...(writer?.components ?? []),
    // all role: the tracer stops after the receiver (it keeps tracing while the webhook finishes its batches) …
    tracer && { name: 'kafka tracer', stop: () => tracer.stop() },
    ...(receive ? receiverComponents(o, { brokers, config, token, informers, tracer, listening }) : []),
    // … but starts last, once the receiver's producer created its topic; a tracer waiting for its topic stops on SIGTERM (its stop ends the wait)
    tracer && { name: 'kafka tracer', start: () => tracer.start() },
  ]);
  if (!(await runUntilSignal(lifecycle))) return;
  log.info(
    { role: o.role, brokers, topic: o.kafkaTopic, group: trace ? o.kafkaGroup : undefined, port },
    receive ? 'audit webhook listening (POST /audit/:cluster), publishing to Kafka' : 'tracing from Kafka',
  );
}

function healthServer(sink: SpanSink, tracer: KafkaTracer): ReturnType<typeof Fastify> {
  const health = Fastify();
  healthRoutes(health, sink, { draining: false, waiting: waitingOf(tracer) });
  metricsRoutes(health);
  return health;
}

/** /readyz's reason while the tracer cannot trace yet (e.g. its topic does not exist). */
function waitingOf(tracer: KafkaTracer): () => string | undefined {
  return () => {
    const why = tracer.waiting();
    return why && `tracer waiting: ${why}`;
  };
}

/** `--cluster-context name=context` values → [cluster, context]. */
export function parseClusterContexts(values: string[]): [string, string][] {
  const seen = new Set<string>();
  return values.map((v) => {
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]{0,62})=(.+)$/.exec(v);
    if (!m) throw new Error(`--cluster-context: expected <cluster name>=<kubeconfig context>, got ${JSON.stringify(v)}`);
    if (seen.has(m[1]!)) throw new Error(`--cluster-context: cluster ${m[1]} given twice`);
    seen.add(m[1]!);
    return [m[1]!, m[2]!];
  });
}

/**
 * Receive role with informers: one receiver per cluster runs them, elected on a Lease in that
 * cluster (src/sources/kafka/leader.ts); their changes go to the topic (watch-publisher.ts).
 * Clusters: each `--cluster-context name=ctx`, else `--cluster` with `--context`.
 */
async function electedInformers(o: KafkaServeOptions, publisher: KafkaPublisher): Promise<{ stop(): Promise<void> }> {
  const { loadKubeConfig } = await import('../sources/informers/kube-client.ts');
  const { startInformers } = await import('../sources/informers/index.ts');
  const { LeaseElector } = await import('../sources/kafka/leader.ts');
  const { WatchPublisher } = await import('../sources/kafka/watch-publisher.ts');
  const watch = new WatchPublisher(publisher, { maxQueued: o.kafkaWatchQueue });
  const exclude = [...resolveConfig(tracerConfigFrom(o)).excludeResources, ...o.ignoreWatchResource];
  const pairs: [string, string | undefined][] = o.clusterContext.length ? parseClusterContexts(o.clusterContext) : [[o.cluster, o.context]];
  const electors = pairs.map(([cluster, context]) => {
    const kc = loadKubeConfig({ kubeconfig: o.kubeconfig, context });
    let running: { stop(): Promise<void> } | undefined;
    let starting: Promise<void> | undefined;
    const elector = new LeaseElector({
      kc,
      namespace: o.kafkaLeaseNamespace,
      name: `kubetrail-informers-${cluster}`,
      identity: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
      leaseDurationSec: Math.max(1, Math.round(o.kafkaLeaseDuration / 1000)),
      onStartedLeading: () => {
        starting = (async () => {
          running = await startInformers({ kc, cluster, pipeline: watch, sink: watch, events: o.events, include: o.watchResource, exclude });
          log.info({ cluster }, 'informer leader: watching the cluster, publishing changes to Kafka');
        })().catch((err) => log.error({ cluster, err: (err as Error).message }, 'informers failed to start'));
      },
      onStoppedLeading: async () => {
        await starting;
        await running?.stop();
        running = undefined;
        log.info({ cluster }, 'no longer the informer leader: informers stopped');
      },
    });
    elector.start();
    return elector;
  });
  return {
    async stop() {
      await Promise.all(electors.map((e) => e.stop()));
      await watch.drain();
    },
  };
}
