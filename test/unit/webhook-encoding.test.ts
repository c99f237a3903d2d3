// The webhook takes compressed bodies (Content-Encoding gzip, deflate, br), as a proxy or a
// client may send them, over a real HTTP connection; the body limit holds after decoding.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import type { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/sources/webhook.ts';
import { deploymentEvents, eventList } from './webhook.fixtures.ts';
import { ALL_TIME, tempStore } from '../helpers/fixtures.ts';

const LIMIT = 64 * 1024;

describe('webhook Content-Encoding', () => {
  let temp: ReturnType<typeof tempStore>;
  let store: SqliteStore;
  let server: WebhookServer;
  let url: string;
  beforeAll(async () => {
    temp = tempStore('kt-webhook-enc-');
    store = temp.store;
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: store, maxBodyBytes: LIMIT });
    url = `${await server.app.listen({ port: 0, host: '127.0.0.1' })}/audit/`;
  });
  afterAll(async () => {
    await server.app.close();
    await temp.close();
  });

  const post = (cluster: string, body: Buffer, encoding: string) =>
    fetch(url + cluster, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: new Uint8Array(body) });

  it('decodes gzip, deflate and br bodies and traces them', async () => {
    const encoders: [string, (b: Buffer) => Buffer][] = [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ];
    for (const [encoding, encode] of encoders) {
      const res = await post(`enc-${encoding}`, encode(Buffer.from(JSON.stringify(eventList(deploymentEvents(`web-${encoding}`))))), encoding);
      expect(res.status, encoding).toBe(200);
      expect(await res.json()).toMatchObject({ received: 2, rejected: 0 });
      const found = await new SqliteBackend(store).findObjects({ cluster: `enc-${encoding}`, name: `web-${encoding}`, ...ALL_TIME, limit: 5 });
      expect(found, encoding).toHaveLength(1);
    }
  });

  it('answers 413 to a small body that decodes past --max-body-bytes (zip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(LIMIT * 64, 0x20)); // 4 MiB of spaces, a few KiB compressed
    expect(bomb.length).toBeLessThan(LIMIT);
    const res = await post('bomb', bomb, 'gzip');
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/larger than/);
  });

  it('answers 400 to a corrupt gzip body and 415 to an unknown encoding', async () => {
    const corrupt = await post('bad', Buffer.from('this is not gzip'), 'gzip');
    expect(corrupt.status).toBe(400);
    expect((await corrupt.json()).error).toMatch(/gzip/);
    const unknown = await post('bad', Buffer.from('{}'), 'compress');
    expect(unknown.status).toBe(415);
    expect(await new SqliteBackend(store).clusters()).not.toContain('bad');
  });
});
