// `--ui-dir` with a Jaeger UI build, in a real Chromium (issue 21, item 10). A Jaeger UI build names
// its files relative to the page (`./static/…`) and writes its `<base>` from an inline script; the
// directory below has that shape. Chromium's preload scanner fetches those files before the script
// runs, resolved against the page: on /trace/<id> that is /trace/static/…, which answered 404 (11 of
// them per page load of the real Jaeger UI 2.20).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { backendWithHistory, WINDOW_SEC } from '../unit/read-path-fixture.ts';
import { launchChromium } from '../setup/chromium.ts';

const CHUNKS = ['vendor-react', 'vendor-antd', 'vendor-d3', 'vendor-misc'];
// The base written from the page's own path, as the Jaeger UI's index.html does (for /trace/<id>: "/").
const INDEX = `<!doctype html><html><head><meta charset="utf-8">
<script>(function () {
  var path = window.location.pathname, at = path.lastIndexOf('/trace/');
  var prefix = at >= 0 ? path.slice(0, at + 1) : path.slice(0, path.lastIndexOf('/') + 1);
  document.currentScript.insertAdjacentHTML('afterend', '<base href="' + prefix.replace(/[&"<>]/g, '') + '">');
})();</script>
<title>Jaeger UI</title>
<script type="module" crossorigin src="./static/index-abc.js"></script>
${CHUNKS.map((c) => `<link rel="modulepreload" crossorigin href="./static/${c}.js">`).join('\n')}
<link rel="stylesheet" crossorigin href="./static/index-abc.css">
</head><body><div id="jaeger-ui-root"></div></body></html>`;

let dir: string;
let app: FastifyInstance;
let base: string;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kt-uidir-chromium-'));
  mkdirSync(join(dir, 'static'));
  writeFileSync(join(dir, 'index.html'), INDEX);
  for (const c of CHUNKS) writeFileSync(join(dir, 'static', `${c}.js`), `export const ${c.replace('-', '_')} = 1;`);
  writeFileSync(
    join(dir, 'static', 'index-abc.js'),
    `${CHUNKS.map((c) => `import './${c}.js';`).join('\n')}\ndocument.getElementById('jaeger-ui-root').textContent = 'loaded';`,
  );
  writeFileSync(join(dir, 'static', 'index-abc.css'), 'body { margin: 0 }');
  app = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, uiDir: dir, logger: false });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a Jaeger UI build served with --ui-dir, in Chromium', () => {
  it('loads /trace/<id> without a single failed request', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    const asked: string[] = [];
    page.on('response', (r) => {
      asked.push(new URL(r.url()).pathname);
      if (r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    page.on('requestfailed', (r) => failed.push(`failed ${new URL(r.url()).pathname}`));
    try {
      await page.goto(`${base}/trace/ff21000000abcdef0123456789000001`, { waitUntil: 'networkidle' });
      await page.waitForFunction(() => document.getElementById('jaeger-ui-root')?.textContent === 'loaded');
      expect(failed).toEqual([]);
      // the files did come from below the page too (the preload scanner's guess), answered
      expect(asked.some((p) => p.startsWith('/trace/static/'))).toBe(true);
    } finally {
      await page.close();
    }
  });
});
