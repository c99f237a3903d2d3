// UI overview benchmark: the built-in UI's first screen (/overview: the activity heatmap of all the
// stored data) over the 12,100-node benchmark store, in headless Chromium against a query server
// that runs in its own process (its peak RSS is its own). Measures, per run in a fresh page: the
// time from navigation until the heatmap is on screen, and (once, --findings) until the diagnosis
// findings below it arrived; and the two API calls behind the heatmap on their own.
//   node bench/overview.ts [--store FILE] [--runs 5] [--findings]      → one JSON line
//   node bench/overview.ts serve --store FILE --port P                  (the server child)
// The store is the replay step's (.kubetrail/bench/replay-full.sqlite, `node bench/run-all.ts --only replay`).
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createQueryServer } from '../frontend-plugin/server.ts';
import { SqliteBackend } from '../frontend-plugin/backend/sqlite.ts';
import { SqliteStore } from '../src/sinks/sqlite-store.ts';
import { freePort, peakRssMb, percentile, REPO_ROOT, round, startDaemon, stopChild, waitFor } from './lib.ts';

export interface OverviewBenchResult {
  store: string;
  storeBytes: number;
  schema: number;
  runs: number;
  /** Navigation → heatmap rendered, fresh page each run; first = cold server (no page cache of the query). */
  firstSeconds: number;
  p50Seconds: number;
  maxSeconds: number;
  /** GET /api/ui/summary and GET /api/ui/activity (the default range: all data), warm. */
  summaryMs: number;
  activityMs: number;
  rows: number;
  writes: number;
  objects: number;
  failures: number;
  expected: number;
  /** Navigation → diagnosis findings shown (--findings); undefined when not asked or not within the timeout. */
  findingsSeconds?: number;
  serverPeakRssMb?: number;
}

const WINDOW_SEC = 1800;

async function serve(store: string, port: number): Promise<void> {
  const backend = new SqliteBackend(store);
  const app = await createQueryServer({ backend, windowSec: WINDOW_SEC, logger: false });
  await app.listen({ host: '127.0.0.1', port });
  process.stdout.write(`listening on ${port}\n`);
}

async function measure(store: string, runs: number, findings: boolean): Promise<OverviewBenchResult> {
  if (!existsSync(store)) throw new Error(`no store ${store}: run \`node bench/run-all.ts --only replay\` first`);
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (apt-get install -y chromium, or CHROMIUM_PATH)`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startDaemon(process.execPath, [new URL(import.meta.url).pathname, 'serve', '--store', store, '--port', String(port)]);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    await waitFor('the query server', 60_000, async () => (await fetch(`${base}/api/ui-config`)).ok);
    const times: number[] = [];
    let findingsSeconds: number | undefined;
    // The page asks for the findings (GET /api/diagnose, a full diagnosis) once the heatmap is
    // drawn: blocked in the timed runs, so one run's diagnosis does not compete with the next
    // run's heatmap; measured on its own at the end (--findings).
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
      await page.route('**/api/diagnose**', (route) => route.abort());
      const t0 = performance.now();
      await page.goto(`${base}/overview`);
      const shown = await page.waitForSelector('.overview .heatmap, .overview .state-empty, .overview-slot .state-error', { timeout: 600_000 });
      times.push((performance.now() - t0) / 1000);
      if (await shown.evaluate((e) => e.classList.contains('state-error'))) throw new Error(`the overview failed: ${await shown.innerText()}`);
      await page.close();
    }
    if (findings) {
      const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
      const t0 = performance.now();
      await page.goto(`${base}/overview`);
      try {
        await page.waitForSelector('.overview-findings .findings-summary, .overview-findings p.muted', { timeout: 600_000 });
        findingsSeconds = round((performance.now() - t0) / 1000, 2);
      } catch {
        findingsSeconds = undefined;
      }
      await page.close();
    }
    const timed = async (path: string) => {
      const t0 = performance.now();
      const res = await fetch(base + path);
      const body = (await res.json()) as { data: unknown };
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      return { ms: round(performance.now() - t0, 1), data: body.data };
    };
    const summary = await timed('/api/ui/summary');
    const act = await timed('/api/ui/activity?buckets=48');
    const a = act.data as { rows: unknown[]; totals: { writes: number; objects: number; failures: number; expected: number } };
    const sorted = [...times].sort((x, y) => x - y);
    const opened = new SqliteStore(store, { readOnly: true });
    const schema = opened.schemaVersion;
    await opened.close();
    return {
      store: store.replace(`${REPO_ROOT}/`, ''),
      storeBytes: statSync(store).size,
      schema,
      runs,
      firstSeconds: round(times[0]!, 2),
      p50Seconds: round(percentile(sorted, 50), 2),
      maxSeconds: round(sorted[sorted.length - 1]!, 2),
      summaryMs: summary.ms,
      activityMs: act.ms,
      rows: a.rows.length,
      writes: a.totals.writes,
      objects: a.totals.objects,
      failures: a.totals.failures,
      expected: a.totals.expected,
      ...(findings ? { findingsSeconds } : {}),
      serverPeakRssMb: server.child.pid ? peakRssMb(server.child.pid) : undefined,
    };
  } finally {
    await browser.close();
    await stopChild(server.child);
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { store: { type: 'string' }, port: { type: 'string' }, runs: { type: 'string' }, findings: { type: 'boolean' } },
  });
  const store = values.store ?? join(REPO_ROOT, '.kubetrail/bench/replay-full.sqlite');
  if (positionals[0] === 'serve') await serve(store, Number(values.port));
  else process.stdout.write(JSON.stringify(await measure(store, Number(values.runs ?? 5), values.findings ?? false)) + '\n');
}
