// `--ui-dir` (issue 10): another UI — a Jaeger UI build — served by the query server of `serve`
// and of `query`; the routes the UI owns are answered from that directory, never by the upstream Jaeger.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { backendWithHistory, WINDOW_SEC } from './read-path-fixture.ts';
import { freePorts } from '../setup/ports.ts';

const CLI = resolve(import.meta.dirname, '../../src/cli.ts');
let dir: string;
let uiDir: string;
let upstream: FastifyInstance;
let upstreamHits: string[];
let app: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kt-uidir-'));
  // the layout of a Jaeger UI release (packages/jaeger-ui/build): index.html + static/
  uiDir = join(dir, 'jaeger-ui');
  mkdirSync(join(uiDir, 'static'), { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>Jaeger UI</title><div id="jaeger-ui-root"></div>');
  writeFileSync(join(uiDir, 'static', 'index-abc.js'), 'console.log("jaeger ui")');
  upstreamHits = [];
  upstream = Fastify();
  upstream.addHook('onRequest', async (req) => {
    upstreamHits.push(req.url);
  });
  upstream.get('/*', async (_req, reply) => reply.type('text/html').send('<title>upstream Jaeger UI</title>'));
  await upstream.listen({ port: 0, host: '127.0.0.1' });
  const port = (upstream.server.address() as { port: number }).port;
  app = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, uiDir, upstream: `http://127.0.0.1:${port}`, logger: false });
});
afterAll(async () => {
  await app?.close();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a UI directory in front of an upstream Jaeger', () => {
  it('answers every page of the UI from the directory, never from the upstream', async () => {
    for (const path of ['/', '/search?service=tracing', '/trace/ff20000000abc', '/dependencies', '/monitor', '/deep-dependencies', '/trace/a...b']) {
      const r = await app.inject({ method: 'GET', url: path });
      expect(r.statusCode, path).toBe(200);
      expect(r.body, path).toContain('<title>Jaeger UI</title>');
    }
    const js = await app.inject({ method: 'GET', url: '/static/index-abc.js' });
    expect(js.body).toContain('jaeger ui');
    const missing = await app.inject({ method: 'GET', url: '/static/missing.js' });
    expect(missing.statusCode).toBe(404);
    expect(upstreamHits).toEqual([]);
    // the API paths it does not answer still go to Jaeger
    await app.inject({ method: 'GET', url: '/api/metrics/latencies?service=x' });
    expect(upstreamHits).toEqual(['/api/metrics/latencies?service=x']);
  });
});

describe('UI files asked for below a page', () => {
  it("answers /trace/static/<file> — a Jaeger UI build's relative `./static/…` resolved against /trace/<id> before its <base> is set", async () => {
    for (const path of ['/trace/static/index-abc.js', '/trace/ff21000000abc/static/index-abc.js', '/search/static/index-abc.js']) {
      const r = await app.inject({ method: 'GET', url: path });
      expect(r.statusCode, path).toBe(200);
      expect(r.headers['content-type'], path).toMatch(/javascript/);
      expect(r.body, path).toBe('console.log("jaeger ui")');
    }
    // still a 404 when the UI has no such file; nothing outside the UI directory; the pages stay pages
    expect((await app.inject({ method: 'GET', url: '/trace/static/missing.js' })).statusCode).toBe(404);
    writeFileSync(join(dir, 'outside.js'), 'secret');
    for (const path of ['/trace/..%2Foutside.js', '/trace/static/..%2F..%2Foutside.js', '/trace/%2e%2e/outside.js']) {
      const r = await app.inject({ method: 'GET', url: path });
      expect(r.body, path).not.toContain('secret');
    }
    expect((await app.inject({ method: 'GET', url: '/trace/ff21000000abc' })).body).toContain('<title>Jaeger UI</title>');
    expect(upstreamHits.filter((u) => u.startsWith('/trace'))).toEqual([]);
  });
});

describe('kubetrail serve --ui-dir', () => {
  it('serves that UI on the query port', async () => {
    const [webhookPort, queryPort] = await freePorts(2);
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--webhook-port',
        String(webhookPort),
        '--webhook-host',
        '127.0.0.1',
        '--no-informers',
        '--store',
        join(dir, 'serve.sqlite'),
        '--query-port',
        String(queryPort),
        '--ui-dir',
        uiDir,
        '--log-level',
        'info',
      ],
      {
        env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let err = '';
    await new Promise<void>((ok, fail) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        if (/query API and UI/.test(err)) ok();
      });
      void exited.then((code) => fail(new Error(`serve exited ${code}: ${err}`)));
    });
    try {
      const page = await fetch(`http://127.0.0.1:${queryPort}/search`);
      expect(await page.text()).toContain('<title>Jaeger UI</title>');
      const v3 = (await (await fetch(`http://127.0.0.1:${queryPort}/api/v3/services`)).json()) as { services: string[] };
      expect(v3.services).toContain('tracing');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('refuses a directory without index.html, clearly and before listening', () => {
    for (const cmd of [
      ['serve', '--no-informers', '--store', join(dir, 'x.sqlite'), '--webhook-port', '0'],
      ['query', '--jaeger-query', 'http://127.0.0.1:1', '--port', '0'],
    ]) {
      const r = spawnSync(process.execPath, [CLI, ...cmd, '--ui-dir', join(dir, 'nope')], {
        encoding: 'utf8',
        env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' },
        timeout: 30_000,
      });
      expect(r.status, cmd[0]).not.toBe(0);
      expect(r.stderr + r.stdout, cmd[0]).toMatch(/--ui-dir .*no index\.html/);
    }
  });
});
