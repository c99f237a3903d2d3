// `kubetrail serve`: the audit webhook, the informers and (optionally) the query UI in one process.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Pipeline } from '../pipeline/pipeline.ts';
import { buildWebhookServer, loadTls } from '../sources/webhook.ts';
import type { RunningInformers } from '../sources/informers/index.ts';
import { checkUiDir } from './query-server.ts';
import { log } from '../core/log.ts';
import { Lifecycle, runUntilSignal, type Component } from '../core/lifecycle.ts';
import type { SpanSink } from '../core/sink.ts';
import { httpComponent, spanWriter } from './components.ts';
import { addKafkaOptions, serveKafka, type KafkaCliOptions } from './kafka.ts';
import { addLiveOptions, type LiveCliOptions } from './live.ts';
import {
  addConfigFileOption,
  addLogOptions,
  addTraceIntoSinkOptions,
  type WriterCliOptions,
  applyLogLevel,
  checkListen,
  collectResource,
  isLoopback,
  parseDurationMs,
  parsePort,
  parseUrl,
  parsePositiveInt,
  tracerConfigFrom,
  type TracerCliOptions,
} from './options.ts';

interface ServeOptions extends TracerCliOptions, WriterCliOptions, KafkaCliOptions, LiveCliOptions {
  webhookPort: number;
  webhookHost: string;
  cluster: string;
  kubeconfig?: string;
  context?: string;
  listWatchOnly: boolean;
  informers: boolean;
  events: boolean;
  watchResource: string[];
  ignoreWatchResource: string[];
  unexplainedGrace: number;
  otlpEndpoint?: string;
  store?: string;
  webhookToken?: string;
  webhookTokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  maxBodyBytes: number;
  allowUnauthenticated: boolean;
  queryPort: number;
  queryHost: string;
  query: boolean;
  jaegerQuery?: string;
  uiDir?: string;
  logLevel?: string;
}

export function serveCommand(): Command {
  // --help shows the options in sections (commander help groups), in this order
  const cmd = new Command('serve')
    .description('receive audit events (webhook) and watch clusters (informers); write spans to Jaeger (OTLP) or the embedded store')
    .optionsGroup('Audit webhook:')
    .option('--webhook-port <port>', 'audit webhook, /healthz, /readyz and /metrics port', parsePort, 8080)
    .option(
      '--webhook-host <host>',
      'address the webhook listens on; a non-loopback one needs --webhook-token(-file) or --client-ca, or --allow-unauthenticated',
      '127.0.0.1',
    )
    .option('--cluster <name>', 'cluster name for POST /audit and the informers', 'default')
    .option('--max-body-bytes <n>', 'largest accepted EventList body (also once decoded); larger gets 413', parsePositiveInt, 32 * 1024 * 1024)
    .optionsGroup('Security:')
    .option('--webhook-token <token>', 'require this bearer token on /audit (the audit kubeconfig `token`)')
    .option('--webhook-token-file <file>', 'read the bearer token from a file')
    .option('--tls-cert <file>', 'serve the webhook over HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--client-ca <file>', 'require client certificates signed by this CA (the audit kubeconfig client-certificate)')
    .option('--allow-unauthenticated', 'allow listening on a non-loopback address without authentication (logged as a warning)', false)
    .optionsGroup('Informers:')
    .option('--kubeconfig <file>', 'kubeconfig for the informers (default $KUBECONFIG, ~/.kube/config, in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--list-watch-only', 'no audit log: informer changes become the event spans (attributed to field managers)', false)
    .option('--no-informers', 'do not list-watch the cluster (audit webhook only)')
    .option('--no-events', 'do not watch core/v1 Events')
    .option('--watch-resource <group/resource>', 'list-watch only these resources (default: all listable ones); repeatable', collectResource, [])
    .option('--ignore-watch-resource <group/resource>', 'do not list-watch this resource; repeatable', collectResource, [])
    .option(
      '--unexplained-grace <duration>',
      'with the audit webhook: a watch change no audit event explains this long after it becomes a span (attribution unexplained); 0: off',
      parseDurationMs,
      120_000,
    )
    .optionsGroup('Query UI:')
    .option('--query-port <port>', 'serve the query API and UI on this port', parsePort, 16686)
    .option(
      '--query-host <host>',
      'address the query UI listens on; the UI has no authentication: a non-loopback one needs --allow-unauthenticated',
      '127.0.0.1',
    )
    .option('--no-query', 'do not serve the query API and UI')
    .option('--jaeger-query <url>', 'read traces for the UI from this Jaeger query service (with --otlp-endpoint)', parseUrl)
    .option('--ui-dir <dir>', 'serve this UI instead of the built-in one, e.g. a Jaeger UI build (docs/ui.md)');
  addTraceIntoSinkOptions(cmd);
  addLiveOptions(cmd);
  addKafkaOptions(cmd);
  cmd.optionsGroup('General:');
  addLogOptions(cmd);
  addConfigFileOption(cmd);
  cmd.helpOption('-h, --help', 'display help for command');
  return cmd.action(async (o: ServeOptions) => {
    applyLogLevel(o);
    await serve(o);
  });
}

function readToken(o: ServeOptions): string | undefined {
  if (o.webhookToken && o.webhookTokenFile) throw new Error('use --webhook-token or --webhook-token-file, not both');
  if (o.webhookTokenFile) {
    const t = readFileSync(o.webhookTokenFile, 'utf8').trim();
    if (!t) throw new Error(`--webhook-token-file ${o.webhookTokenFile} is empty`);
    return t;
  }
  return o.webhookToken;
}

/** A kubeconfig is in reach when given, in $KUBECONFIG, ~/.kube/config, or we run in a pod. */
function kubeconfigAvailable(o: ServeOptions): boolean {
  return Boolean(o.kubeconfig || o.context || process.env.KUBECONFIG || existsSync(join(homedir(), '.kube', 'config')) || process.env.KUBERNETES_SERVICE_HOST);
}

export async function serve(o: ServeOptions): Promise<void> {
  const token = readToken(o);
  const tls = loadTls(o.tlsCert, o.tlsKey, o.clientCa);
  const warnings = [
    checkListen({
      flag: '--webhook-host',
      host: o.webhookHost,
      allowUnauthenticated: o.allowUnauthenticated,
      authentication: token ? 'bearer token' : tls?.clientCa ? 'client certificates' : undefined,
      authFlags: '--webhook-token, --webhook-token-file, or --client-ca with --tls-cert/--tls-key',
    }),
    o.query && (!o.kafkaBrokers || o.role !== 'receive')
      ? checkListen({ flag: '--query-host', host: o.queryHost, allowUnauthenticated: o.allowUnauthenticated })
      : undefined,
  ];
  if (token && !tls && !isLoopback(o.webhookHost)) {
    warnings.push(`--webhook-host ${o.webhookHost}: the bearer token travels in clear text over plain HTTP; add --tls-cert and --tls-key`);
  }
  for (const w of warnings) if (w) log.warn(w);
  // scale-out roles (kafka.ts): the same listen rules above apply to their webhook
  if (o.kafkaBrokers) {
    if (o.query && o.role !== 'receive') checkUiDir(o.uiDir);
    return serveKafka(o, token, o.informers && kubeconfigAvailable(o));
  }
  const pipeline = new Pipeline(tracerConfigFrom(o));
  if (o.query) checkUiDir(o.uiDir); // before anything listens: a bad --ui-dir is a clear error
  // live findings see what the sink acknowledged (webhook and informers alike)
  const writer = spanWriter(o, pipeline.config.windowSec);
  const { sink } = writer;
  const webhook = buildWebhookServer({ pipeline, sink, defaultCluster: o.cluster, maxBodyBytes: o.maxBodyBytes, token, tls });
  const drainWebhook = () => {
    log.info({ pending: sink.pending() }, 'draining: webhook refuses new batches (503), writing what was accepted');
    webhook.startDraining();
  };
  const listening = (port: number) =>
    log.info(
      { port, tls: Boolean(tls), clientCerts: Boolean(tls?.clientCa), token: Boolean(token), sink: writer.chosen.describe },
      'audit webhook listening (POST /audit/:cluster)',
    );
  const lifecycle = new Lifecycle([
    ...writer.components,
    httpComponent('audit webhook', webhook.app, { port: o.webhookPort, host: o.webhookHost }, { listening, drain: drainWebhook }),
    informersComponent(o, pipeline, sink),
  ]);
  await runUntilSignal(lifecycle);
}

/** The informers of the single process, when asked for and a kubeconfig is in reach. */
function informersComponent(o: ServeOptions, pipeline: Pipeline, sink: SpanSink): Component | undefined {
  if (!o.informers) return undefined;
  if (!o.listWatchOnly && !kubeconfigAvailable(o)) {
    log.info('no kubeconfig found: informers off (audit webhook only)');
    return undefined;
  }
  let informers: RunningInformers | undefined;
  return {
    name: 'informers',
    start: async () => {
      // loaded on demand: @kubernetes/client-node takes seconds to import, which every CLI call would pay
      const { loadKubeConfig } = await import('../sources/informers/kube-client.ts');
      const { startInformers } = await import('../sources/informers/index.ts');
      informers = await startInformers({
        kc: loadKubeConfig(o),
        cluster: o.cluster,
        pipeline,
        sink,
        listWatchOnly: o.listWatchOnly,
        events: o.events,
        include: o.watchResource,
        exclude: [...pipeline.config.excludeResources, ...o.ignoreWatchResource],
        unexplainedGraceMs: o.unexplainedGrace,
      });
    },
    stop: () => informers?.stop(),
  };
}
