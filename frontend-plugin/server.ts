// The query server: Jaeger's query HTTP API over kubetrail's assembled traces, /redirect, the
// built-in UI, and (with an upstream Jaeger query service) every other path passed through. One
// encapsulated fastify plugin per route group (http/ and the two below); this file composes them.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { log } from '../src/core/log.ts';
import type { TraceBackend } from './backend/backend.ts';
import type { Comparison } from './compare/align.ts';
import type { LiveSource } from './diagnose/routes.ts';
import { TraceQuery } from './query.ts';
import { apiV3 } from './api-v3.ts';
import { compareRoutes } from './compare/routes.ts';
import { diagnoseRoutes } from './diagnose/routes.ts';
import { notFound } from './http/errors.ts';
import { jaegerV1 } from './http/jaeger-v1.ts';
import { passThroughTo } from './http/passthrough.ts';
import { redirect } from './http/redirect.ts';
import { addSharedSchemas } from './http/schemas.ts';
import { hasUi, staticUi } from './http/static-ui.ts';
import { uiApi } from './http/ui-api.ts';

export { uiConfig } from './http/ui-api.ts';

export const DEFAULT_UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'ui');

export interface QueryServerOptions {
  backend: TraceBackend;
  windowSec: number;
  /** Jaeger query service base URL: unknown paths are passed through to it. */
  upstream?: string;
  /** Built-in UI files; default frontend-plugin/ui. */
  uiDir?: string;
  /** Default: kubetrail's pino logger (src/core/log.ts); failures are logged, requests are not. */
  logger?: FastifyBaseLogger | boolean;
  maxObjects?: number;
  /** Live findings of the process that writes the spans (GET /api/findings/live); absent: off. */
  live?: LiveSource;
  /** A second run to compare with (`kubetrail compare --ui`): its store and the comparison (compare/routes.ts). */
  compare?: { backend: TraceBackend; comparison: Comparison };
}

function createApp(logger: FastifyBaseLogger | boolean): FastifyInstance {
  const routerOptions = { ignoreTrailingSlash: true };
  const logController = new LogController({ disableRequestLogging: true });
  // Fastify 5 takes a ready pino instance as `loggerInstance`, and only a boolean/config as `logger`.
  const app =
    typeof logger === 'object' ? Fastify({ loggerInstance: logger, routerOptions, logController }) : Fastify({ logger, routerOptions, logController });
  // Bodies are only ever passed through (Jaeger's POST /api/archive, /api/transform): keep the stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  addSharedSchemas(app);
  return app as unknown as FastifyInstance;
}

/** The query server: API + UI + passthrough. Call `listen()` on the result. */
export async function createQueryServer(opts: QueryServerOptions): Promise<FastifyInstance> {
  const app = createApp(opts.logger ?? log.child({ component: 'query' }));
  const query = new TraceQuery({ backend: opts.backend, windowSec: opts.windowSec, maxObjects: opts.maxObjects });
  const upstream = opts.upstream?.replace(/\/+$/, '');
  const passThrough = upstream ? await passThroughTo(app, upstream) : undefined;
  const uiDir = opts.uiDir ?? DEFAULT_UI_DIR;

  await app.register(jaegerV1, { query, upstream, passThrough }); // /api/services, /api/operations, /api/traces, /api/dependencies
  await app.register(apiV3, { query, passThrough }); // /api/v3/*: the current Jaeger UI searches through it; its own error shape
  await app.register(redirect, { query }); // /redirect
  await app.register(uiApi, { backend: opts.backend, query, windowSec: opts.windowSec, upstream }); // /api/ui-config, /api/ui/summary, /api/ui/activity, /api/ui/trace/:id
  await app.register(staticUi, { uiDir }); // UI files and pages, any other GET outside the API paths
  await app.register(diagnoseRoutes, { backend: opts.backend, uiDir: hasUi(uiDir) ? uiDir : undefined, live: opts.live }); // GET /api/diagnose, /api/explain, /api/findings/live, /findings
  // `kubetrail compare A B --ui`: /api/compare-runs and run B's traces (its page /compare-runs is the UI's)
  if (opts.compare) await app.register(compareRoutes, { query, b: opts.compare.backend, windowSec: opts.windowSec, comparison: opts.compare.comparison });
  // What no plugin answers: the upstream Jaeger's, or nobody's.
  app.setNotFoundHandler(passThrough ?? notFound);
  return app;
}

export interface StartQueryServerOptions extends QueryServerOptions {
  port: number;
  host: string;
}

/** Creates and starts the query server (used by `kubetrail serve` and `kubetrail query`). */
export async function startQueryServer(opts: StartQueryServerOptions): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = await createQueryServer(opts);
  await app.listen({ port: opts.port, host: opts.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, app, close: () => app.close() };
}
