// HTTPS with client-certificate auth, as an audit-webhook kubeconfig with client-certificate/client-key
// connects. Certificates in webhook-tls/ are test-only (100-year validity, keys of no other use).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { request } from 'node:https';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { buildWebhookServer, loadTls, type WebhookServer } from '../../src/sources/webhook.ts';
import { deploymentEvents, eventList } from './webhook.fixtures.ts';

const certs = resolve(import.meta.dirname, 'webhook-tls');
const pem = (f: string) => readFileSync(join(certs, f));

function post(port: number, client?: 'client' | 'rogue', token?: string): Promise<number> {
  const body = JSON.stringify(eventList(deploymentEvents()));
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/audit/tls',
        method: 'POST',
        ca: pem('ca.crt'),
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(client ? { cert: pem(`${client}.crt`), key: pem(`${client}.key`) } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('audit webhook over HTTPS', () => {
  let dir: string;
  let store: SqliteStore;
  let server: WebhookServer;
  let port: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kt-tls-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    const tls = loadTls(join(certs, 'server.crt'), join(certs, 'server.key'), join(certs, 'ca.crt'));
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: store, tls, token: 'tok' });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    port = (server.app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await server.app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a client certificate signed by --client-ca (plus the token)', async () => {
    expect(await post(port, 'client', 'tok')).toBe(200);
    expect(await new SqliteBackend(store).findObjects({ cluster: 'tls', name: 'web', startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 1 })).toHaveLength(1);
  });

  it('still requires the token with a valid certificate', async () => {
    expect(await post(port, 'client')).toBe(401);
  });

  it('refuses connections without a client certificate or with one from another CA', async () => {
    await expect(post(port, undefined, 'tok')).rejects.toThrow();
    await expect(post(port, 'rogue', 'tok')).rejects.toThrow();
  });

  it('explains incomplete TLS flags', () => {
    expect(() => loadTls(join(certs, 'server.crt'))).toThrow(/--tls-cert and --tls-key/);
    expect(() => loadTls(undefined, undefined, join(certs, 'ca.crt'))).toThrow(/--client-ca needs/);
  });
});
