// vitest globalSetup of the `integration` project: starts the real stack once per run
// (Jaeger, Kafka, a KWOK cluster with 3 fake nodes) on free loopback ports, in a temporary
// workdir, so a developer's own stack on the default ports keeps running untouched.
// Teardown stops everything, also when a test fails or the run is interrupted (SIGINT/SIGTERM).
// The processes are started by the deploy/stack/*.sh scripts, each in its own process group.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePorts } from './ports.ts';
import type { StackInfo } from './types.ts';
import './types.ts';

const root = resolve(import.meta.dirname, '../..');
const script = (name: string) => join(root, 'deploy/stack', `${name}.sh`);
const CLUSTER = 'kt-test';
const COMPONENTS = ['kwok', 'jaeger', 'kafka'] as const;
type Component = (typeof COMPONENTS)[number];

function log(msg: string): void {
  process.stderr.write(`[stack ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Runs a deploy/stack script, echoing its progress lines; resolves with its stdout. */
function run(name: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [script(name), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${name}.sh ${args.join(' ')} failed (exit ${code}):\n${err.slice(-3000)}`));
    });
  });
}

function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}

function parseEnv(out: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const workdir = mkdtempSync(join(tmpdir(), 'kubetrail-stack-'));
  const [otlpGrpc, otlpHttp, queryHttp, queryGrpc, health, kafkaPort, kafkaCtl, apiserver, webhookPort] = await freePorts(9);
  const jaegerEnv = {
    JAEGER_OTLP_GRPC_PORT: String(otlpGrpc),
    JAEGER_OTLP_HTTP_PORT: String(otlpHttp),
    JAEGER_QUERY_HTTP_PORT: String(queryHttp),
    JAEGER_QUERY_GRPC_PORT: String(queryGrpc),
    JAEGER_HEALTH_PORT: String(health),
  };
  const webhookPath = `/audit/${CLUSTER}`;
  // KUBETRAIL_STACK=jaeger,kafka starts a subset (e.g. while iterating on one test file);
  // the fields of components not started are empty.
  const wanted = new Set((process.env.KUBETRAIL_STACK ?? COMPONENTS.join(',')).split(',').map((s) => s.trim()));
  for (const c of wanted) {
    if (!(COMPONENTS as readonly string[]).includes(c)) throw new Error(`KUBETRAIL_STACK: unknown component ${c} (${COMPONENTS.join(',')})`);
  }
  const want = (c: Component) => wanted.has(c);

  // Synchronous so it also works from signal and exit handlers. The stop scripts run in their own
  // session (setsid) ignoring INT/TERM/HUP/PIPE: a second Ctrl+C, or the death of this process
  // (npm forwards the signal once more), must not interrupt them half-way.
  let stopped = false;
  const stopAll = (): void => {
    if (stopped) return;
    stopped = true;
    const t = Date.now();
    log('stopping the stack');
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmds = (
      [
        ['kwok', ['down', '--name', CLUSTER, '--workdir', join(workdir, 'kwok')]],
        ['jaeger', ['down', '--workdir', join(workdir, 'jaeger')]],
        ['kafka', ['down', '--workdir', join(workdir, 'kafka')]],
      ] as const
    )
      .filter(([name]) => want(name))
      .map(([name, args]) => [script(name), ...args].map(q).join(' '));
    cmds.push(`rm -rf ${q(workdir)}`);
    spawnSync('setsid', ['bash', '-c', `trap '' INT TERM HUP PIPE; ${cmds.join('; ')}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...jaegerEnv },
    });
    log(`stack stopped in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  };
  // `on`, not `once`: a repeated signal while stopping must not fall back to the default (die).
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopped) return;
    stopAll();
    process.exit(signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : 143);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  process.once('exit', stopAll);

  log(`starting ${[...wanted].join(', ')} in ${workdir}`);
  const timed = async <T>(what: string, p: Promise<T>): Promise<T> => {
    const t = Date.now();
    const v = await p;
    log(`${what} up in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    return v;
  };
  let kwokOut = '';
  try {
    // In parallel: Jaeger and Kafka take seconds, the cluster longer.
    [kwokOut] = await Promise.all([
      !want('kwok')
        ? ''
        : timed(
            'KWOK cluster (3 fake nodes)',
            run(
              'kwok',
              [
                'up',
                '--name',
                CLUSTER,
                '--nodes',
                '3',
                '--webhook-port',
                String(webhookPort),
                '--webhook-path',
                webhookPath,
                '--apiserver-port',
                String(apiserver),
                '--workdir',
                join(workdir, 'kwok'),
              ],
              {},
            ),
          ),
      !want('jaeger') ? '' : timed('Jaeger', run('jaeger', ['up', '--workdir', join(workdir, 'jaeger')], jaegerEnv)),
      !want('kafka')
        ? ''
        : timed('Kafka', run('kafka', ['up', '--port', String(kafkaPort), '--controller-port', String(kafkaCtl), '--workdir', join(workdir, 'kafka')], {})),
    ]);
  } catch (err) {
    stopAll();
    throw err;
  }
  const env = parseEnv(kwokOut);
  const stack: StackInfo = {
    kubeconfig: env.KUBECONFIG ?? '',
    auditLogPath: env.AUDIT_LOG ?? '',
    webhookPort,
    webhookPath,
    clusterName: CLUSTER,
    jaegerQueryUrl: `http://127.0.0.1:${queryHttp}`,
    otlpGrpcEndpoint: `http://127.0.0.1:${otlpGrpc}`,
    otlpHttpEndpoint: `http://127.0.0.1:${otlpHttp}`,
    kafkaBroker: `127.0.0.1:${kafkaPort}`,
    chromiumPath: findChromium(),
    kubectlPath: env.KUBECTL || 'kubectl',
  };
  project.provide('stack', stack);
  log(`stack ready in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${JSON.stringify(stack)}`);

  return async () => {
    stopAll();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
    process.off('exit', stopAll);
  };
}
