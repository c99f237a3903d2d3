// Informer backpressure against the real KWOK cluster (issue 8, item 4): with a sink far too small
// for a burst of changes, the informers stop reading watch events until it drains (and resume from
// their resourceVersion) instead of buffering and dropping: every change of the burst is stored.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { loadKubeConfig } from '../../src/sources/informers/kube-client.ts';
import { startInformers, type RunningInformers } from '../../src/sources/informers/index.ts';
import { registry } from '../../src/core/metrics.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';

const stack = inject('stack');

async function pauses(): Promise<number> {
  const m = /kubetrail_informer_pauses_total (\d+)/.exec(await registry.metrics());
  return m ? Number(m[1]) : 0;
}

describe('informers ← real cluster, sink slower than the watch', () => {
  const cluster = 'kt-informers-bp';
  let ns = '';
  let dir: string;
  let store: SqliteStore;
  let informers: RunningInformers | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-inf-bp-'));
    // a sink that holds 20 spans and commits 5 at a time: a burst of 300 changes cannot fit
    store = new SqliteStore(join(dir, 'kt.sqlite'), { maxPending: 20, maxBatchSpans: 5, concurrency: 1 });
  });
  afterAll(async () => {
    await informers?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pauses the watches while the sink is full and stores every change of a burst', async () => {
    const kc = loadKubeConfig({ kubeconfig: stack.kubeconfig });
    const before = await pauses();
    // 5 unacknowledged spans pause the informers: the initial list alone (a kube-root-ca.crt per
    // namespace, 2 spans each, delivered at once) exceeds it, the burst below many times over
    informers = await startInformers({
      kc,
      cluster,
      pipeline: new Pipeline(),
      sink: store,
      listWatchOnly: true,
      include: ['/configmaps'],
      events: false,
      maxUnacked: 5,
    });
    await informers.synced;
    ns = await createNamespace('infbp');
    const n = 300;
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: Array.from({ length: n }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `burst-${i}`, namespace: ns },
        data: { i: String(i) },
      })),
    };
    await kubectl(['create', '-f', '-'], { input: JSON.stringify(list), timeoutMs: 120_000 });

    const found = await waitFor(
      async () => {
        const f = await new SqliteBackend(store).findObjects({
          cluster,
          resource: 'configmaps',
          namespace: ns,
          startUs: 0,
          endUs: Number.MAX_SAFE_INTEGER,
          limit: 1000,
        });
        const burst = f.filter((x) => x.object.name.startsWith('burst-'));
        return burst.length >= n ? burst : undefined;
      },
      `all ${n} configmaps in the store`,
      120_000,
    );
    expect(new Set(found.map((f) => f.object.name)).size).toBe(n); // each once, none missing
    expect(await pauses()).toBeGreaterThan(before);
  });
});
