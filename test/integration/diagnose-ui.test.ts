// The Findings view of the built-in UI in a real headless Chromium, over the real query server and
// a store filled by replaying the recorded KWOK scenario: the report for the range (0 warnings: the
// pods the pod GC removed from the deleted node are routine, an info finding), following that
// finding's evidence link to the trace, and the findings shown on that object's trace; a recorded
// finalizer's cause, and "Explain" on the object's trace. Screenshots: test-results/ui-findings*.png, ui-explain.png.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { replayFiles } from '../../src/commands/replay.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = join(ROOT, 'test-results');
const SCENARIO = join(ROOT, 'examples', 'kwok-scenario');

describe('Findings view in Chromium (recorded KWOK scenario)', () => {
  let browser: Browser;
  let dir: string;
  let store: SqliteStore;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    const path = inject('stack')?.chromiumPath ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
    if (!path) throw new Error('no Chromium (apt-get install -y chromium, or CHROMIUM_PATH)');
    browser = await chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    dir = mkdtempSync(join(tmpdir(), 'kt-findings-ui-'));
    store = new SqliteStore(join(dir, 'store.sqlite'));
    await replayFiles({ files: [join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json')], cluster: 'kwok', sink: store, progress: false });
    app = await createQueryServer({ backend: new SqliteBackend(store), windowSec: 1800 });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the findings of the range and follows an evidence link to the trace, where the object shows its findings', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await page.click('.top-nav a[href="/findings"]');
    await page.waitForSelector('.finding');
    expect(page.url()).toBe(`${base}/findings`);
    // 7 info: with churn's node rule, kwok-node-2's delete (a node kwok-admin created itself) is info too
    expect(await page.locator('.findings-summary').innerText()).toMatch(/^0 error, 0 warning, 7 info/);
    expect(await page.locator('.finding.sev-warning, .finding.sev-error').count()).toBe(0);
    const orphans = page.locator('.finding[data-detector="orphans"]');
    expect(await orphans.count()).toBe(1);
    expect(await orphans.getAttribute('class')).toContain('sev-info');
    expect(await orphans.locator('h3').innerText()).toMatch(/^info\s*2 pods stayed bound to deleted Node kwok-node-2 for up to 49.5 s$/i);
    expect(await orphans.locator('ol li').first().innerText()).toMatch(/kwok-admin delete \(200\) nodes kwok-node-2/);
    expect(await page.locator('table.podstartup').innerText()).toMatch(/create → running\s+n=14/);
    await page.screenshot({ path: join(RESULTS, 'ui-findings.png'), fullPage: true });

    // the evidence: the pod on the deleted node, at the node's delete
    await orphans.locator('a.open-evidence').click();
    await page.waitForSelector('.tl-rows .row');
    expect(page.url()).toMatch(/\/trace\/ff20000000[0-9a-f]{22}$/);
    expect(await page.locator('h1').innerText()).toMatch(/Pod\s+demo\/web-0$/);
    const kinds = await page.locator('.tl-rows .row .kind').allInnerTexts();
    expect(kinds).toContain('Node');
    // the object's findings on its trace
    const box = page.locator('details.obj-findings');
    await box.waitFor();
    expect(await box.locator('summary').innerText()).toMatch(/^\d+ findings? \(0 warning or error\)$/);
    await box.locator('summary').click();
    expect(await box.locator('.finding[data-detector="orphans"] h3').innerText()).toContain('deleted Node kwok-node-2');
    await page.screenshot({ path: join(RESULTS, 'ui-findings-trace.png') });

    // one evidence event further: the node's own delete opens the node's trace
    await box.locator('.finding[data-detector="orphans"] a.evidence-link').first().click();
    await page.waitForSelector('.tl-rows .row');
    await expect.poll(() => page.locator('h1').innerText()).toMatch(/Node\s+kwok-node-2$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows why: the cause (who, what, when, with its link) and the chain of a finding of a recorded misbehaviour', async () => {
    // a ConfigMap kept Terminating by a finalizer nobody removes (the labeled corpus' recording)
    const rec = join(ROOT, 'bench', 'diagnose-corpus', 'scenarios', 'stuck-deletion-finalizer');
    const { start, end } = JSON.parse(readFileSync(join(rec, 'recording.json'), 'utf8')) as { start: string; end: string };
    const own = new SqliteStore(join(dir, 'finalizer.sqlite'));
    await replayFiles({ files: [join(rec, 'audit.log.gz'), join(rec, 'events.json.gz')], cluster: 'corpus', sink: own, progress: false });
    const ownApp = await createQueryServer({ backend: new SqliteBackend(own), windowSec: 1800 });
    const ownBase = await ownApp.listen({ port: 0, host: '127.0.0.1' });
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      await page.goto(`${ownBase}/findings?${new URLSearchParams({ start, end })}`);
      const stuck = page.locator('.finding[data-detector="stuck-deletions"]');
      await stuck.first().waitFor();
      const why = stuck.first().locator('.why');
      expect(await why.locator('.cause-actor').innerText()).toBe('system:serviceaccount:ops:legacy-operator');
      expect(await why.innerText()).toMatch(/^Cause: system:serviceaccount:ops:legacy-operator (create|patch|update) configmaps stuck-deletion-finalizer\//);
      expect(await why.locator('ul.chain li').count()).toBeGreaterThanOrEqual(2);
      await page.screenshot({ path: join(RESULTS, 'ui-findings-cause.png'), fullPage: true });
      // the cause's link opens the object at the time of the action
      await why.locator('a.cause-link').click();
      await page.waitForSelector('.tl-rows .row');
      expect(await page.locator('h1').innerText()).toMatch(/ConfigMap\s+stuck-deletion-finalizer\//);
      // "Explain" beside the findings: why the ConfigMap is Terminating at the end of its trace
      const explain = page.locator('details.obj-explain');
      await explain.locator('summary').click();
      await explain.locator('.explain-summary').waitFor();
      expect(await explain.locator('.explain-summary').innerText()).toMatch(
        /^ConfigMap stuck-deletion-finalizer\/settings: Terminating, finalizers example.com\/cleanup-hook/,
      );
      expect(await explain.locator('.explain-wait').first().innerText()).toMatch(
        /finalizer example.com\/cleanup-hook \(added by system:serviceaccount:ops:legacy-operator/,
      );
      expect(await explain.locator('table.explain-fields').innerText()).toMatch(
        /metadata.deletionTimestamp.*\n?.*system:serviceaccount:ci:cleanup-bot\s+delete/,
      );
      await page.screenshot({ path: join(RESULTS, 'ui-explain.png') });
    } finally {
      await page.close();
      await ownApp.close();
      await own.close();
    }
  });

  it('shows a clear error for a bad range instead of an empty list', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/findings?start=not-a-time`);
    await page.waitForSelector('.findings-result .state-error');
    expect(await page.locator('.findings-result .state-error').innerText()).toMatch(/not a time/);
    await page.close();
  });

  it('says so, instead of waiting, when the live view is opened on a server that computes no live findings', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/findings?live=1`);
    await page.waitForSelector('.findings-result .state');
    expect(await page.locator('.findings-result .state').innerText()).toMatch(/^No live findings here\s+live findings are off/);
    await page.close();
  });
});
