// The store on a real, small filesystem that fills up (issue 8, item 5): the webhook answers 503
// with the real cause (SQLITE_FULL, not "cannot rollback"), /readyz turns not ready with that cause,
// and once space returns both recover by themselves. Needs root to mount a 2 MiB tmpfs; skipped
// with a message where mounting is not permitted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, rmdirSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/sources/webhook.ts';
import { auditEvent, eventList } from './webhook.fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'kt-diskfull-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]).status === 0;
if (!mounted) {
  rmdirSync(dir);
  console.warn('store-disk-full.test.ts skipped: mounting a tmpfs is not permitted here (needs root)');
}

/** Fills the filesystem with one file until ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // the last partial chunk: byte by byte
  const fd2 = openSync(path, 'a');
  try {
    for (;;) writeSync(fd2, chunk.subarray(0, 512));
  } catch {
    /* full */
  } finally {
    closeSync(fd2);
  }
}

const pods = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    auditEvent({
      verb: 'create',
      resource: 'pods',
      kind: 'Pod',
      namespace: 'default',
      name: `${prefix}-${i}`,
      at: i,
      object: { metadata: { name: `${prefix}-${i}`, namespace: 'default', annotations: { note: 'n'.repeat(2000) } } },
    }),
  );

describe.skipIf(!mounted)('store on a full disk (real 2 MiB tmpfs)', () => {
  let store: SqliteStore;
  let server: WebhookServer;
  beforeAll(() => {
    store = new SqliteStore(join(dir, 'kt.sqlite'), { retryInitialMs: 10, probeIntervalMs: 100 });
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: store });
  });
  afterAll(async () => {
    await server?.app.close();
    await store?.close().catch(() => undefined);
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports SQLITE_FULL, turns not ready, and recovers once space returns', async () => {
    const ok = await server.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(pods('before', 5)) });
    expect(ok.statusCode).toBe(200);

    fill(join(dir, 'filler'));
    const res = await server.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(pods('full', 50)) });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatch(/SQLITE_FULL/);
    expect(res.json().error).not.toMatch(/no transaction is active/);

    const notReady = await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(JSON.stringify(notReady.json().reasons)).toMatch(/SQLITE_FULL/);

    rmSync(join(dir, 'filler'));
    // without any new write, the sink notices that space is back
    const deadline = Date.now() + 30_000;
    let ready = await server.app.inject({ method: 'GET', url: '/readyz' });
    while (ready.statusCode !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await server.app.inject({ method: 'GET', url: '/readyz' });
    }
    expect(ready.statusCode).toBe(200);
    // the API server's retry of the refused batch now succeeds
    const retried = await server.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(pods('full', 50)) });
    expect(retried.statusCode).toBe(200);
    expect(store.count()).toBeGreaterThan(100);
  });
});
