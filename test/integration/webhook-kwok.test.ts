// The real kube-apiserver of the KWOK cluster POSTs its audit EventLists to our webhook; the writes
// we make with kubectl show up as spans in the embedded store.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { instrument } from '../../src/sinks/index.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/server/webhook.ts';
import { objectKey } from '../../src/model.ts';
import { rawTraceId } from '../../src/ids.ts';

const stack = inject('stack');
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

describe('audit webhook ← real kube-apiserver', () => {
  let dir: string;
  let store: SqliteStore;
  let server: WebhookServer;
  const ns = `wh-${Date.now().toString(36)}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kt-wh-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: instrument(store, 'store'), defaultCluster: stack.clusterName });
    await server.app.listen({ port: stack.webhookPort, host: '127.0.0.1' });
  });
  afterAll(async () => {
    try { kubectl('delete', 'namespace', ns, '--wait=false'); } catch { /* already gone */ }
    await server?.app.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('traces a Deployment rollout: the user write, then the controllers', async () => {
    kubectl('create', 'namespace', ns);
    kubectl('create', 'deployment', 'web', '-n', ns, '--image=nginx', '--replicas=2');
    kubectl('scale', 'deployment', 'web', '-n', ns, '--replicas=3');

    const found = await poll('the Deployment in the store', async () => {
      const f = await store.findObjects({ cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: ns, name: 'web', startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 5 });
      return f.length ? f : undefined;
    });
    const key = objectKey(found[0]!.object);
    const events = await poll('create, scale and controller updates', async () => {
      const spans = (await Promise.all(found[0]!.windows.map((w) => store.getRawTrace(rawTraceId(key, w))))).flat();
      const ev = spans.filter((s) => s.kind === 'event');
      const users = new Set(ev.map((s) => String(s.attributes.user)));
      return ev.length >= 3 && [...users].some((u) => u.includes('deployment-controller')) ? ev : undefined;
    });
    const verbs = events.map((s) => `${s.attributes.verb}${s.attributes.subresource ? ` ${s.attributes.subresource}` : ''}`);
    expect(verbs).toContain('create');
    expect(verbs.some((v) => v.startsWith('patch') || v.startsWith('update'))).toBe(true);

    // the ReplicaSet and Pods the controllers created are traced too
    const pods = await poll('the pods', async () => {
      const f = await store.findObjects({ cluster: stack.clusterName, resource: 'pods', namespace: ns, startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 10 });
      return f.length >= 2 ? f : undefined;
    });
    expect(pods.length).toBeGreaterThanOrEqual(2);

    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/kubetrail_webhook_requests_total\{code="200"\} [1-9]/);
    expect(metrics).not.toContain(ns);
  });
});
