// The UI's data summary over a real Jaeger (issue 12: "all data" must find a recording older than a
// week): JaegerBackend.summary() finds the oldest and newest object spans and the namespaces with
// bounded searches, `kubetrail query` in front of Jaeger serves it as GET /api/ui/summary, and the
// built-in UI (search with its default range, all data; the overview) shows the recorded objects in
// headless Chromium.
// Screenshot: test-results/summary-jaeger-search.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import type { DataSummary } from '../../frontend-plugin/backend/backend.ts';
import { windowStartSec } from '../../src/core/ids.ts';
import { OtlpSink } from '../../src/sinks/otlp.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';
import { runCli } from '../helpers/cli.ts';
import { readBack } from '../helpers/read-back.ts';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';

const stack = inject('stack');
const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = join(ROOT, 'test-results');
const SCENARIO = join(ROOT, 'examples', 'kwok-scenario');
const FILES = [join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json')];
const WINDOW_SEC = 1800;
const RUN = Date.now().toString(36);
/** The recorded KWOK scenario (2026-11-22), replayed into Jaeger under its own cluster name. */
const KWOK = `kwok-sum-${RUN}`;
/** Synthetic objects 40, 20 and 3 days ago, in three namespaces, and a node. */
const SPREAD = `kt-sum-${RUN}`;
const DAY_US = 86_400e6;
const nowUs = Date.now() * 1000;
const ws = (daysAgo: number) => windowStartSec(nowUs - daysAgo * DAY_US, WINDOW_SEC);

/** A summary's window bounds and namespaces (what every backend answers). */
const windowsOf = (s: DataSummary) => ({ firstUs: s.firstUs, lastUs: s.lastUs, namespaces: s.namespaces });

describe('the data summary over Jaeger', () => {
  const backend = new JaegerBackend({ url: stack.jaegerQueryUrl, windowSec: WINDOW_SEC });
  let dir: string;
  let store: SqliteBackend;
  let recorded: DataSummary;

  beforeAll(async () => {
    // the recording, replayed the way a user does: into Jaeger over OTLP, and into a store to compare
    const toJaeger = await runCli('replay', ...FILES, '--cluster', KWOK, '--otlp-endpoint', stack.otlpGrpcEndpoint);
    expect(toJaeger.status, toJaeger.stderr).toBe(0);
    dir = mkdtempSync(join(tmpdir(), 'kt-summary-jaeger-'));
    const toStore = await runCli('replay', ...FILES, '--cluster', KWOK, '--store', join(dir, 'store.sqlite'));
    expect(toStore.status, toStore.stderr).toBe(0);
    store = new SqliteBackend(join(dir, 'store.sqlite'));
    recorded = await store.summary(KWOK);

    const t = new SyntheticTraces(WINDOW_SEC);
    t.audit(ref('configmaps', 'ns-a', 'settings', '', SPREAD), nowUs - 40 * DAY_US, 'admin', 'create');
    t.audit(ref('pods', 'ns-b', 'worker', '', SPREAD), nowUs - 20 * DAY_US, 'admin', 'create');
    t.audit(ref('deployments', 'ns-c', 'web', 'apps', SPREAD), nowUs - 3 * DAY_US, 'admin', 'create');
    t.audit(ref('nodes', '', 'node-1', '', SPREAD), nowUs - 3 * DAY_US, 'admin', 'create');
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    await sink.write(t.spans);
    await sink.close();
    // Jaeger stores asynchronously: wait until every span written is readable
    await readBack(backend, t.spans, 'synthetic spans in Jaeger');
    // and the whole replayed recording: its window bounds and namespaces as the store has them
    const want = JSON.stringify(windowsOf(recorded));
    await waitFor(async () => JSON.stringify(windowsOf(await backend.summary(KWOK))) === want || undefined, 'the replayed recording in Jaeger', 60_000, 1000);
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives one cluster the window range and the namespaces of its data, weeks old', async () => {
    expect(await backend.summary(SPREAD)).toEqual({
      firstUs: ws(40) * 1e6,
      lastUs: (ws(3) + WINDOW_SEC) * 1e6,
      namespaces: ['ns-a', 'ns-b', 'ns-c'],
    });
    // the recording: what the embedded store answers for the same data
    expect(new Date(recorded.firstUs! / 1000).toISOString()).toBe('2026-11-22T04:30:00.000Z');
    expect(recorded.namespaces).toEqual(expect.arrayContaining(['demo', 'kube-system']));
    // the window bounds and namespaces (the store also knows its first and last event second; Jaeger does not)
    expect(await backend.summary(KWOK)).toEqual(windowsOf(recorded));
  });

  it('over all clusters brackets every cluster and lists their namespaces', async () => {
    const all = await new JaegerBackend({ url: stack.jaegerQueryUrl, windowSec: WINDOW_SEC }).summary();
    expect(all.firstUs).toBeLessThanOrEqual(Math.min(ws(40) * 1e6, recorded.firstUs!));
    expect(all.lastUs).toBeGreaterThanOrEqual((ws(3) + WINDOW_SEC) * 1e6);
    expect(all.namespaces).toEqual(expect.arrayContaining(['ns-a', 'ns-b', 'ns-c', ...recorded.namespaces]));
  });

  it('answers no range when there is no data: an empty service, an unknown cluster', async () => {
    expect(await new JaegerBackend({ url: stack.jaegerQueryUrl, service: `nothing-${RUN}` }).summary()).toEqual({ namespaces: [] });
    expect(await backend.summary(`no-such-cluster-${RUN}`)).toEqual({ namespaces: [] });
  });

  it('looks back no further than lookbackSec', async () => {
    const recent = new JaegerBackend({ url: stack.jaegerQueryUrl, windowSec: WINDOW_SEC, lookbackSec: 30 * 86_400 });
    expect(await recent.summary(SPREAD)).toEqual({ firstUs: ws(20) * 1e6, lastUs: (ws(3) + WINDOW_SEC) * 1e6, namespaces: ['ns-b', 'ns-c'] });
  });

  it('keeps the range exact when the namespace sweep cannot see everything (tiny pages)', async () => {
    // 2 traces per page: one window of the recording holds more than 2 pods, so the sweep stays full
    const tiny = new JaegerBackend({ url: stack.jaegerQueryUrl, windowSec: WINDOW_SEC, clusterPageSize: 2 });
    const s = await tiny.summary(KWOK);
    expect({ firstUs: s.firstUs, lastUs: s.lastUs }).toEqual({ firstUs: recorded.firstUs, lastUs: recorded.lastUs });
    expect(s.namespaces.length).toBeGreaterThan(0);
    for (const ns of s.namespaces) expect(recorded.namespaces).toContain(ns);
  });

  describe('kubetrail query in front of Jaeger', () => {
    let query: RunningKubetrail | undefined;
    let browser: Browser | undefined;
    let url = '';
    beforeAll(async () => {
      const [port] = await freePorts(1);
      url = `http://127.0.0.1:${port}`;
      query = await startKubetrail(['query', '--jaeger-query', stack.jaegerQueryUrl, '--port', String(port), '--host', '127.0.0.1'], {
        ready: /kubetrail query listening/,
      });
    });
    afterAll(async () => {
      await browser?.close();
      await query?.stop();
    });

    it('serves the range of a recording older than a week as GET /api/ui/summary', async () => {
      const res = await fetch(`${url}/api/ui/summary?cluster=${encodeURIComponent(KWOK)}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: DataSummary }).data).toEqual(windowsOf(recorded));
      // the recording is more than 7 days old: the UI's fallback range (last 7 days) would miss it
      expect(recorded.lastUs!).toBeLessThan(Date.now() * 1000 - 7 * DAY_US);
    });

    it('looks back no further than --jaeger-lookback', async () => {
      const [port] = await freePorts(1);
      const recent = await startKubetrail(
        ['query', '--jaeger-query', stack.jaegerQueryUrl, '--port', String(port), '--host', '127.0.0.1', '--jaeger-lookback', '30d'],
        { ready: /kubetrail query listening/ },
      );
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/ui/summary?cluster=${encodeURIComponent(SPREAD)}`);
        expect(((await res.json()) as { data: DataSummary }).data).toEqual({
          firstUs: ws(20) * 1e6,
          lastUs: (ws(3) + WINDOW_SEC) * 1e6,
          namespaces: ['ns-b', 'ns-c'],
        });
      } finally {
        await recent.stop();
      }
    });

    it('lets the UI search find the recorded objects with its default range, all data', async () => {
      const path = stack.chromiumPath ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
      if (!path) throw new Error('no Chromium (apt-get install -y chromium, or CHROMIUM_PATH)');
      mkdirSync(RESULTS, { recursive: true });
      browser = await chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
      const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
      await page.goto(`${url}/?cluster=${encodeURIComponent(KWOK)}`);
      expect(await page.locator('#f-range').inputValue()).toBe('all');
      expect(await page.locator('.data-range').innerText()).toMatch(/^Recorded data: 2026-11-22 04:30/);
      await expect.poll(() => page.locator('#f-namespace option').allInnerTexts()).toEqual(expect.arrayContaining(['Any namespace', 'demo', 'kube-system']));
      // the overview under the form defaults to the same range: the recording's activity
      await expect.poll(() => page.locator('.overview-summary').innerText(), { timeout: 60_000 }).toMatch(/2026-11-22 04:30:\d\d – 2026-11-22 04:32:\d\d UTC/);
      await page.fill('#f-resource', 'deployment');
      await page.fill('#f-name', 'demo');
      await page.click('button[type=submit]');
      await page.waitForSelector('.results a.obj-link, .state-empty');
      await page.screenshot({ path: join(RESULTS, 'summary-jaeger-search.png') });
      expect(await page.locator('.results a.obj-link').allInnerTexts()).toEqual(['Deployment demo/demo']);
      expect(page.url()).toContain('range=all');
      await page.close();
    });
  });
});
