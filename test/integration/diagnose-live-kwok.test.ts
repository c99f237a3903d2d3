// Live findings against the real thing: `kubetrail serve` records the KWOK cluster (audit webhook and
// informers) while Debian's Prometheus scrapes its /metrics and evaluates deploy/prometheus's rules.
// A ConfigMap created with a finalizer nobody removes (as alice) and deleted (as bob) stays
// Terminating; while serve still runs, Prometheus must see kubetrail_findings for stuck-deletions in
// that namespace and fire KubetrailFindingWarning, GET /api/findings/live must name the ConfigMap with
// alice as the cause, and the UI's live Findings view, opened before, must show it without a reload.
// Screenshot: test-results/ui-findings-live.png.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../setup/chromium.ts';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { startKubetrail, stackServeArgs, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { ROOT } from '../setup/deploy-tools.ts';
import { startPrometheus, type RunningPrometheus } from '../setup/prometheus.ts';
import type { LiveReport } from '../../frontend-plugin/diagnose/live.ts';

const stack = inject('stack');
const RULES = join(ROOT, 'deploy/prometheus/kubetrail-rules.yaml');
const RESULTS = join(ROOT, 'test-results');
const HOLD = 'example.com/hold';
const as = (user: string) => [`--as=${user}`, '--as-group=system:masters'];
const heldConfigMap = (ns: string, name: string): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, finalizers: [HOLD] }, data: { a: '1' } });

describe('live findings while kubetrail serve records the KWOK cluster, scraped by Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-live-'));
  let serve: RunningKubetrail;
  let prom: RunningPrometheus;
  let browser: Browser;
  let page: Page;
  let base = '';
  let ns = '';
  const navigations: string[] = [];

  beforeAll(async () => {
    const [queryPort] = await freePorts(1);
    base = `http://127.0.0.1:${queryPort}`;
    serve = await startKubetrail(
      [
        ...stackServeArgs(stack),
        '--store',
        join(dir, 'kt.sqlite'),
        '--query-port',
        String(queryPort),
        '--live-interval',
        '2s',
        '--live-threshold',
        'deletionTimeout=10s',
        '--log-level',
        'info',
      ],
      { ready: /informers started/ },
    );
    prom = await startPrometheus({ job: 'kubetrail', targets: [`127.0.0.1:${stack.webhookPort}`], ruleFiles: [RULES] });
    await waitFor(async () => (await prom.api('targets')).activeTargets[0]?.health === 'up', 'the kubetrail target up', 30_000);

    // the live Findings view is open before anything goes wrong
    mkdirSync(RESULTS, { recursive: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations.push(f.url());
    });
    await page.goto(`${base}/findings?live=1`);
    await page.waitForSelector('.findings-live:has-text("Computed at")', { timeout: 30_000 });

    ns = await createNamespace('live');
    await kubectl(['apply', ...as('alice'), '-f', '-'], { input: heldConfigMap(ns, 'held') });
    await kubectl(['delete', 'configmap', 'held', '-n', ns, '--wait=false', ...as('bob')]);
    // normal beside it: a ConfigMap deleted without a finalizer
    await kubectl(['create', 'configmap', 'plain', '-n', ns, '--from-literal=a=1', ...as('alice')]);
    await kubectl(['delete', 'configmap', 'plain', '-n', ns, ...as('bob')]);
  });

  afterAll(async () => {
    if (ns) await kubectl(['patch', 'configmap', 'held', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => {});
    await browser?.close();
    await prom?.stop();
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('Prometheus sees kubetrail_findings for the stuck deletion in its namespace and fires KubetrailFindingWarning, while serve runs', async () => {
    const query = `kubetrail_findings{job="kubetrail",detector="stuck-deletions",severity="warning",namespace="${ns}"} > 0`;
    const r = await waitFor(
      async () => {
        const res = await prom.api('query', { query });
        return res.result.length ? res.result : undefined;
      },
      `${query} in Prometheus`,
      90_000,
      1000,
    );
    expect(Number(r[0].value[1])).toBe(1);
    const alert = await waitFor(
      async () =>
        (await prom.api('alerts')).alerts.find(
          (a: any) => a.labels.alertname === 'KubetrailFindingWarning' && a.labels.namespace === ns && a.state === 'firing',
        ),
      'KubetrailFindingWarning firing',
      30_000,
      1000,
    );
    expect(alert.labels).toMatchObject({ detector: 'stuck-deletions', severity: 'warning', job: 'kubetrail' });
    expect(alert.annotations.summary).toBe(`kubetrail diagnosis found 1 stuck-deletions warning(s) in namespace "${ns}" (kubetrail)`);
    const runs = await prom.api('query', { query: 'kubetrail_live_diagnosis_runs_total{outcome="ok"}' });
    expect(Number(runs.result[0].value[1])).toBeGreaterThan(1);
    expect(serve.child.exitCode).toBeNull();
  });

  it('GET /api/findings/live names the held ConfigMap, alice as the cause, and the window it covers', async () => {
    const r = (await (await fetch(`${base}/api/findings/live`)).json()) as LiveReport;
    const mine = r.findings.filter((f) => f.objects.some((o) => o.namespace === ns) && f.severity !== 'info');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      detector: 'stuck-deletions',
      // an error once it has been stuck 5 × the 10 s timeout: a slow machine may get there first
      severity: expect.stringMatching(/^(warning|error)$/),
      objects: [{ cluster: stack.clusterName, resource: 'configmaps', namespace: ns, name: 'held' }],
      cause: { actor: 'alice' },
      data: { finalizers: [HOLD], deletedBy: 'bob', graceSec: 10 },
    });
    expect(r.live).toMatchObject({ windowSec: 600, intervalSec: 2, maxFacts: 250_000, droppedFacts: 0 });
    expect(r.live.facts).toBeGreaterThan(0);
  });

  it('the live Findings view, open since before the misbehaviour, shows it without a reload', async () => {
    const card = page.locator(`.finding[data-detector="stuck-deletions"]:has-text("${ns}/held")`);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('h3').innerText()).toMatch(new RegExp(`ConfigMap ${ns}/held is stuck Terminating for .*finalizer ${HOLD}`));
    expect(await card.locator('.cause-actor').innerText()).toBe('alice');
    expect(await page.locator('.findings-live').innerText()).toMatch(/^Computed at .* over the last 10 min \(\d+ facts, \d+ ms\); updates every 2 s\.$/);
    expect(navigations).toEqual([`${base}/findings?live=1`]);
    await page.screenshot({ path: join(RESULTS, 'ui-findings-live.png'), fullPage: true });
  });

  it('serve still drains and exits 0 on SIGTERM, its live findings worker with it', async () => {
    expect(await serve.stop()).toBe(0);
    expect(serve.output()).toMatch(/drained, bye/);
  });
});
