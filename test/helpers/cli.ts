// Runs the kubetrail program the way a user does, either in-process (fast: parsing, validation,
// replay; stdout/stderr captured) or as a real child process (exit codes, signals, stdin, logs).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { resolve } from 'node:path';
import { run } from '../../src/commands/program.ts';
import { redirectOutput } from '../../src/commands/io.ts';

export const CLI = resolve(import.meta.dirname, '../../src/cli.ts');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** `kubetrail <args>` in this process; logs below warn are off. */
export async function runCli(...args: string[]): Promise<CliResult> {
  const level = process.env.KUBETRAIL_LOG_LEVEL;
  process.env.KUBETRAIL_LOG_LEVEL = 'warn'; // read when the options are built
  let stdout = '';
  let stderr = '';
  const restore = redirectOutput({ out: (t) => (stdout += t), err: (t) => (stderr += t) });
  try {
    const status = await run(args);
    return { status, stdout, stderr };
  } finally {
    restore();
    if (level === undefined) delete process.env.KUBETRAIL_LOG_LEVEL;
    else process.env.KUBETRAIL_LOG_LEVEL = level;
  }
}

/** `kubetrail <args>` as a child process (real exit code). */
export function spawnCli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input: opts.input,
    env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn', ...opts.env },
  });
}
