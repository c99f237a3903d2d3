// The store on a real, small filesystem that fills up (issue 8, item 5; issue 21, item 4): the
// webhook answers 503 with the real cause (SQLITE_FULL, not "cannot rollback"), /readyz turns not
// ready with that cause and stays so while the disk is full — also when a tiny commit still fits in
// the write-ahead log — and once space returns both recover by themselves. Needs root to mount a
// 2 MiB tmpfs; skipped with a message where mounting is not permitted.
import { afterAll, describe, expect, it } from 'vitest';
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
const filler = join(dir, 'filler');

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store in its own file on the small filesystem, with the webhook in front. */
function open(file: string, probeIntervalMs: number) {
  const store = new SqliteStore(join(dir, file), { retryInitialMs: 10, probeIntervalMs });
  const server = buildWebhookServer({ pipeline: new Pipeline(), sink: store });
  return { store, server, post: (prefix: string, n: number) => server.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(pods(prefix, n)) }) };
}

async function shut(o: { store: SqliteStore; server: WebhookServer }): Promise<void> {
  await o.server.app.close();
  await o.store.close().catch(() => undefined);
}

/** Removes the filler: without any new write the sink notices that space is back (/readyz 200), and the API server's retry of the refused batch succeeds. */
async function freeSpaceAndRecover(o: ReturnType<typeof open>): Promise<void> {
  rmSync(filler);
  const deadline = Date.now() + 30_000;
  let ready = await o.server.app.inject({ method: 'GET', url: '/readyz' });
  while (ready.statusCode !== 200 && Date.now() < deadline) {
    await sleep(50);
    ready = await o.server.app.inject({ method: 'GET', url: '/readyz' });
  }
  expect(ready.statusCode).toBe(200);
  expect((await o.post('full', 50)).statusCode).toBe(200);
  expect(o.store.count()).toBeGreaterThan(100);
}

describe.skipIf(!mounted)('store on a full disk (real 2 MiB tmpfs)', () => {
  afterAll(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports SQLITE_FULL, turns not ready, and recovers once space returns', async () => {
    const o = open('kt.sqlite', 100);
    try {
      expect((await o.post('before', 5)).statusCode).toBe(200);

      fill(filler);
      const res = await o.post('full', 50);
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(/SQLITE_FULL/);
      expect(res.json().error).not.toMatch(/no transaction is active/);

      const notReady = await o.server.app.inject({ method: 'GET', url: '/readyz' });
      expect(notReady.statusCode).toBe(503);
      expect(JSON.stringify(notReady.json().reasons)).toMatch(/SQLITE_FULL/);

      await freeSpaceAndRecover(o);
    } finally {
      rmSync(filler, { force: true });
      await shut(o);
    }
  });

  it('stays not ready while real batches do not fit, even when a tiny commit still does', async () => {
    // probes every 10 ms: over the samples below the writer probes the full disk many times
    const o = open('wal.sqlite', 10);
    try {
      expect((await o.post('before', 5)).statusCode).toBe(200);
      // As SQLite does every 1000 pages: the write-ahead log is copied into the database, and the
      // next commit starts writing the log from its beginning, in space the file already holds.
      o.store.db.exec('PRAGMA wal_checkpoint(PASSIVE)');

      fill(filler);
      const res = await o.post('full', 50);
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatch(/SQLITE_FULL/);

      // no real write succeeded and no space came back: not ready on every sample
      const answers: number[] = [];
      for (let i = 0; i < 60; i++) {
        answers.push((await o.server.app.inject({ method: 'GET', url: '/readyz' })).statusCode);
        await sleep(20);
      }
      expect(answers.filter((c) => c !== 503)).toEqual([]);
      // and the API server's retry is still refused with the cause
      const again = await o.post('full', 50);
      expect(again.statusCode).toBe(503);
      expect(again.json().error).toMatch(/SQLITE_FULL/);

      await freeSpaceAndRecover(o);
    } finally {
      rmSync(filler, { force: true });
      await shut(o);
    }
  });
});
