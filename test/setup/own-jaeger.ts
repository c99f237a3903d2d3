// A Jaeger of a test's own (deploy/stack/jaeger.sh, the cached build) with badger storage — the
// stack's shared Jaeger keeps memory storage, which accepts any tag; badger is what refuses large
// ones (docs/otlp-export.md, "Trace store limits"). Free loopback ports, data in the test's directory.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePorts } from './ports.ts';

const jaegerSh = resolve(import.meta.dirname, '../../deploy/stack/jaeger.sh');

export interface OwnJaeger {
  queryUrl: string;
  otlpGrpcEndpoint: string;
  /** Stops it; its badger files stay in the directory. */
  down(): void;
}

export async function ownBadgerJaeger(dir: string): Promise<OwnJaeger> {
  const [grpc, http, query, queryGrpc, health] = await freePorts(5);
  const env = {
    ...process.env,
    JAEGER_OTLP_GRPC_PORT: String(grpc),
    JAEGER_OTLP_HTTP_PORT: String(http),
    JAEGER_QUERY_HTTP_PORT: String(query),
    JAEGER_QUERY_GRPC_PORT: String(queryGrpc),
    JAEGER_HEALTH_PORT: String(health),
  };
  const workdir = join(dir, 'jaeger-badger');
  const run = (args: string[]) => execFileSync('bash', [jaegerSh, ...args, '--workdir', workdir], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  run(['up', '--storage', 'badger']);
  return {
    queryUrl: `http://127.0.0.1:${query}`,
    otlpGrpcEndpoint: `http://127.0.0.1:${grpc}`,
    down: () => run(['down']),
  };
}
