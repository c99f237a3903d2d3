// `kubetrail serve` as an operator runs it against the KWOK cluster: audit webhook + informers of
// every resource, store on disk; then SIGTERM drains and exits 0.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';

const stack = inject('stack');

describe('kubetrail serve ← KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-serve-'));
  let ns = '';
  let serve: RunningKubetrail | undefined;
  afterAll(async () => {
    await serve?.stop('SIGKILL');
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('traces writes from the audit webhook, watches the cluster, and drains on SIGTERM', async () => {
    const path = join(dir, 'kt.sqlite');
    serve = await startKubetrail(
      [
        'serve',
        '--kubeconfig',
        stack.kubeconfig,
        '--cluster',
        stack.clusterName,
        '--webhook-port',
        String(stack.webhookPort),
        '--webhook-host',
        '127.0.0.1',
        '--store',
        path,
        '--no-query',
        '--log-level',
        'info',
      ],
      { ready: /informers started/ },
    );
    const started = JSON.parse(
      serve
        .output()
        .split('\n')
        .find((l) => l.includes('informers started'))!,
    );
    expect(started.resources).toBeGreaterThan(10);

    ns = await createNamespace('srv');
    await kubectl(['create', 'deployment', 'api', '-n', ns, '--image=nginx', '--replicas=1']);
    const store = new SqliteBackend(path);
    const dep = await waitFor(
      async () => {
        const f = await store.findObjects({
          cluster: stack.clusterName,
          group: 'apps',
          resource: 'deployments',
          namespace: ns,
          name: 'api',
          startUs: 0,
          endUs: Number.MAX_SAFE_INTEGER,
          limit: 1,
        });
        return f.length ? f : undefined;
      },
      'the Deployment',
      90_000,
    );
    expect(dep[0]!.object.name).toBe('api');
    await store.close();

    // The Deployment can reach the store from the watch before the API server's audit batch is
    // durable (the webhook answers, and counts, only then): wait for the webhook's count.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${stack.webhookPort}/metrics`)).text();
        return /kubetrail_audit_events_accepted_total [1-9]/.test(text) ? text : undefined;
      },
      'audit events accepted by the webhook',
      90_000,
    );
    expect(metrics).toMatch(/kubetrail_watch_events_total\{source="watch",type="ADDED"\} [1-9]/);

    expect(await serve.stop()).toBe(0);
    expect(serve.output()).toContain('drained');
  });
});
