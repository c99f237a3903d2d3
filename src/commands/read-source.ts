// What `diagnose` and `explain` read: the embedded store or a Jaeger query service — their flags
// and how the backend is opened, in one place.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { UsageError } from '../../frontend-plugin/diagnose/params.ts';
import { defaultStorePath } from '../sinks/sqlite-store.ts';
import { argParser, parseWindow } from './options.ts';

export { argParser };

export interface ReadSourceOptions {
  store?: string;
  jaegerQuery?: string;
  jaegerService: string;
  window: number;
}

/** --store, --jaeger-query, --jaeger-service, --window. */
export function addReadSourceOptions(cmd: Command): Command {
  return cmd
    .option('--store <file>', `the embedded store to read (default ${defaultStorePath()})`)
    .option('--jaeger-query <url>', 'read raw spans from this Jaeger query service instead of a store')
    .option('--jaeger-service <name>', 'service name the write path exports as', 'kubetrail')
    .option('--window <duration>', 'window size the write path uses (Jaeger)', parseWindow, 1800);
}

/**
 * The backend the options name; `{ missingStore }` when the store file does not exist (the
 * commands exit 3 with their own words), a UsageError for contradicting or malformed flags.
 */
export function openReadSource(o: ReadSourceOptions): TraceBackend | { missingStore: string } {
  if (o.store && o.jaegerQuery) throw new UsageError('give --store or --jaeger-query, not both');
  if (o.jaegerQuery) {
    if (!URL.canParse(o.jaegerQuery)) throw new UsageError(`--jaeger-query is not a URL: ${o.jaegerQuery}`);
    return new JaegerBackend({ url: o.jaegerQuery, service: o.jaegerService, windowSec: o.window });
  }
  const path = o.store ?? defaultStorePath();
  if (!existsSync(path)) return { missingStore: path };
  return new SqliteBackend(path);
}
