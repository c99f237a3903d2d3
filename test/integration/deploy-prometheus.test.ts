// deploy/prometheus rules and the deploy/grafana dashboard against the real thing: promtool checks
// and unit-tests the rules; then Debian's Prometheus scrapes a real `kubetrail serve` (audit webhook
// of the KWOK cluster, informers, OTLP to Jaeger) during a scenario, evaluates the rules, and every
// dashboard panel's PromQL returns data.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { ROOT, run } from '../setup/deploy-tools.ts';
import { PROMTOOL, startPrometheus, type RunningPrometheus } from '../setup/prometheus.ts';
import '../setup/types.ts';

const RULES = join(ROOT, 'deploy/prometheus/kubetrail-rules.yaml');
const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/kubetrail.json'), 'utf8'));
const JOB = 'kubetrail';

describe('Prometheus rules (promtool)', () => {
  it('promtool check rules', async () => {
    const r = await run(PROMTOOL, ['check', 'rules', RULES]);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: 19 rules found/);
    expect(r.code).toBe(0);
  });
  it('promtool test rules (deploy/prometheus/kubetrail-rules.test.yaml)', async () => {
    const r = await run(PROMTOOL, ['test', 'rules', 'kubetrail-rules.test.yaml'], { cwd: join(ROOT, 'deploy/prometheus') });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.code).toBe(0);
  });
});

describe('Prometheus scraping a real kubetrail during a KWOK scenario', () => {
  const stack = inject('stack');
  let kt: RunningKubetrail;
  let prom: RunningPrometheus;
  let ns: string;
  let start: number;

  beforeAll(async () => {
    kt = await startKubetrail(
      [
        'serve',
        '--cluster',
        stack.clusterName,
        '--webhook-host',
        '127.0.0.1',
        '--webhook-port',
        String(stack.webhookPort),
        '--kubeconfig',
        stack.kubeconfig,
        '--otlp-endpoint',
        stack.otlpGrpcEndpoint,
        '--no-query',
      ],
      { ready: /informers started/ },
    );
    prom = await startPrometheus({ job: JOB, targets: [`127.0.0.1:${stack.webhookPort}`], ruleFiles: [RULES] });
    start = Date.now() / 1000;
    await waitFor(async () => (await prom.api('targets')).activeTargets[0]?.health === 'up', 'the kubetrail target up', 30_000);

    // the scenario: a Deployment created, scaled, re-imaged and deleted (audit webhook + informers)
    ns = await createNamespace('prom');
    await kubectl(['create', 'deployment', 'web', '--image=nginx:1.25', '--replicas=2', '-n', ns]);
    await kubectl(['scale', 'deployment', 'web', '--replicas=4', '-n', ns]);
    await kubectl(['set', 'image', 'deployment/web', 'nginx=nginx:1.26', '-n', ns]);
    await kubectl(['create', 'configmap', 'cfg', '--from-literal=a=b', '-n', ns]);
    // what an operator also sees: a batch that is not JSON (400) and a batch with a malformed item
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${stack.webhookPort}${stack.webhookPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('{not json')).status).toBe(400);
    expect((await post(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [42, { kind: 'Event', verb: 'update' }] }))).status).toBe(200);
    await kubectl(['delete', 'deployment', 'web', '-n', ns]);
    // spans of the audit events written (acknowledged by Jaeger) and scraped
    await waitFor(
      async () => {
        const r = await prom.api('query', { query: 'sum(kubetrail_spans_written_total{sink="otlp"}) > 20 and sum(kubetrail_event_lag_seconds_count) > 10' });
        return r.result.length > 0;
      },
      'scraped spans and lag observations',
      90_000,
    );
    // a few more scrapes and rule evaluations
    await new Promise((r) => setTimeout(r, 5000));
  });
  afterAll(async () => {
    await prom?.stop();
    await kt?.stop();
    if (ns) await deleteNamespace(ns);
  });

  it('loads every rule and evaluates it without error; recording rules have data; the dropped-events alert fires', async () => {
    const { groups } = await prom.api('rules');
    const rules = groups.flatMap((g: any) => g.rules);
    expect(rules).toHaveLength(19);
    for (const r of rules) {
      expect(`${r.name}: ${r.health} ${r.lastError ?? ''}`).toBe(`${r.name}: ok `);
      expect(Date.parse(r.lastEvaluation)).toBeGreaterThan(start * 1000);
    }
    for (const name of [
      'kubetrail:audit_events_received:rate5m',
      'kubetrail:spans_written:rate5m',
      'kubetrail:event_lag_seconds:p99_5m',
      'kubetrail:webhook_rejected_ratio:rate5m',
      'kubetrail:watch_events:rate5m',
    ]) {
      const r = await prom.api('query', { query: name });
      expect(r.result.length, name).toBeGreaterThan(0);
      expect(r.result[0].metric.job).toBe(JOB);
    }
    const alerts = (await prom.api('alerts')).alerts;
    expect(alerts.filter((a: any) => a.state === 'firing').map((a: any) => `${a.labels.alertname}/${a.labels.reason}`)).toEqual(
      expect.arrayContaining(['KubetrailAuditEventsDropped/malformed', 'KubetrailAuditEventsDropped/invalid_json']),
    );
    // nothing failed, nothing is behind
    expect(alerts.map((a: any) => a.labels.alertname)).not.toContain('KubetrailSinkFailures');
    expect(alerts.map((a: any) => a.labels.alertname)).not.toContain('KubetrailSinkQueueNearFull');
  });

  const targets: { panel: string; refId: string; expr: string }[] = dashboard.panels.flatMap((p: any) =>
    p.targets.map((t: any) => ({ panel: p.title, refId: t.refId, expr: t.expr })),
  );
  it.each(targets)('dashboard "$panel" query $refId returns data', async ({ expr }) => {
    // what Grafana substitutes: the job variable, and $__rate_interval (4 scrape intervals at least)
    const query = expr.replaceAll('$job', JOB).replaceAll('$__rate_interval', '10s');
    const r = await prom.api('query_range', { query, start: String(start), end: String(Date.now() / 1000), step: '1' });
    expect(r.resultType).toBe('matrix');
    const finite = r.result.flatMap((s: any) => s.values.map((v: [number, string]) => Number(v[1]))).filter(Number.isFinite);
    expect(finite.length, `${query}: ${JSON.stringify(r.result).slice(0, 300)}`).toBeGreaterThan(0);
  });

  it('the panels that split by a label show the values the scenario produced', async () => {
    const labels = async (query: string, label: string) => {
      const r = await prom.api('query_range', { query, start: String(start), end: String(Date.now() / 1000), step: '1' });
      return r.result.map((s: any) => s.metric[label]).sort();
    };
    expect(await labels(`sum by (source) (rate(kubetrail_watch_events_total{job="${JOB}"}[10s]))`, 'source')).toEqual(['event', 'watch']);
    expect(await labels(`sum by (reason) (increase(kubetrail_audit_events_rejected_total{job="${JOB}"}[10s]))`, 'reason')).toEqual(
      expect.arrayContaining(['invalid_json', 'malformed']),
    );
    expect(await labels(`sum by (code) (rate(kubetrail_webhook_requests_total{job="${JOB}"}[10s]))`, 'code')).toEqual(expect.arrayContaining(['200', '400']));
    expect(await labels(`sum by (sink) (kubetrail_sink_queue_depth{job="${JOB}"})`, 'sink')).toContain('otlp');
  });
});
