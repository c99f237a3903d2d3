// Runs the kubetrail CLI (src/cli.ts) as a child process for integration tests, the way an operator
// starts it: wait for a log line that says it is ready, then stop it with a signal and see its exit code.
import type { StackInfo } from './types.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePorts } from './ports.ts';

export const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

export interface StartOptions {
  /** Resolves once the combined stdout+stderr matches this. */
  ready: RegExp;
  /** Extra environment variables on top of this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface RunningKubetrail {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far (logs are on stderr). */
  output(): string;
  /** Sends `signal` (default SIGTERM) unless already exited; resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `kubetrail <args>` with the current Node; rejects with its output if it exits before `ready`. */
export function startKubetrail(args: string[], opts: StartOptions): Promise<RunningKubetrail> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolvePromise, reject) => {
    let ready = false;
    const onData = (d: Buffer) => {
      out += d;
      if (!ready && opts.ready.test(out)) {
        ready = true;
        resolvePromise({ child, output: () => out, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`kubetrail ${args[0]} exited ${code} before ready:\n${out.slice(-3000)}`)));
  });
}

/** `serve` recording the test stack's KWOK cluster: its name, its kubeconfig, the loopback webhook port its API server posts audit events to. */
export function stackServeArgs(stack: StackInfo): string[] {
  return [
    'serve',
    '--cluster',
    stack.clusterName,
    '--kubeconfig',
    stack.kubeconfig,
    '--webhook-port',
    String(stack.webhookPort),
    '--webhook-host',
    '127.0.0.1',
  ];
}

/** `serve` recording the stack's cluster into the store `store`, its query server on a free loopback port (`base`). */
export async function serveToStore(stack: StackInfo, store: string): Promise<{ serve: RunningKubetrail; base: string }> {
  const [queryPort] = await freePorts(1);
  const serve = await startKubetrail(
    [...stackServeArgs(stack), '--store', store, '--query-port', String(queryPort), '--query-host', '127.0.0.1', '--log-level', 'info'],
    { ready: /informers started/ },
  );
  return { serve, base: `http://127.0.0.1:${queryPort}` };
}
