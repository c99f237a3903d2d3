// The read path's HTTP server (frontend-plugin/server.ts): Jaeger-compatible API, /redirect and the
// built-in UI over a TraceBackend — the embedded store, or Jaeger's query service.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startQueryServer as startReadPath } from '../../frontend-plugin/server.ts';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import type { LiveSource } from '../../frontend-plugin/diagnose/routes.ts';
import { SERVICE_NAME } from '../sinks/otlp.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import type { SqliteStore } from '../sinks/sqlite-store.ts';
import { log } from '../core/log.ts';

export interface QueryServerOptions {
  backend: TraceBackend;
  windowSec: number;
  port: number;
  host: string;
  /** Jaeger query URL: other paths are passed through to it. */
  upstream?: string;
  /** A UI to serve instead of the built-in one (e.g. a Jaeger UI build); must hold index.html. */
  uiDir?: string;
  live?: LiveSource;
}

/** `--ui-dir`: a directory with an index.html (a Jaeger UI release's build, or the built-in UI). */
export function checkUiDir(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`--ui-dir ${dir}: no index.html there (unpack a Jaeger UI release's assets, see docs/ui.md)`);
  }
  return dir;
}

export interface RunningQueryServer {
  url: string;
  close(): Promise<void>;
}

export function startQueryServer(opts: QueryServerOptions): Promise<RunningQueryServer> {
  return startReadPath({ ...opts, uiDir: checkUiDir(opts.uiDir) });
}

export function jaegerBackend(url: string): TraceBackend {
  return new JaegerBackend({ url, service: SERVICE_NAME });
}

/** What `serve` (and its Kafka trace role) says about the query UI: its flags. */
export interface QueryUiFlags {
  query: boolean;
  queryPort: number;
  queryHost: string;
  jaegerQuery?: string;
  uiDir?: string;
}

/**
 * The query API and UI of a process that writes spans: over its store, or over Jaeger with
 * `--jaeger-query`; none when the spans go to OTLP without it (logged) or with `--no-query`.
 */
export async function startSinkQueryUi(
  o: QueryUiFlags,
  store: SqliteStore | undefined,
  windowSec: number,
  live?: LiveSource,
): Promise<RunningQueryServer | undefined> {
  if (!o.query) return undefined;
  const backend = o.jaegerQuery ? jaegerBackend(o.jaegerQuery) : store && new SqliteBackend(store);
  if (!backend) {
    log.info('spans go to OTLP: point the query UI at Jaeger with --jaeger-query URL (query UI off)');
    return undefined;
  }
  const query = await startQueryServer({ backend, windowSec, port: o.queryPort, host: o.queryHost, upstream: o.jaegerQuery, uiDir: o.uiDir, live });
  log.info({ url: query.url }, 'query API and UI');
  return query;
}
