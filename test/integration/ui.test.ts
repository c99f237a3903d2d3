// The built-in web UI (frontend-plugin/ui) in a real headless Chromium.
//  1. Real query server (frontend-plugin/server.ts) over a real SQLite store filled by replaying
//     audit logs through the real pipeline: the recorded KWOK scenario (examples/kwok-scenario)
//     when present, else the synthetic demo audit log (test/fixtures/ui/audit-demo.ts).
//  2. Fixture-served UI (test/fixtures/ui/dev-server.ts): behaviour that needs shapes a small
//     recording lacks (Warning events, failed requests, 1,000 pods, API down).
// Screenshots for review: test-results/ui-*.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { replayFiles } from '../../src/commands/replay.ts';
import { findScenarioLogs } from '../../src/commands/demo.ts';
import { defaultTracerConfig } from '../../src/core/config.ts';
import { demoAuditLog } from '../fixtures/ui/audit-demo.ts';
import { BIG_TRACE_ID, startUiDevServer, type DevServer } from '../fixtures/ui/dev-server.ts';
import { TRACE_ID } from '../fixtures/ui/make-trace.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = join(ROOT, 'test-results');
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumPath(): string {
  let fromStack: string | null = null;
  try {
    fromStack = inject('stack')?.chromiumPath ?? null;
  } catch {
    /* not under the integration global setup */
  }
  const p = fromStack ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
  if (!p) throw new Error("no Chromium: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH");
  return p;
}

let browser: Browser;
beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ARGS });
});
afterAll(async () => {
  await browser?.close();
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { jsErrors: string[] }).jsErrors = errors;
  return page;
}
const jsErrors = (page: Page) => (page as Page & { jsErrors: string[] }).jsErrors;
const rowByName = (page: Page, text: string) => page.locator('.tl-rows .row', { has: page.locator('.name', { hasText: text }) });

describe('built-in UI over the real query server and store (replayed audit log)', () => {
  const scenario = findScenarioLogs([join(ROOT, 'examples', 'kwok-scenario')]);
  let dir: string;
  let store: SqliteStore;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubetrail-ui-'));
    let files = scenario?.files;
    if (!files) {
      files = [join(dir, 'audit.log')];
      writeFileSync(files[0]!, demoAuditLog());
    }
    store = new SqliteStore(join(dir, 'store.sqlite'));
    const summary = await replayFiles({ files, cluster: 'kwok', sink: store, progress: false });
    expect(summary).toBeTruthy();
    app = await createQueryServer({ backend: new SqliteBackend(store), windowSec: defaultTracerConfig.windowSec });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`finds deployments/demo, shows its ReplicaSets and pods, and the scale-up diff (${scenario ? 'recorded KWOK scenario' : 'synthetic demo audit log'})`, async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.selectOption('#f-cluster', 'kwok');
    await page.fill('#f-resource', 'deployments');
    await page.fill('#f-name', 'demo'); // namespace left empty: the recording uses `demo`, the synthetic log `default`
    // Show: Auto (by kind) opens a Deployment with everything it owns
    await page.selectOption('#f-range', 'custom');
    await page.fill('#f-from', '2020-01-01T00:00');
    await page.fill('#f-to', new Date(Date.now() + 86400e3).toISOString().slice(0, 16));
    await page.click('button[type=submit]');
    const result = page.locator('.results a.obj-link');
    await expect.poll(() => result.count(), { timeout: 30_000 }).toBeGreaterThan(0);
    expect(await result.first().innerText()).toMatch(/\/demo$/);
    await page.screenshot({ path: join(RESULTS, 'ui-real-search.png') });

    await result.first().click();
    await page.waitForSelector('.tl-rows .row');
    expect(page.url()).toMatch(/\/trace\/ff24000000[0-9a-f]{22}/);
    expect(await page.locator('h1').innerText()).toMatch(/Deployment\s+\S+\/demo$/);
    if (await page.locator('.row .badge', { hasText: '+' }).count()) await page.click('button[data-act="expand-all"]');

    const kinds = await page.locator('.tl-rows .row .kind').allInnerTexts();
    if (scenario) expect(kinds.filter((k) => k === 'ReplicaSet').length).toBeGreaterThanOrEqual(2);
    else expect(kinds.filter((k) => k === 'ReplicaSet').length).toBeGreaterThanOrEqual(1);
    expect(kinds.filter((k) => k === 'Pod').length).toBeGreaterThanOrEqual(2);
    const rs = await page.locator('.tl-rows .row', { has: page.locator('.kind', { hasText: 'ReplicaSet' }) }).first();
    await expect.poll(() => rs.getAttribute('aria-level')).toBe('2');

    // The Deployment row is selected: its events list the scale-up as a change.
    await page.locator('.tl-rows .row .name').first().click();
    const diff = page.locator('.details .diff li', { hasText: 'spec.replicas' }).filter({ hasText: '2 → 4' });
    await expect.poll(() => diff.count()).toBeGreaterThan(0);
    expect(await diff.first().isVisible()).toBe(true);
    expect(await diff.first().innerText()).toBe('spec.replicas: 2 → 4');
    await diff.first().scrollIntoViewIfNeeded();
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(RESULTS, 'ui-real-trace.png') });
    // zoom into the busy first part of the recording, for the review screenshot
    const axis = (await page.locator('.tl-header .axis').boundingBox())!;
    await page.mouse.move(axis.x + 1, axis.y + 10);
    await page.mouse.down();
    await page.mouse.move(axis.x + axis.width * 0.2, axis.y + 10, { steps: 4 });
    await page.mouse.up();
    await page.waitForSelector('[data-act="zoom-reset"]:not([hidden])');
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(RESULTS, 'ui-real-trace-zoomed.png') });

    // A pod: who created it, and the node it runs on.
    await page
      .locator('.tl-rows .row', { has: page.locator('.kind', { hasText: 'Pod' }) })
      .first()
      .locator('.name')
      .click();
    await expect
      .poll(() => page.locator('.details .ev-who').allInnerTexts())
      .toEqual(expect.arrayContaining([expect.stringContaining('replicaset-controller')]));
    await page.mouse.move(0, 0);
    await page.screenshot({ path: join(RESULTS, 'ui-real-pod.png') });

    // Mode switch: same lookup as a tree of event rows; the URL carries the new mode digits.
    await page.click('button[data-switch="mode"][data-value="tree"]');
    await page.waitForSelector('button[data-value="tree"][aria-pressed="true"]');
    expect(page.url()).toMatch(/\/trace\/ff04000000/);
    await page.waitForSelector('.tl-rows .row.is-event');
    expect(jsErrors(page)).toEqual([]);
    await page.close();
  });

  it('leaving the search page before its data arrives is no error (the page aborts its request, as it should)', async () => {
    const page = await newPage();
    // the data summary answers only once the user has moved on (a slow store, a quick click)
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/api/ui/summary*', async (route) => {
      await held;
      await route.continue().catch(() => {});
    });
    await page.goto(`${base}/`);
    await page.click('.top-nav a[href="/overview"]');
    await page.waitForSelector('.hm-row');
    release();
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0))); // every earlier page event delivered
    expect(jsErrors(page)).toEqual([]);
    await page.close();
  });

  it("opens a related object's own trace through /redirect, from a shared search URL", async () => {
    const page = await newPage();
    const to = new Date(Date.now() + 86400e3).toISOString().slice(0, 16);
    await page.goto(`${base}/?resource=deployments&name=demo&scope=owned+objects&range=custom&from=2020-01-01T00:00&to=${to}`);
    await page.locator('.results a.obj-link').first().click();
    await page.waitForSelector('.tl-rows .row');
    await page
      .locator('.tl-rows .row', { has: page.locator('.kind', { hasText: 'ReplicaSet' }) })
      .first()
      .click();
    const link = page.locator('.details a.btn', { hasText: "Open this object's own trace" });
    expect(await link.getAttribute('href')).toMatch(/^\/redirect\?cluster=kwok&group=apps&resource=replicasets&namespace=\S+&name=demo-\S+&ts=\d{4}-/);
    await link.click();
    await page.waitForFunction(() => document.querySelector('.trace-title h1')?.textContent?.includes('ReplicaSet'));
    expect(page.url()).toMatch(/\/trace\/ff20000000[0-9a-f]{22}$/);
    expect(await page.locator('.trace-title h1').innerText()).toMatch(/ReplicaSet\s+\S+\/demo-/);
    // its owner is one row up, with the owner relation
    expect(await page.locator('.tl-rows .row .kind').allInnerTexts()).toContain('Deployment');
    expect(jsErrors(page)).toEqual([]);
    await page.close();
  });

  it.skipIf(!scenario)('lists one row per tree in the full tree, with the objects that matched', async () => {
    const page = await newPage();
    const to = new Date(Date.now() + 86400e3).toISOString().slice(0, 16);
    await page.goto(`${base}/?namespace=demo&scope=full+tree&range=custom&from=2020-01-01T00:00&to=${to}`);
    await page.waitForSelector('.results tbody tr');
    const rows = await page.locator('.results tbody tr').allInnerTexts();
    // before: the Deployment's tree once per pod and ReplicaSet (12 rows alike), its node's twice
    expect(rows.filter((r) => /^Deployment\s+demo\/demo\b/.test(r))).toHaveLength(1);
    const dep = rows.find((r) => /^Deployment\s+demo\/demo\b/.test(r))!;
    expect(dep).toMatch(/matched 12: deployments demo\/demo, replicasets demo\/demo-/);
    const node = rows.find((r) => r.includes('kwok-node-0'))!;
    expect(node).toContain('matched 2: pods demo/secret-reader, secrets demo/demo-credentials');
    await page.screenshot({ path: join(RESULTS, 'ui-search-full-tree.png') });
    expect(jsErrors(page)).toEqual([]);
    await page.close();
  });
});

describe('built-in UI over the development fixture (fixture-served, no real data)', () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startUiDevServer(0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('searches, lists the object with first/last seen and event count, and remembers it', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/`);
    await page.fill('#f-resource', 'Deployment');
    await page.fill('#f-name', 'demo');
    await page.click('button[type=submit]');
    await page.waitForSelector('.results');
    expect(page.url()).toContain('resource=Deployment');
    const row = await page.locator('.results tbody tr').first().innerText();
    expect(row).toContain('default/demo');
    expect(row).toContain('2026-11-22 03:00:05');
    expect(row).toMatch(/\b10\b/); // events of the Deployment
    await page.click('.results a.obj-link');
    await page.waitForSelector('.tl-rows .row');
    await page.goto(`${server.url}/`);
    await page.waitForSelector('.recent-list');
    expect(await page.locator('.recent-list').innerText()).toContain('Deployment default/demo');

    await page.fill('#f-name', 'nothing-like-this');
    await page.click('button[type=submit]');
    await page.waitForSelector('.state-empty');
    expect(await page.locator('.state-empty').innerText()).toContain('No objects found');
    await page.close();
  });

  it('shows the trace as an indented timeline with relations, marks, events, diffs, folds and YAML', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/trace/${TRACE_ID}`);
    await page.waitForSelector('.tl-rows .row');
    const labels = await page.locator('.tl-rows .row .cell-label').allInnerTexts();
    expect(labels[0]).toContain('Deployment');
    expect(labels.filter((l) => l.includes('ReplicaSet'))).toHaveLength(2);
    expect(labels.filter((l) => l.includes('Pod'))).toHaveLength(8);
    const node = rowByName(page, 'kwok-node-0').first();
    expect(await node.locator('.rel').getAttribute('aria-label')).toContain('node');
    expect(await node.getAttribute('aria-level')).toBe('4');

    // failed request: red mark; Warning Event: orange mark
    expect(await page.locator('.tl-rows .row').first().locator('.mark.lvl-error').count()).toBe(1);
    const warnPod = rowByName(page, 'demo-6d4cf56db6-pqrst');
    expect(await warnPod.locator('.mark.lvl-warning').count()).toBe(1);
    await warnPod.locator('.mark.lvl-warning').hover({ force: true });
    await page.waitForSelector('.tip:not([hidden])');
    expect(await page.locator('.tip').innerText()).toContain('FailedScheduling');

    // Deployment events: who, what, code; diff rendered as changes; verbose folded
    const details = page.locator('.details');
    expect(await details.innerText()).toContain('kubernetes-admin');
    const scale = details.locator('.ev', { hasText: 'patch scale' });
    expect(await scale.locator('.diff.main li').first().innerText()).toBe('spec.replicas: 2 → 4');
    expect(await scale.locator('.code').innerText()).toBe('200');
    expect(await scale.locator('.diff.verbose').isVisible()).toBe(false);
    await scale.locator('button[data-toggle="verbose"]').click();
    expect(await scale.locator('.diff.verbose').innerText()).toContain('metadata.generation: 1 → 2');
    const failed = details.locator('.ev.lvl-error');
    expect(await failed.innerText()).toContain('Conflict');
    expect(await failed.locator('.code').innerText()).toBe('409');

    const create = details.locator('.ev', { hasText: 'Object as created' }).first();
    await create.locator('button[data-toggle="snapshot"]').click();
    // the YAML is written once the yaml package loaded (the first YAML view imports it)
    await create.locator('pre.yaml', { hasText: 'kind:' }).waitFor();
    const yaml = await create.locator('pre.yaml').innerText();
    expect(yaml).toContain('kind: Deployment');
    expect(yaml).toMatch(/\n {2}replicas: 2\n/);
    expect(yaml).toContain('- name: nginx');
    await page.screenshot({ path: join(RESULTS, 'ui-fixture-trace.png') });

    // drag on the time axis to zoom into the first minute: later marks leave, a reset appears
    const marksBefore = await page.locator('.tl-rows .mark').count();
    const axis = await page.locator('.tl-header .axis').boundingBox();
    await page.mouse.move(axis!.x + 2, axis!.y + 10);
    await page.mouse.down();
    await page.mouse.move(axis!.x + axis!.width * 0.15, axis!.y + 10, { steps: 4 });
    await page.mouse.up();
    await page.waitForSelector('[data-act="zoom-reset"]:not([hidden])');
    expect(await page.locator('.tl-rows .mark').count()).toBeLessThan(marksBefore);
    await page.click('[data-act="zoom-reset"]');
    expect(await page.locator('.tl-rows .mark').count()).toBe(marksBefore);

    // collapse a ReplicaSet: its pods disappear, a count badge says how many rows are hidden
    const rs = rowByName(page, 'demo-7f9c8b5d4b').first();
    await rs.locator('button.tw').click();
    expect(await rowByName(page, 'demo-7f9c8b5d4b-abcde').count()).toBe(0);
    expect(await rowByName(page, 'demo-7f9c8b5d4b').first().locator('.badge').innerText()).toBe('+6');
    expect(jsErrors(page)).toEqual([]);
    await page.close();
  });

  it('switches mode and scope through the URL and works from the keyboard', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/trace/${TRACE_ID}`);
    await page.waitForSelector('.tl-rows .row');
    await page.click('button[data-switch="scope"][data-value="full tree"]');
    await page.waitForSelector('button[data-value="full tree"][aria-pressed="true"]');
    expect(new URL(page.url()).pathname).toBe(`/trace/ff21000000${TRACE_ID.slice(10)}`);
    await page.click('button[data-switch="mode"][data-value="timeline"]');
    await page.waitForSelector('button[data-value="timeline"][aria-pressed="true"]');
    expect(new URL(page.url()).pathname).toBe(`/trace/ff11000000${TRACE_ID.slice(10)}`);
    await page.goBack();
    await page.waitForSelector('button[data-value="tracing"][aria-pressed="true"]');

    await page.locator('.tl-rows .row.sel').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('.tl-rows .row.sel .name').innerText()).toBe('default/demo-6d4cf56db6');
    expect(new URL(page.url()).searchParams.get('object')).toBe('kwok/apps/replicasets/default/demo-6d4cf56db6');
    await page.keyboard.press('ArrowLeft'); // collapse
    expect(await page.locator('.tl-rows .row.sel').getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('ArrowRight'); // expand
    await page.keyboard.press('ArrowRight'); // first child
    expect(await page.locator('.tl-rows .row.sel .kind').innerText()).toBe('Pod');
    expect(await page.locator('.details .panel-title').innerText()).toBe('default/demo-6d4cf56db6-abcde');
    // the selection survives a reload (shareable URL)
    await page.reload();
    await page.waitForSelector('.tl-rows .row.sel');
    expect(await page.locator('.tl-rows .row.sel .name').innerText()).toBe('default/demo-6d4cf56db6-abcde');
    await page.close();
  });

  it('stays usable with a Deployment of 1,000 pods', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/trace/${BIG_TRACE_ID}`);
    await page.waitForSelector('.tl-rows .row');
    // the 1,000-pod ReplicaSet starts collapsed
    expect(await page.locator('.tl-rows .row').count()).toBeLessThan(50);
    expect(await rowByName(page, 'demo-7f9c8b5d4b').first().locator('.badge').innerText()).toBe('+1002');
    await page.click('button[data-act="expand-all"]');
    await expect.poll(() => page.locator('.tl-rows .row').count()).toBeGreaterThan(1000);
    await page.fill('[data-filter]', 'demo-7f9c8b5d4b-abcde');
    await expect.poll(() => page.locator('.tl-rows .row').count()).toBeLessThan(10);
    await page.screenshot({ path: join(RESULTS, 'ui-fixture-1000-pods.png') });
    await page.close();
  });

  it('explains a missing trace and an unreachable query server', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/trace/ff20000000${'e'.repeat(22)}`);
    await page.waitForSelector('.state-error');
    expect(await page.locator('.state-error h1').innerText()).toBe('Trace not found');

    const down = await startUiDevServer(0, { apiDown: true });
    try {
      await page.goto(`${down.url}/trace/${TRACE_ID}`);
      await page.waitForSelector('.state-error');
      expect(await page.locator('.state-error h1').innerText()).toBe('The query server is not reachable');
      expect(await page.locator('.state-error button', { hasText: 'Retry' }).count()).toBe(1);
    } finally {
      await down.close();
    }
    await page.close();
  });
});
