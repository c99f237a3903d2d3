// The real kube-apiserver of the KWOK cluster → our webhook → the embedded store:
// - a namespace created and deleted with kubectl is ONE object, `namespaces /<name>` (the API
//   server sets objectRef.namespace on /api/v1/namespaces/<name>, which must not split it);
// - a generateName create refused because its namespace is terminating is traced as an error.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { instrument } from '../../src/sinks/index.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/sources/webhook.ts';
import { objectKey } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';

const stack = inject('stack');
const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 10 };

describe('namespaces and nameless failures ← real kube-apiserver', () => {
  let dir: string;
  let store: SqliteStore;
  let server: WebhookServer;
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kt-ns-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: instrument(store, 'store'), defaultCluster: stack.clusterName });
    await server.app.listen({ port: stack.webhookPort, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
    await server?.app.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const eventsOf = async (found: { object: Parameters<typeof objectKey>[0]; windows: number[] }): Promise<SpanRecord[]> => {
    const key = objectKey(found.object);
    return (await new SqliteBackend(store).getRawTraces(found.windows.map((w) => rawTraceId(key, w)))).flat().filter((s) => s.kind === 'event');
  };

  it('a namespace created and deleted with kubectl is one object with an empty namespace', async () => {
    const name = `kt-ns-${randomBytes(3).toString('hex')}`;
    await kubectl(['create', 'namespace', name]);
    await kubectl(['delete', 'namespace', name, '--wait=false']);
    const found = await waitFor(
      async () => {
        const f = await new SqliteBackend(store).findObjects({ ...ALL, cluster: stack.clusterName, resource: 'namespaces', name });
        if (f.length !== 1) return f.length > 1 ? f : undefined;
        const verbs = (await eventsOf(f[0]!)).map((s) => String(s.attributes.verb));
        return verbs.includes('create') && verbs.includes('delete') ? f : undefined;
      },
      `the namespace ${name}, created and deleted, in the store`,
      90_000,
    );
    expect(found.map((f) => objectKey(f.object))).toEqual([`${stack.clusterName}//namespaces//${name}`]);
  });

  it('a generateName create into a terminating namespace is an error on the prefix object', async () => {
    const ns = await createNamespace('kt-term');
    cleanup.push(() => deleteNamespace(ns));
    // a finalizer on a ConfigMap holds the namespace in Terminating
    await kubectl(['create', '-n', ns, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hold', finalizers: ['kubetrail.io/test-hold'] } }),
    });
    cleanup.push(() => kubectl(['patch', 'configmap', 'hold', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']));
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
    await waitFor(
      async () => (await kubectl(['get', 'namespace', ns, '-o', 'jsonpath={.status.phase}'])).trim() === 'Terminating' || undefined,
      `namespace ${ns} Terminating`,
      60_000,
    );
    const refused = await kubectl(['create', '-n', ns, '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'late-' } }),
    }).then(
      () => 'created',
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/forbidden|terminat/i);
    const [ev] = await waitFor(
      async () => {
        const f = await new SqliteBackend(store).findObjects({ ...ALL, cluster: stack.clusterName, resource: 'configmaps', namespace: ns, name: 'late-' });
        if (!f.length) return undefined;
        const evs = (await eventsOf(f[0]!)).filter((s) => s.error);
        return evs.length ? evs : undefined;
      },
      'the refused create in the store',
      90_000,
    );
    expect(ev!.name).toBe('create');
    expect(ev!.attributes.code).toBe(403);
    expect(ev!.error).toMatch(/^Forbidden: .*terminat/);
  });
});
