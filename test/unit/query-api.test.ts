import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { keyHash, rawTraceId } from '../../src/core/ids.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';
import { backendWithHistory, keys, WINDOW_SEC, WS0, WS1 } from './read-path-fixture.ts';

const US = (sec: number) => String(sec * 1e6);
const range = `start=${US(WS0)}&end=${US(WS1 + WINDOW_SEC)}`;
let app: FastifyInstance;
let uiDir: string;

beforeAll(async () => {
  uiDir = mkdtempSync(join(tmpdir(), 'kubetrail-ui-'));
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>kubetrail ui</title>');
  writeFileSync(join(uiDir, 'app.js'), 'console.log("ui")');
  app = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, uiDir });
});
afterAll(() => app.close());

const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, headers: res.headers, body: res.body, json: () => res.json() };
};

describe('Jaeger query API', () => {
  it('lists display modes as services and clusters as operations', async () => {
    const s = (await get('/api/services')).json();
    expect(s.data).toContain('tracing');
    expect(s.data).toContain('tracing (full tree)');
    expect(s.data).toContain('grouped (owned objects)');
    expect(s.errors).toBeNull();
    expect((await get('/api/services/tracing/operations')).json().data).toEqual(['kwok']);
    expect((await get('/api/operations?service=tree')).json().data).toEqual([{ name: 'kwok', spanKind: 'internal' }]);
    const bad = await get('/api/services/jaeger/operations');
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ data: null, errors: [{ code: 400 }] });
  });

  it('searches objects by JSON or logfmt tags and returns one assembled trace per object', async () => {
    const json = encodeURIComponent(JSON.stringify({ name: 'demo', resource: 'deployments' }));
    const r = (await get(`/api/traces?service=tracing%20(full%20tree)&operation=kwok&tags=${json}&${range}&limit=20`)).json();
    expect(r.errors).toBeNull();
    expect(r.data).toHaveLength(1);
    const t = r.data[0];
    expect(t.traceID).toMatch(/^ff21000000/);
    expect(t.traceID.slice(10, 23)).toBe(keyHash(keys.deploy));
    expect(t.traceID.slice(30)).toBe('02'); // both windows
    expect(t.spans.map((s: { operationName: string }) => s.operationName)).toContain('pods default/demo-bbb-1');
    expect(Object.values(t.processes)).toEqual([{ serviceName: 'kwok', tags: [{ key: 'cluster', type: 'string', value: 'kwok' }] }]);

    const logfmt = (await get(`/api/traces?service=tree&tags=${encodeURIComponent('namespace=default resource=pods')}&${range}`)).json();
    expect(logfmt.data.map((x: { spans: { operationName: string }[] }) => x.spans[0]!.operationName).sort()).toEqual([
      'pods default/demo-aaa-1',
      'pods default/demo-aaa-2',
      'pods default/demo-bbb-1',
      'pods default/other-1',
    ]);
    expect(logfmt.data.every((x: { traceID: string }) => x.traceID.startsWith('ff00000000'))).toBe(true);

    // repeated tags parameters add up
    const repeated = (await get(`/api/traces?service=tracing&tags=name%3Ddemo&tags=resource%3Ddeployments&${range}`)).json();
    expect(repeated.data.map((x: { spans: { operationName: string }[] }) => x.spans[0]!.operationName)).toEqual(['deployments default/demo']);
  });

  it('finds nothing outside the time range and honours the limit', async () => {
    const past = (await get(`/api/traces?service=tracing&tags=${encodeURIComponent('{"name":"demo"}')}&start=0&end=1000`)).json();
    expect(past.data).toEqual([]);
    const limited = (await get(`/api/traces?service=tracing&tags=resource%3Dpods&${range}&limit=2`)).json();
    expect(limited.data).toHaveLength(2);
  });

  it('rejects bad search input with a Jaeger-style error', async () => {
    // issue 10: a tag outside the object keys is a free tag search over the spans (no longer a 400)
    const free = await get(`/api/traces?service=tracing&tags=${encodeURIComponent('{"color":"red"}')}&${range}`);
    expect(free.status).toBe(200);
    expect(free.json().data).toEqual([]);
    expect((await get(`/api/traces?service=tracing&tags=%7Bnope&${range}`)).status).toBe(400);
    expect((await get(`/api/traces?service=nope`)).status).toBe(400);
    expect((await get(`/api/traces?service=tracing&lookback=soon`)).json().errors[0].msg).toMatch(/lookback/);
    expect((await get(`/api/traces?service=tracing&start=yesterday`)).status).toBe(400);
  });

  it('answers a display ID in any mode after swapping its mode digits', async () => {
    const search = (await get(`/api/traces?service=tracing&tags=name%3Ddemo-aaa&${range}`)).json();
    const id: string = search.data[0].traceID;
    const tracing = (await get(`/api/traces/${id}`)).json();
    expect(tracing.data[0].traceID).toBe(id);
    expect(tracing.data[0].spans).toHaveLength(4); // the RS, its Deployment, its 2 pods

    const ancestors = (await get(`/api/traces/ff22000000${id.slice(10)}`)).json().data[0];
    expect(ancestors.spans.map((s: { operationName: string }) => s.operationName)).toEqual(['deployments default/demo', 'replicasets default/demo-aaa']);
    const timeline = (await get(`/api/traces/ff10000000${id.slice(10)}`)).json().data[0];
    expect(timeline.spans[0].operationName).toBe('replicasets default/demo-aaa');
    expect(timeline.spans.length).toBeGreaterThan(4);
    // uppercase IDs work too (some tools upper-case hex)
    expect((await get(`/api/traces/${id.toUpperCase()}`)).status).toBe(200);
  });

  it('serves a raw trace as stored, and 404s unknown IDs', async () => {
    const raw = (await get(`/api/traces/${rawTraceId(keys.rsA, WS1)}`)).json().data[0];
    expect(raw.spans.map((s: { tags: { key: string; value: unknown }[] }) => s.tags.find((t) => t.key === 'nestLevel')!.value).sort()).toEqual([
      'event',
      'link',
      'object',
    ]);
    const unknownDisplay = await get(`/api/traces/ff20000000${'1'.repeat(13)}${(WS0 / 60).toString(16).padStart(7, '0')}01`);
    expect(unknownDisplay.status).toBe(404);
    expect(unknownDisplay.json()).toMatchObject({ data: null, errors: [{ code: 404 }] });
    expect((await get(`/api/traces/${rawTraceId('kwok//pods/default/nope', WS0)}`)).status).toBe(404);
    expect((await get('/api/traces/not-a-trace')).status).toBe(404);
  });

  it('/redirect sends to the object around a time, explains misses and ambiguity', async () => {
    const ok = await get(`/redirect?cluster=kwok&group=apps&resource=deployments&namespace=default&name=demo&ts=${WS1 + 60}`);
    expect(ok.status).toBe(302);
    const loc = String(ok.headers.location);
    expect(loc).toMatch(/^\/trace\/ff20000000[0-9a-f]{22}$/);
    expect(loc.slice(17, 30)).toBe(keyHash(keys.deploy));
    // issue 10: ts ± one window, merged — from the window of ts − 30 min to the window of ts + 30 min
    expect(parseInt(loc.slice(30, 37), 16) * 60).toBe(WS0);
    expect(parseInt(loc.slice(37), 16)).toBe(3);

    // a day later: the nearest window is still found
    const near = await get(
      `/redirect?resource=deployments&name=demo&ts=${new Date((WS1 + 20 * 3600) * 1000).toISOString()}&mode=${encodeURIComponent('tree (full tree)')}`,
    );
    expect(near.status).toBe(302);
    expect(String(near.headers.location)).toMatch(/^\/trace\/ff01000000/);

    const missing = await get(`/redirect?resource=deployments&name=nope&ts=${WS0}`);
    expect(missing.status).toBe(404);
    expect(missing.json().errors[0].msg).toMatch(/no object/);

    expect((await get('/redirect?name=x')).status).toBe(400); // resource is required
  });

  it('serves the UI for the SPA routes and its files', async () => {
    for (const path of ['/', '/search', `/trace/ff20000000${'0'.repeat(22)}`]) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(r.body).toContain('kubetrail ui');
    }
    expect((await get('/app.js')).body).toContain('console.log');
    // issue 10: /api/dependencies is kubetrail's own now; any other unknown path is still a 404
    const none = await get('/api/quality-metrics');
    expect(none.status).toBe(404);
    expect(none.json().errors[0].msg).toMatch(/no route/);
  });
});

describe("the built-in UI's API", () => {
  it("answers a failed store read in Jaeger's error shape, like the rest of the API", async () => {
    // a store whose reads fail (a full or broken disk)
    const backend: TraceBackend = Object.assign(backendWithHistory(), {
      summary: async (): Promise<never> => {
        throw new Error('disk I/O error');
      },
    });
    const a = await createQueryServer({ backend, windowSec: WINDOW_SEC, uiDir: '/nonexistent', logger: false });
    for (const url of ['/api/ui/summary', '/api/ui/activity?cluster=kwok']) {
      const r = await a.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(500);
      expect(r.json(), url).toMatchObject({ data: null, errors: [{ code: 500, msg: 'disk I/O error' }] });
    }
    const bad = await a.inject({ method: 'GET', url: '/api/ui/activity?buckets=0' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].msg).toMatch(/buckets must be 1\.\.500/);
    await a.close();
  });
});

describe('/redirect with several matches', () => {
  it('answers 400 with the candidates when the name alone is ambiguous', async () => {
    const backend = backendWithHistory();
    const s = new SyntheticTraces(WINDOW_SEC);
    s.audit(ref('configmaps', 'team-a', 'settings'), (WS0 + 5) * 1e6, 'admin', 'create');
    s.audit(ref('configmaps', 'team-b', 'settings'), (WS0 + 6) * 1e6, 'admin', 'create');
    backend.add(s.spans);
    const a = await createQueryServer({ backend, windowSec: WINDOW_SEC, uiDir: '/nonexistent' });
    const r = await a.inject({ method: 'GET', url: `/redirect?resource=configmaps&name=settings&ts=${WS0}` });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].msg).toMatch(/2 objects match/);
    expect(
      r
        .json()
        .candidates.map((c: { namespace: string }) => c.namespace)
        .sort(),
    ).toEqual(['team-a', 'team-b']);
    const one = await a.inject({ method: 'GET', url: `/redirect?resource=configmaps&name=settings&namespace=team-b&ts=${WS0}` });
    expect(one.statusCode).toBe(302);
    const home = await a.inject({ method: 'GET', url: '/' });
    expect(home.body).toMatch(/UI is missing/);
    await a.close();
  });
});

describe('passthrough to the upstream Jaeger query service', () => {
  let upstream: FastifyInstance;
  let proxy: FastifyInstance;
  beforeAll(async () => {
    // A stand-in for Jaeger's own routes: what it receives is what the proxy forwarded.
    upstream = Fastify();
    upstream.get('/api/metrics/latencies', async (req) => ({ data: [{ parent: 'a', child: 'b', callCount: 1 }], query: req.query }));
    upstream.post('/api/archive/:id', async (req) => ({ archived: (req.params as { id: string }).id, body: req.body }));
    upstream.get('/api/traces/:id', async (_req, reply) =>
      reply.code(404).send({ data: null, errors: [{ code: 404, msg: 'trace not found' }], from: 'upstream' }),
    );
    upstream.get('/static/app.css', async (_req, reply) => reply.type('text/css').send('body{}'));
    await upstream.listen({ port: 0, host: '127.0.0.1' });
    const addr = upstream.server.address() as { port: number };
    proxy = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, upstream: `http://127.0.0.1:${addr.port}`, uiDir: '/nonexistent' });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('forwards other paths with their query, body, status and headers', async () => {
    // (issue 10: /api/dependencies is answered by kubetrail itself, so another Jaeger path is forwarded here)
    const dep = await proxy.inject({ method: 'GET', url: '/api/metrics/latencies?endTs=1&lookback=2' });
    expect(dep.statusCode).toBe(200);
    expect(dep.json()).toEqual({ data: [{ parent: 'a', child: 'b', callCount: 1 }], query: { endTs: '1', lookback: '2' } });
    const post = await proxy.inject({ method: 'POST', url: '/api/archive/abc', payload: { keep: true } });
    expect(post.json()).toEqual({ archived: 'abc', body: { keep: true } });
    const css = await proxy.inject({ method: 'GET', url: '/static/app.css' });
    expect(css.headers['content-type']).toMatch(/text\/css/);
    expect(css.body).toBe('body{}');
  });

  it('passes trace IDs that are not kubetrail IDs to Jaeger, answers its own', async () => {
    const foreign = await proxy.inject({ method: 'GET', url: '/api/traces/0123456789abcdef' });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().from).toBe('upstream');
    const own = await proxy.inject({ method: 'GET', url: `/api/traces/${rawTraceId(keys.deploy, WS0)}` });
    expect(own.statusCode).toBe(200);
  });

  it("keeps the upstream's path prefix, streams a body both ways, leaves out the connection's own headers", async () => {
    // Jaeger served below a path (`--jaeger-query http://jaeger:16686/jaeger`, its --query.base-path)
    const below = Fastify({ bodyLimit: 16 * 1024 * 1024 });
    below.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    below.post('/jaeger/api/transform', async (req, reply) => {
      const got = req.body as Buffer;
      return reply
        .header('keep-alive', 'timeout=5')
        .header('x-jaeger', 'yes')
        .type('application/octet-stream')
        .send(Buffer.concat([got, got]));
    });
    await below.listen({ port: 0, host: '127.0.0.1' });
    const port = (below.server.address() as { port: number }).port;
    const p = await createQueryServer({
      backend: backendWithHistory(),
      windowSec: WINDOW_SEC,
      upstream: `http://127.0.0.1:${port}/jaeger/`,
      uiDir: '/nonexistent',
    });
    const payload = Buffer.alloc(3 * 1024 * 1024, 'k'); // larger than one chunk each way
    const r = await p.inject({ method: 'POST', url: '/api/transform?x=1', payload, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.length).toBe(2 * payload.length);
    expect(r.headers['x-jaeger']).toBe('yes');
    expect(r.headers['keep-alive']).toBeUndefined();
    await p.close();
    await below.close();
  });

  it("passes the upstream's 503 on as it is, without asking again", async () => {
    let hits = 0;
    const busy = Fastify();
    busy.get('/api/metrics/calls', async (_req, reply) => {
      hits++;
      return reply.code(503).send({ data: null, errors: [{ code: 503, msg: 'busy' }] });
    });
    await busy.listen({ port: 0, host: '127.0.0.1' });
    const port = (busy.server.address() as { port: number }).port;
    const p = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, upstream: `http://127.0.0.1:${port}`, uiDir: '/nonexistent' });
    const r = await p.inject({ method: 'GET', url: '/api/metrics/calls' });
    expect(r.statusCode).toBe(503);
    expect(r.json().errors[0].msg).toBe('busy');
    expect(hits).toBe(1);
    await p.close();
    await busy.close();
  });

  it('says clearly when the upstream is down', async () => {
    const dead = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, upstream: 'http://127.0.0.1:1', uiDir: '/nonexistent' });
    const r = await dead.inject({ method: 'GET', url: '/api/metrics/latencies' });
    expect(r.statusCode).toBe(502);
    expect(r.json().errors[0].msg).toMatch(/unreachable/);
    await dead.close();
  });
});
