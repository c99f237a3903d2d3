// `kubetrail query`: the query proxy alone, in front of a Jaeger query service that holds the raw
// spans (exported there by `kubetrail serve --otlp-endpoint`). Other Jaeger paths pass through.
import { Command, Option } from 'commander';
import { log } from '../core/log.ts';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import { startQueryServer } from '../../frontend-plugin/server.ts';
import { Lifecycle, runUntilSignal } from '../core/lifecycle.ts';
import { checkUiDir, type RunningQueryServer } from './query-server.ts';
import { checkListen, parsePort, parsePositiveDurationSec, parsePositiveInt, parseUrl, parseWindow } from './options.ts';

export function queryCommand(): Command {
  return new Command('query')
    .description('Serve the Jaeger-compatible query API and UI over raw kubetrail spans stored in Jaeger')
    .requiredOption('--jaeger-query <url>', 'Jaeger query service base URL (raw spans; other paths are passed through)', parseUrl)
    .option('--port <port>', 'HTTP port', parsePort, 16686)
    .option('--host <host>', 'listen address; the API and UI have no authentication: a non-loopback one needs --allow-unauthenticated', '127.0.0.1')
    .option('--allow-unauthenticated', 'allow a non-loopback --host (logged as a warning)', false)
    .addOption(new Option('--window <duration>', 'window size the write path uses').argParser(parseWindow).default(1800, '30m'))
    .option('--jaeger-service <name>', 'service name the write path exports as', 'kubetrail')
    .option('--ui-dir <dir>', 'serve this UI instead of the built-in one (frontend-plugin/ui), e.g. a Jaeger UI build (docs/ui.md)')
    .option('--max-objects <n>', 'most objects in one assembled trace', parsePositiveInt, 5000)
    .option(
      '--jaeger-lookback <duration>',
      'how far back the cluster list and the UI\'s "all data" range search Jaeger, e.g. 90d (default: all data)',
      parsePositiveDurationSec,
    )
    .action(
      async (o: {
        jaegerQuery: string;
        port: number;
        host: string;
        window: number;
        jaegerService: string;
        uiDir?: string;
        maxObjects: number;
        allowUnauthenticated: boolean;
        jaegerLookback?: number;
      }) => {
        const warning = checkListen({ flag: '--host', host: o.host, allowUnauthenticated: o.allowUnauthenticated });
        if (warning) log.warn(warning);
        const upstream = new URL(o.jaegerQuery);
        const backend = new JaegerBackend({
          url: upstream.href,
          service: o.jaegerService,
          windowSec: o.window,
          ...(o.jaegerLookback !== undefined ? { lookbackSec: o.jaegerLookback } : {}),
        });
        const uiDir = checkUiDir(o.uiDir);
        let server: RunningQueryServer | undefined;
        const start = async () => {
          server = await startQueryServer({
            backend,
            windowSec: o.window,
            upstream: upstream.href,
            uiDir,
            maxObjects: o.maxObjects,
            port: o.port,
            host: o.host,
          });
          log.info({ url: server.url, jaeger: upstream.href, windowSec: o.window }, 'kubetrail query listening');
        };
        await runUntilSignal(new Lifecycle([{ name: 'query API and UI', start, stop: () => server?.close() }]));
      },
    );
}

export default queryCommand;
