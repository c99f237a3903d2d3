// The real kube-apiserver of the KWOK cluster POSTs its audit EventLists to our webhook; the writes
// we make with kubectl show up as spans in the embedded store.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { instrument } from '../../src/sinks/index.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/sources/webhook.ts';
import { objectKey, type SpanRecord } from '../../src/core/model.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';

const stack = inject('stack');

describe('audit webhook ← real kube-apiserver', () => {
  let dir: string;
  let store: SqliteStore;
  let server: WebhookServer;
  let ns = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kt-wh-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: instrument(store, 'store'), defaultCluster: stack.clusterName });
    await server.app.listen({ port: stack.webhookPort, host: '127.0.0.1' });
  });
  afterAll(async () => {
    if (ns) await deleteNamespace(ns).catch(() => {});
    await server?.app.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('traces a Deployment rollout: the user write, then the controllers', async () => {
    ns = await createNamespace('wh');
    await kubectl(['create', 'deployment', 'web', '-n', ns, '--image=nginx', '--replicas=2']);
    await kubectl(['scale', 'deployment', 'web', '-n', ns, '--replicas=3']);

    const found = await waitFor(
      async () => {
        const f = await new SqliteBackend(store).findObjects({
          cluster: stack.clusterName,
          group: 'apps',
          resource: 'deployments',
          namespace: ns,
          name: 'web',
          startUs: 0,
          endUs: Number.MAX_SAFE_INTEGER,
          limit: 5,
        });
        return f.length ? f : undefined;
      },
      'the Deployment in the store',
      90_000,
    );
    const key = objectKey(found[0]!.object);
    // the API server sends its audit batches concurrently: the create's may be stored after the
    // controller's writes, so wait for all of them
    const verbsOf = (ev: SpanRecord[]) => ev.map((s) => `${s.attributes.verb}${s.attributes.subresource ? ` ${s.attributes.subresource}` : ''}`);
    const events = await waitFor(
      async () => {
        const spans = (await Promise.all(found[0]!.windows.map((w) => new SqliteBackend(store).getRawTrace(rawTraceId(key, w))))).flat();
        const ev = spans.filter((s) => s.kind === 'event');
        const users = new Set(ev.map((s) => String(s.attributes.user)));
        const verbs = verbsOf(ev);
        const all = verbs.includes('create') && verbs.some((v) => v.startsWith('patch') || v.startsWith('update'));
        return all && [...users].some((u) => u.includes('deployment-controller')) ? ev : undefined;
      },
      'create, scale and controller updates',
      90_000,
    );
    const verbs = verbsOf(events);
    expect(verbs).toContain('create');
    expect(verbs.some((v) => v.startsWith('patch') || v.startsWith('update'))).toBe(true);

    // the ReplicaSet and Pods the controllers created are traced too
    const pods = await waitFor(
      async () => {
        const f = await new SqliteBackend(store).findObjects({
          cluster: stack.clusterName,
          resource: 'pods',
          namespace: ns,
          startUs: 0,
          endUs: Number.MAX_SAFE_INTEGER,
          limit: 10,
        });
        return f.length >= 2 ? f : undefined;
      },
      'the pods',
      90_000,
    );
    expect(pods.length).toBeGreaterThanOrEqual(2);

    const metrics = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/kubetrail_webhook_requests_total\{code="200"\} [1-9]/);
    expect(metrics).not.toContain(ns);
  });
});
