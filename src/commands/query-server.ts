// Bridge to the read path's HTTP server (frontend-plugin/, engineer C): the Jaeger-compatible API,
// /redirect and the built-in UI over a TraceBackend.
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';

export interface QueryServerOptions {
  backend: TraceBackend;
  windowSec: number;
  port: number;
  host: string;
}

export interface RunningQueryServer {
  url: string;
  close(): Promise<void>;
}

export async function startQueryServer(opts: QueryServerOptions): Promise<RunningQueryServer> {
  // resolved at run time so the write path runs even in a tree without the read path
  const spec = new URL('../../frontend-plugin/server.ts', import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`the query server (frontend-plugin/server.ts) is not available: ${(err as Error).message}`);
  }
  const start = mod.startQueryServer as ((o: QueryServerOptions) => Promise<RunningQueryServer>) | undefined;
  if (typeof start !== 'function') throw new Error('frontend-plugin/server.ts does not export startQueryServer');
  return start(opts);
}
