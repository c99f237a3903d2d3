// Informers against the real KWOK cluster: discovery finds the resources, list-watch changes reach
// the pipeline, and in list-watch-only mode they become event spans with the diff.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { loadKubeConfig } from '../../src/sources/informers/kube-client.ts';
import { discoverResources } from '../../src/sources/informers/discovery.ts';
import { startInformers, type RunningInformers } from '../../src/sources/informers/index.ts';
import { objectKey } from '../../src/core/model.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';

const stack = inject('stack');

describe('informers ← real cluster', () => {
  const cluster = 'kt-informers';
  let ns = '';
  let dir: string;
  let store: SqliteStore;
  let informers: RunningInformers | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-inf-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
  });
  afterAll(async () => {
    await informers?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('discovers listable resources, without Events and excluded ones', async () => {
    const kc = loadKubeConfig({ kubeconfig: stack.kubeconfig });
    const all = await discoverResources(kc, { exclude: ['coordination.k8s.io/leases'] });
    const ids = all.map((r) => `${r.group}/${r.resource}`);
    expect(ids).toEqual(expect.arrayContaining(['/pods', '/configmaps', 'apps/deployments', '/nodes']));
    expect(ids).not.toContain('/events');
    expect(ids).not.toContain('coordination.k8s.io/leases');
    expect(ids.some((i) => i.includes('/status'))).toBe(false);
  });

  it('list-watch-only mode turns watched changes into event spans with diffs', async () => {
    const kc = loadKubeConfig({ kubeconfig: stack.kubeconfig });
    informers = await startInformers({
      kc,
      cluster,
      pipeline: new Pipeline(),
      sink: store,
      listWatchOnly: true,
      include: ['/configmaps', '/namespaces'],
    });
    await informers.synced;
    ns = await createNamespace('inf');
    await kubectl(['create', 'configmap', 'settings', '-n', ns, '--from-literal=mode=blue']);
    await kubectl(['patch', 'configmap', 'settings', '-n', ns, '--type=merge', '-p', '{"data":{"mode":"green"}}']);

    const spans = await waitFor(
      async () => {
        const f = await new SqliteBackend(store).findObjects({
          cluster,
          resource: 'configmaps',
          namespace: ns,
          name: 'settings',
          startUs: 0,
          endUs: Number.MAX_SAFE_INTEGER,
          limit: 1,
        });
        if (!f[0]) return undefined;
        const key = objectKey(f[0].object);
        const all = (await Promise.all(f[0].windows.map((w) => new SqliteBackend(store).getRawTrace(rawTraceId(key, w))))).flat();
        const ev = all.filter((s) => s.kind === 'event');
        return ev.some((s) => String(s.attributes.diff ?? '').includes('green')) ? ev : undefined;
      },
      'the configmap change spans',
      60_000,
    );
    const update = spans.find((s) => String(s.attributes.diff ?? '').includes('green'))!;
    expect(String(update.attributes.diff)).toMatch(/data\.mode "blue" -> "green"/);
    expect(update.attributes.fieldManager).toBeTruthy();
  });
});
