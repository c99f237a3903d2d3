// Informers against the real KWOK cluster: discovery finds the resources, list-watch changes reach
// the pipeline, and in list-watch-only mode they become event spans with the diff.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { loadKubeConfig } from '../../src/informers/kube-client.ts';
import { discoverResources } from '../../src/informers/discovery.ts';
import { startInformers, type RunningInformers } from '../../src/informers/index.ts';
import { objectKey } from '../../src/model.ts';
import { rawTraceId } from '../../src/ids.ts';

const stack = inject('stack');
const kubectl = (...args: string[]) => execFileSync(stack.kubectlPath, ['--kubeconfig', stack.kubeconfig, ...args], { encoding: 'utf8' });

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('informers ← real cluster', () => {
  const cluster = 'kt-informers';
  const ns = `inf-${Date.now().toString(36)}`;
  let dir: string;
  let store: SqliteStore;
  let informers: RunningInformers | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-inf-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
  });
  afterAll(async () => {
    await informers?.stop();
    try { kubectl('delete', 'namespace', ns, '--wait=false'); } catch { /* gone */ }
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
      kc, cluster, pipeline: new Pipeline(), sink: store, listWatchOnly: true, include: ['/configmaps', '/namespaces'],
    });
    await informers.synced;
    kubectl('create', 'namespace', ns);
    kubectl('create', 'configmap', 'settings', '-n', ns, '--from-literal=mode=blue');
    kubectl('patch', 'configmap', 'settings', '-n', ns, '--type=merge', '-p', '{"data":{"mode":"green"}}');

    const spans = await poll('the configmap change spans', async () => {
      const f = await store.findObjects({ cluster, resource: 'configmaps', namespace: ns, name: 'settings', startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 1 });
      if (!f[0]) return undefined;
      const key = objectKey(f[0].object);
      const all = (await Promise.all(f[0].windows.map((w) => store.getRawTrace(rawTraceId(key, w))))).flat();
      const ev = all.filter((s) => s.kind === 'event');
      return ev.some((s) => String(s.attributes.diff ?? '').includes('green')) ? ev : undefined;
    });
    const update = spans.find((s) => String(s.attributes.diff ?? '').includes('green'))!;
    expect(String(update.attributes.diff)).toMatch(/data\.mode "blue" -> "green"/);
    expect(update.attributes.fieldManager).toBeTruthy();
  });
});
