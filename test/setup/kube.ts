// Small helpers for integration tests against the KWOK cluster of test/setup/stack.ts.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import './types.ts';
import { waitFor } from './wait.ts';

export { waitFor } from './wait.ts';

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`, `create -f -`). */
  input?: string;
  /** Defaults to the stack's kubeconfig. */
  kubeconfig?: string;
  timeoutMs?: number;
}

/** Runs kubectl against the test cluster; resolves with stdout, rejects with stderr in the message. */
export function kubectl(args: string[], opts: KubectlOptions = {}): Promise<string> {
  const stack = inject('stack');
  return new Promise((resolve, reject) => {
    const child = execFile(
      stack.kubectlPath,
      ['--kubeconfig', opts.kubeconfig ?? stack.kubeconfig, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** kubectl ... -o json, parsed. */
export async function kubectlJson<T = any>(args: string[], opts: KubectlOptions = {}): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'], opts)) as T;
}

/**
 * Creates a namespace with a random name (`<prefix>-<6 hex>`) and waits for its default
 * ServiceAccount (pods are refused until kube-controller-manager created it). Tests use their own
 * namespace so they stay independent on the shared cluster.
 */
export async function createNamespace(prefix = 'test'): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  await waitFor(
    async () => (await kubectl(['get', 'serviceaccount', 'default', '-n', name, '-o', 'name'])).trim(),
    `ServiceAccount default in namespace ${name}`,
    60_000,
  );
  return name;
}

/** Deletes a namespace without waiting for its finalization. */
export async function deleteNamespace(name: string): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}
