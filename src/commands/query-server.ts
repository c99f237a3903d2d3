// The read path's HTTP server (frontend-plugin/server.ts): Jaeger-compatible API, /redirect and the
// built-in UI over a TraceBackend — the embedded store, or Jaeger's query service.
import { startQueryServer as startReadPath } from '../../frontend-plugin/server.ts';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { SERVICE_NAME } from '../sinks/otlp.ts';

export interface QueryServerOptions {
  backend: TraceBackend;
  windowSec: number;
  port: number;
  host: string;
  /** Jaeger query URL: other paths are passed through to it. */
  upstream?: string;
}

export interface RunningQueryServer {
  url: string;
  close(): Promise<void>;
}

export function startQueryServer(opts: QueryServerOptions): Promise<RunningQueryServer> {
  return startReadPath(opts);
}

export function jaegerBackend(url: string): TraceBackend {
  return new JaegerBackend({ url, service: SERVICE_NAME });
}
