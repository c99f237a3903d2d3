// Issue 12 in a real headless Chromium, over the real query server and a store filled by replaying
// the recorded KWOK scenario (examples/kwok-scenario): failures classified (expected grey, real
// red), search that finds (default range = the data, kinds by any spelling, prefix/substring,
// namespaces, paging), the row filter over event text with highlights, readable diffs, nodes under
// pods and the replacement pod one click away, readable error pages, labels at 800 px.
// Screenshots: test-results/ui-story-*.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { replayFiles } from '../../src/commands/replay.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = join(ROOT, 'test-results');
const SCENARIO = join(ROOT, 'examples', 'kwok-scenario');

describe('the UI tells the story (recorded KWOK scenario)', () => {
  let browser: Browser;
  let dir: string;
  let store: SqliteStore;
  let app: FastifyInstance;
  let base: string;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    const path = inject('stack')?.chromiumPath ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
    if (!path) throw new Error('no Chromium (apt-get install -y chromium, or CHROMIUM_PATH)');
    browser = await chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    dir = mkdtempSync(join(tmpdir(), 'kt-ui-story-'));
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

  async function newPage(width = 1366): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 860 } });
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  }
  const row = (page: Page, name: string) => page.locator('.tl-rows .row', { has: page.locator('.name', { hasText: name }) });

  async function openDeployment(page: Page): Promise<void> {
    await page.goto(`${base}/?resource=deploy&name=demo&range=all`);
    await page.locator('.results a.obj-link').first().click();
    await page.waitForSelector('.tl-rows .row');
  }

  it('shows routine failures grey and counts only real ones in the header, with a failure filter', async () => {
    const page = await newPage();
    await openDeployment(page);
    const stats = page.locator('.trace-title .stats');
    // every failure of the Deployment's story is routine: retried 409s and 404 deletes
    expect(await stats.locator('[data-stat="failed"]').count()).toBe(0);
    expect(await stats.locator('[data-stat="expected"]').innerText()).toMatch(/^\d+ expected failures$/);
    expect(await page.locator('.tl-rows .badge-error').count()).toBe(0);
    expect(await page.locator('.tl-rows .badge-expected').count()).toBeGreaterThan(0);
    expect(await page.locator('.tl-rows .mark.lvl-expected').count()).toBeGreaterThan(0);
    expect(await page.locator('.tl-rows .mark.lvl-error').count()).toBe(0);
    // the 404 delete of a pod reads as "expected: already-gone"
    await row(page, 'demo-6cdc56d6df-kxwrf').first().locator('.name').click();
    const gone = page.locator('.details .ev', { has: page.locator('.code', { hasText: '404' }) });
    expect(await gone.locator('.ev-expected').innerText()).toMatch(/^expected: already-gone/);
    expect(await gone.locator('.code').getAttribute('class')).toContain('code-expected');
    await page.screenshot({ path: join(RESULTS, 'ui-story-failures.png') });
    // filter: real failures → none; any failure → the rows with expected ones
    await page.selectOption('[data-failfilter]', 'error');
    await page.waitForSelector('.tl-empty:not([hidden])');
    await page.selectOption('[data-failfilter]', 'any');
    await expect.poll(() => page.locator('.tl-rows .row.hit').count()).toBeGreaterThan(3);
    for (const r of await page.locator('.tl-rows .row.hit').all()) expect(await r.locator('.badge-expected').count()).toBe(1);
    await page.close();
  });

  it('finds objects by any kind spelling in all the data by default, by prefix and substring, per namespace, with paging', async () => {
    const page = await newPage();
    // the form's default range is the data that exists (the recording is days old)
    await page.goto(`${base}/`);
    expect(await page.locator('#f-range').inputValue()).toBe('all');
    // the first and last event, not the 30-minute window around them (04:30:00 – 05:00:00)
    expect(await page.locator('.data-range').innerText()).toMatch(/^Recorded data: 2026-11-22 04:3\d:\d\d – 2026-11-22 04:3\d:\d\d UTC/);
    expect(await page.locator('#f-namespace option').allInnerTexts()).toEqual(expect.arrayContaining(['Any namespace', 'demo', 'kube-system']));
    await page.fill('#f-resource', 'deployment');
    await page.fill('#f-name', 'demo');
    await page.click('button[type=submit]');
    await page.waitForSelector('.results a.obj-link');
    expect(await page.locator('.results a.obj-link').allInnerTexts()).toEqual(['Deployment demo/demo']);

    for (const kind of ['deploy', 'Deployment', 'deployments', 'apps/deployments', 'deployments.apps']) {
      await page.goto(`${base}/?resource=${encodeURIComponent(kind)}&name=demo&range=all`);
      await page.waitForSelector('.results a.obj-link, .state-empty');
      expect(await page.locator('.results a.obj-link').allInnerTexts(), kind).toEqual(['Deployment demo/demo']);
    }
    // around the latest data
    await page.goto(`${base}/?resource=deploy&name=demo&range=latest`);
    await page.waitForSelector('.results a.obj-link');

    // prefix: the pods of the ReplicaSet demo-68c74967f8
    await page.goto(`${base}/`);
    await page.fill('#f-resource', 'po');
    await page.selectOption('#f-namespace', 'demo');
    await page.selectOption('#f-match', 'prefix');
    await page.fill('#f-name', 'demo-68c74967f8-');
    await page.click('button[type=submit]');
    await page.waitForSelector('.results a.obj-link');
    const pods = await page.locator('.results a.obj-link').allInnerTexts();
    expect(pods.length).toBeGreaterThanOrEqual(5);
    for (const p of pods) expect(p).toMatch(/^Pod demo\/demo-68c74967f8-[a-z0-9]{5}$/);
    expect(page.url()).toContain('match=prefix');
    // substring: every node
    await page.goto(`${base}/?resource=nodes&name=node&match=contains&range=all`);
    await page.waitForSelector('.results a.obj-link');
    expect((await page.locator('.results a.obj-link').allInnerTexts()).sort()).toEqual(['Node kwok-node-0', 'Node kwok-node-1', 'Node kwok-node-2']);
    await page.screenshot({ path: join(RESULTS, 'ui-story-search.png') });

    // more than 25 objects: pages
    await page.goto(`${base}/?range=all`);
    await page.waitForSelector('.results a.obj-link');
    const total = Number(/^(\d+)/.exec(await page.locator('.result-count').innerText())![1]);
    expect(total).toBeGreaterThan(25);
    const first = await page.locator('.results a.obj-link').allInnerTexts();
    expect(first).toHaveLength(25);
    expect(await page.locator('.pager-at').innerText()).toMatch(/^Page 1 of \d+ \(1–25\)$/);
    await page.click('.pager a[rel=next]');
    await page.waitForSelector('.pager a[rel=prev]');
    const second = await page.locator('.results a.obj-link').allInnerTexts();
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((x) => first.includes(x))).toEqual([]);
    await page.close();
  });

  it('filters rows by event text (a node name finds the pods bound to it) and highlights the hits', async () => {
    const page = await newPage();
    await openDeployment(page);
    await page.fill('[data-filter]', 'kwok-node-2');
    await expect.poll(() => page.locator('.tl-rows .row.hit').count()).toBeGreaterThan(0);
    const hits = page.locator('.tl-rows .row.hit');
    const kinds = await hits.locator('.kind').allInnerTexts();
    expect(kinds).toContain('Pod'); // found by its binding / Scheduled event text, not its name
    expect(kinds).toContain('Node');
    expect(await page.locator('.tl-rows .row.hit .name mark').first().innerText()).toBe('kwok-node-2');
    expect(await page.locator('.tl-rows .mark.hit').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(RESULTS, 'ui-story-filter.png') });
    await page.close();
  });

  it("puts each pod's node under it, reads conditions per field, and follows a replaced pod in one click", async () => {
    const page = await newPage();
    await openDeployment(page);
    // every pod has its node as a child row
    const pods = page.locator('.tl-rows .row', { has: page.locator('.kind', { hasText: /^Pod$/ }) });
    const podCount = await pods.count();
    expect(podCount).toBeGreaterThanOrEqual(8);
    expect(await page.locator('.tl-rows .row', { has: page.locator('.kind', { hasText: /^Node$/ }) }).count()).toBe(podCount);
    const vlntf = row(page, 'demo-68c74967f8-vlntf').first();
    const level = Number(await vlntf.getAttribute('aria-level'));
    const next = page.locator(`.tl-rows .row[aria-level="${level + 1}"]`, { has: page.locator('.name', { hasText: 'kwok-node-2' }) });
    expect(await next.count()).toBeGreaterThan(0);

    await vlntf.locator('.name').click();
    const details = page.locator('.details');
    expect(await details.locator('.story').innerText()).toMatch(/Ran on Node kwok-node-2/);
    // readable diff: conditions per field, no JSON object on any line
    const running = details.locator('.ev', { hasText: 'patch status' }).first();
    const lines = await running.locator('.diff.main li').allInnerTexts();
    expect(lines).toContain('status.conditions[type=Ready].status: "True"');
    expect(lines).toContain('status.phase: "Pending" → "Running"');
    expect(lines.filter((l) => l.includes('{"'))).toEqual([]);
    await page.screenshot({ path: join(RESULTS, 'ui-story-pod.png') });

    // the object after any event, rebuilt from the create snapshot and the diff entries, and the
    // change between two events
    await details.locator('.state-box summary').click();
    const labels = await details.locator('[data-state-at] option').allInnerTexts();
    const gc = labels.findIndex((l) => /patch status/.test(l) && labels.indexOf(l) > labels.findIndex((x) => /patch status/.test(x)));
    expect(gc).toBeGreaterThan(0);
    await details.locator('[data-state-at]').selectOption(String(gc));
    await details.locator('button[data-state="yaml"]').click();
    const yaml = await details.locator('.state-yaml').innerText();
    expect(yaml).toMatch(/^kind: Pod$/m);
    expect(yaml).toMatch(/^ {2}nodeName: kwok-node-2$/m);
    expect(yaml).toMatch(/^ {2}phase: Failed$/m);
    const created = labels.findIndex((l) => / create$/.test(l));
    await details.locator('[data-cmp-a]').selectOption(String(created));
    await details.locator('[data-cmp-b]').selectOption(String(gc));
    await details.locator('button[data-state="diff"]').click();
    const changes = await details.locator('.state-diff li').allInnerTexts();
    expect(changes).toContain('status.phase: "Pending" → "Failed"');
    expect(changes).toContain('spec.nodeName: "kwok-node-2"');
    await page.screenshot({ path: join(RESULTS, 'ui-story-state.png') });

    // the pod garbage-collected after its node went, and its replacement: one click
    const replaced = details.locator('button.story-next');
    expect(await replaced.innerText()).toMatch(/^Pod demo\/demo-68c74967f8-[a-z0-9]{5}$/);
    const name = (await replaced.innerText()).replace(/^Pod /, '');
    await replaced.click();
    await expect.poll(() => page.locator('.details .panel-title').innerText()).toBe(name);
    expect(await page.locator('.details .story').innerText()).toMatch(/Replaces Pod demo\/demo-68c74967f8-vlntf/);

    // from the pod's own trace, the replacement is one link away
    await page.goto(`${base}/?resource=pods&namespace=demo&name=demo-68c74967f8-vlntf&range=all`);
    await page.locator('.results a.obj-link').first().click();
    await page.waitForSelector('.tl-rows .row');
    await page.click('.details a.story-follow');
    await page.waitForFunction(() => document.querySelector('.trace-title h1')?.textContent?.includes('ReplicaSet'));
    await expect.poll(() => page.locator('.details .panel-title').innerText()).toBe('demo/demo-68c74967f8-vlntf');
    expect(await page.locator('.details button.story-next').innerText()).toBe(`Pod ${name}`);
    await page.close();
  });

  it("answers a bad URL and a /redirect miss with readable pages; the header duration is the events' span", async () => {
    const page = await newPage();
    await page.goto(`${base}/redirect?resource=pods&namespace=demo&name=no-such-pod`);
    expect(await page.locator('h1').innerText()).toBe('Object not found');
    expect(await page.locator('main').innerText()).toContain('No pods named no-such-pod in namespace demo');
    await page.screenshot({ path: join(RESULTS, 'ui-story-redirect-miss.png') });
    await page.click('a[href^="/?"]');
    await page.waitForSelector('.search-form');
    await page.goto(`${base}/no/such/page`);
    await page.waitForSelector('.state-error h1');
    expect(await page.locator('.state-error h1').innerText()).toBe('Page not found');
    await page.goto(`${base}/api/nothing-here`);
    expect(await page.locator('h1').innerText()).toBe('Page not found');

    await openDeployment(page);
    // 04:30:47 → 04:32:05 in the recording (timeline.tsv), no axis padding
    expect(await page.locator('[data-stat="duration"]').innerText()).toBe('over 1m 18s');
    await page.close();
  });

  it('opens on an overview: a heatmap per kind and namespace over the recorded data, with findings, clicking through to the objects', async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    // the first screen: under the search form
    await page.waitForSelector('.search-overview .heatmap');
    await page.goto(`${base}/overview`);
    await page.waitForSelector('.heatmap .hm-row[data-kind="pods"][data-namespace="demo"]');
    // the range is the recording (04:30:41 – 04:32:05), not today
    expect(await page.locator('.overview-summary').innerText()).toMatch(/2026-11-22 04:30:\d\d – 2026-11-22 04:32:\d\d UTC/);
    expect(await page.locator('.overview-summary [data-stat="expected"]').innerText()).toMatch(/^[1-9]\d* expected failures$/);
    const pods = page.locator('.hm-row[data-kind="pods"][data-namespace="demo"]');
    expect(await pods.locator('.hm-label').innerText()).toMatch(/^Pod demo \(\d+\)$/);
    expect(await pods.locator('a.hm-cell').count()).toBeGreaterThan(3);
    expect(await page.locator('.hm-row[data-kind="deployments"] a.hm-cell.hm-expected').count()).toBeGreaterThan(0);
    // findings of the range (the diagnosis): a healthy run, the pods the pod GC removed from the deleted node as info
    await page.waitForSelector('.overview-findings .finding');
    expect(await page.locator('.overview-findings .findings-summary').innerText()).toMatch(/^0 error, 0 warning, \d+ info/);
    expect(await page.locator('.overview-findings .finding.sev-info[data-detector="orphans"] h3').innerText()).toContain('deleted Node kwok-node-2');
    await page.screenshot({ path: join(RESULTS, 'ui-story-overview.png'), fullPage: true });
    // a cell opens the objects of that kind, namespace and time
    await page.locator('.hm-row[data-kind="deployments"][data-namespace="demo"] a.hm-cell').first().click();
    await page.waitForSelector('.results a.obj-link');
    expect(page.url()).toMatch(/resource=deployments.*namespace=demo|namespace=demo.*resource=deployments/);
    expect(await page.locator('.results a.obj-link').allInnerTexts()).toEqual(['Deployment demo/demo']);
    await page.close();
  });

  it('shows two pods side by side, aligned on their first event', async () => {
    const page = await newPage();
    await page.goto(`${base}/?resource=pods&namespace=demo&name=demo-68c74967f8-&match=prefix&range=all`);
    await page.waitForSelector('.results a.obj-link');
    const links = page.locator('.results a.obj-link');
    const [ha, hb] = [await links.nth(0).getAttribute('href'), await links.nth(1).getAttribute('href')];
    const [na, nb] = [await links.nth(0).innerText(), await links.nth(1).innerText()];
    await page.click('.top-nav a[href="/compare"]');
    await page.fill('.cmp-form input[name=a]', `${base}${ha}`);
    await page.fill('.cmp-form input[name=b]', ha === hb ? '' : hb!.replace('/trace/', ''));
    await page.click('.cmp-form button[type=submit]');
    await page.waitForSelector('.cmp-side');
    expect(page.url()).toMatch(/\/compare\?a=ff[0-9a-f]{30}&b=ff[0-9a-f]{30}$/);
    const sides = page.locator('.cmp-side');
    expect(await sides.count()).toBe(2);
    expect(await sides.nth(0).locator('h2').innerText()).toBe(na);
    expect(await sides.nth(1).locator('h2').innerText()).toBe(nb);
    for (const i of [0, 1]) {
      // each side starts at its own first event: its earliest mark sits at the axis' start
      const lefts = await sides
        .nth(i)
        .locator('.cmp-track .mark')
        .evaluateAll((els) => els.map((e) => parseFloat((e as HTMLElement).style.left)));
      expect(Math.min(...lefts)).toBe(0);
      expect(await sides.nth(i).locator('[data-stat="duration"]').innerText()).toMatch(/^\d/);
      expect(await sides.nth(i).locator('.cmp-steps li').first().innerText()).toMatch(/^\+\S+ create /);
    }
    await page.screenshot({ path: join(RESULTS, 'ui-story-compare.png'), fullPage: true });
    await page.close();
  });

  it('keeps sibling pods distinguishable at 800 px', async () => {
    const page = await newPage(800);
    await openDeployment(page);
    const tails = await page.locator('.tl-rows .row .name-tail').allInnerTexts();
    expect(tails.length).toBeGreaterThanOrEqual(8);
    const podTails = tails.filter((t) => /^…[0-9a-f]{8,10}-[a-z0-9]{5}$/.test(t));
    expect(new Set(podTails).size).toBe(podTails.length);
    expect(podTails.length).toBeGreaterThanOrEqual(8);
    expect(await page.locator('.tl-rows .row .name-tail').first().isVisible()).toBe(true);
    await page.screenshot({ path: join(RESULTS, 'ui-story-800px.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
