// `kubetrail serve` as an operator runs it against the KWOK cluster: audit webhook + informers of
// every resource, store on disk; then SIGTERM drains and exits 0.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';

const stack = inject('stack');
const CLI = resolve(import.meta.dirname, '../../src/cli.ts');
const kubectl = (...args: string[]) => execFileSync(stack.kubectlPath, ['--kubeconfig', stack.kubeconfig, ...args], { encoding: 'utf8' });

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('kubetrail serve ← KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-serve-'));
  const ns = `srv-${Date.now().toString(36)}`;
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    try { kubectl('delete', 'namespace', ns, '--wait=false'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  });

  it('traces writes from the audit webhook, watches the cluster, and drains on SIGTERM', async () => {
    const path = join(dir, 'kt.sqlite');
    child = spawn(process.execPath, [CLI, 'serve', '--kubeconfig', stack.kubeconfig, '--cluster', stack.clusterName,
      '--webhook-port', String(stack.webhookPort), '--webhook-host', '127.0.0.1', '--store', path, '--no-query', '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    let err = '';
    await new Promise<void>((resolvePromise, reject) => {
      child!.stderr!.on('data', (d: Buffer) => {
        err += d;
        if (err.includes('informers started')) resolvePromise();
      });
      void exited.then((code) => reject(new Error(`serve exited ${code}: ${err.slice(-2000)}`)));
    });
    const started = JSON.parse(err.split('\n').find((l) => l.includes('informers started'))!);
    expect(started.resources).toBeGreaterThan(10);

    kubectl('create', 'namespace', ns);
    kubectl('create', 'deployment', 'api', '-n', ns, '--image=nginx', '--replicas=1');
    const store = new SqliteStore(path, { readOnly: true });
    const dep = await poll('the Deployment', async () => {
      const f = await store.findObjects({ cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: ns, name: 'api', startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 1 });
      return f.length ? f : undefined;
    });
    expect(dep[0]!.object.name).toBe('api');
    await store.close();

    const metrics = await (await fetch(`http://127.0.0.1:${stack.webhookPort}/metrics`)).text();
    expect(metrics).toMatch(/kubetrail_watch_events_total\{source="watch",type="ADDED"\} [1-9]/);
    expect(metrics).toMatch(/kubetrail_audit_events_accepted_total [1-9]/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('drained');
  });
});
