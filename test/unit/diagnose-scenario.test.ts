// `kubetrail diagnose` as a user runs it (a real process) over the recorded KWOK scenario
// (examples/kwok-scenario) replayed into a temp store: the negative control. The scenario is a
// healthy cluster: 0 warnings, 0 errors. Node kwok-node-2 is deleted while demo-68c74967f8-vlntf
// and web-0 run on it, and they stay bound to it for ~50 s until the pod garbage collector removes
// them — routine garbage collection (its ~40 s quarantine by design), so `orphans` reports it as
// info; with a grace of 1 s (49.5 s is above 10 × the grace) it is a warning.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';
import { diagnose } from '../../frontend-plugin/diagnose/index.ts';
import { MemoryBackend } from '../helpers/memory-backend.ts';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { loadSpans } from '../../frontend-plugin/diagnose/loader.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import { Attr, objectKey, type SpanRecord } from '../../src/core/model.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli.ts');
const SCENARIO = join(ROOT, 'examples/kwok-scenario');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' } });

let dir: string;
let store: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-diagnose-'));
  store = join(dir, 'scenario.sqlite');
  const r = run('replay', '--cluster', 'kwok', '--store', store, join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json'));
  expect(r.status, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubetrail diagnose over the recorded scenario', () => {
  it('finds no warning or error; the pods the pod GC removed from the deleted node are info (orphans)', () => {
    const r = run('diagnose', '--store', store, '--json');
    expect(r.status, r.stderr).toBe(0); // default --fail-on error: nothing reaches it
    const report = JSON.parse(r.stdout) as Report;
    expect(report.detectors.map((d) => d.name)).toEqual([
      'churn',
      'fighting',
      'conflicts',
      'noop-writes',
      'stuck-rollouts',
      'unscheduled-pods',
      'orphans',
      'slow-reactions',
      'hot-loops',
      'stuck-deletions',
      'workload-failures',
      'blocked-evictions',
      'completeness',
    ]);
    expect(report.detectors.filter((d) => d.failed)).toEqual([]);
    expect(report.start).toBe('2026-11-22T04:30:38.770Z');
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const f = report.findings.find((x) => x.detector === 'orphans');
    expect(f).toMatchObject({
      detector: 'orphans',
      severity: 'info',
      title: '2 pods stayed bound to deleted Node kwok-node-2 for up to 49.5 s',
      objects: [
        { cluster: 'kwok', group: '', resource: 'nodes', namespace: '', name: 'kwok-node-2' },
        { resource: 'pods', namespace: 'demo', name: 'web-0' },
        { resource: 'pods', namespace: 'demo', name: 'demo-68c74967f8-vlntf' },
      ],
      actors: ['kwok-admin'],
      data: { relation: 'node', survivors: 2, stillThere: 0 },
    });
    expect(f!.evidence[0]).toMatchObject({ time: '2026-11-22T04:31:11.845Z', user: 'kwok-admin', verb: 'delete', code: 200, object: { name: 'kwok-node-2' } });
    expect(f!.evidence.slice(1).map((e) => [e.user, e.verb, e.object.name])).toEqual([
      ['system:serviceaccount:kube-system:pod-garbage-collector', 'delete', 'web-0'],
      ['system:serviceaccount:kube-system:pod-garbage-collector', 'delete', 'demo-68c74967f8-vlntf'],
    ]);
    // what is only information: controllers' routine 409s (retried), reaction delays in ms, pod GC,
    // and the node kwok-admin created and deleted with its pods on it (the test's own fake node)
    expect(
      report.findings
        .filter((f) => f.severity === 'info')
        .map((f) => f.detector)
        .sort(),
    ).toEqual(['churn', 'conflicts', 'orphans', 'slow-reactions', 'slow-reactions', 'slow-reactions', 'slow-reactions']);
    const node = report.findings.find((x) => x.detector === 'churn')!;
    expect(node).toMatchObject({
      severity: 'info',
      cause: { actor: 'kwok-admin', verb: 'delete' },
      data: { node: 'kwok-node-2', pods: 2, replaced: 2, planned: true },
    });
    // the recording holds every object from its create (no completeness caveat) and no eviction
    expect(report.detectors.filter((d) => ['blocked-evictions', 'completeness'].includes(d.name)).map((d) => d.findings)).toEqual([0, 0]);
  });

  it('its evidence link opens the trace of the pod on the deleted node', async () => {
    const report = JSON.parse(run('diagnose', '--store', store, '--json').stdout) as Report;
    const f = report.findings.find((x) => x.detector === 'orphans')!;
    expect(f.redirect).toBe('/redirect?cluster=kwok&group=&resource=pods&namespace=demo&name=web-0&ts=2026-11-22T04%3A31%3A11.845Z');
    const backend = new SqliteBackend(store);
    const app = await createQueryServer({ backend, windowSec: 1800, uiDir: '/nonexistent' });
    try {
      const res = await app.inject({ method: 'GET', url: f.redirect });
      expect(res.statusCode).toBe(302);
      const id = String(res.headers.location).replace('/trace/', '');
      const trace = (await app.inject({ method: 'GET', url: `/api/traces/${id}` })).json().data[0];
      const names = trace.spans.map((s: { operationName: string }) => s.operationName);
      expect(names[0]).toBe('pods demo/web-0');
      expect(names).toContain('nodes kwok-node-2');
      const logs = trace.spans.flatMap((s: { logs: { fields: { key: string; value: unknown }[] }[] }) =>
        s.logs.map((l) => Object.fromEntries(l.fields.map((x) => [x.key, x.value]))),
      );
      expect(logs).toContainEqual(expect.objectContaining({ audit: 'system:serviceaccount:kube-system:pod-garbage-collector delete' }));
    } finally {
      await app.close();
      await backend.close();
    }
  });

  it('GET /api/diagnose answers the same report as the CLI, and 400 for bad parameters', async () => {
    const cli = JSON.parse(run('diagnose', '--store', store, '--json', '--cluster', 'kwok').stdout) as Report;
    const backend = new SqliteBackend(store);
    const app = await createQueryServer({ backend, windowSec: 1800 });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/diagnose?cluster=kwok' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(cli);
      const ps = (await app.inject({ method: 'GET', url: '/api/diagnose?podStartup=true&orphanGrace=60s&start=2026-11-22T04:30:00Z' })).json() as Report;
      expect(ps.podStartup).toMatchObject({ pods: 14 });
      expect(ps.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(ps.start).toBe('2026-11-22T04:30:00.000Z');
      for (const bad of ['start=yesterday-ish', 'orphanGrace=long', 'selector=pods', 'color=red', 'start=2026-11-23T00:00:00Z&end=2026-11-22T00:00:00Z']) {
        const r = await app.inject({ method: 'GET', url: `/api/diagnose?${bad}` });
        expect(r.statusCode, bad).toBe(400);
        expect(r.json().errors[0].code).toBe(400);
      }
      const page = await app.inject({ method: 'GET', url: '/findings' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<script type="module" src="/app.js">');
    } finally {
      await app.close();
      await backend.close();
    }
  });

  it('answers two identical diagnoses asked at once from one scan of the store, and scans again for the next', async () => {
    const sqlite = new SqliteBackend(store);
    let scans = 0;
    const counting = Object.assign(Object.create(sqlite) as SqliteBackend, {
      // the diagnosis reads the store's facts (the spans of a store written before facts existed)
      scanFacts: (q: Parameters<SqliteBackend['scanFacts']>[0]) => {
        scans++;
        return sqlite.scanFacts(q);
      },
    });
    const app = await createQueryServer({ backend: counting, windowSec: 1800 });
    try {
      const url = '/api/diagnose?cluster=kwok&start=2026-11-22T04:00:00Z&end=2026-11-22T05:00:00Z';
      const [a, b] = await Promise.all([app.inject({ method: 'GET', url }), app.inject({ method: 'GET', url })]);
      expect(a.statusCode).toBe(200);
      expect(b.json()).toEqual(a.json());
      expect(a.json().findings.length).toBeGreaterThan(0);
      const once = scans;
      expect(once).toBeGreaterThan(0);
      await app.inject({ method: 'GET', url });
      expect(scans).toBe(2 * once);
    } finally {
      await app.close();
      await sqlite.close();
    }
  });

  it("the store's range scan and an in-memory copy's scan give the same report", async () => {
    const sqlite = new SqliteBackend(store);
    try {
      const ids = (sqlite.store.db.prepare('SELECT trace_id FROM objects').all() as { trace_id: string }[]).map((r) => r.trace_id);
      const memory = new MemoryBackend();
      memory.add((await sqlite.getRawTraces(ids)).flat());
      const viaScan = await diagnose(sqlite, { cluster: 'kwok', podStartup: true });
      const viaFallback = await diagnose(memory, { cluster: 'kwok', podStartup: true });
      expect(viaFallback).toEqual(viaScan);
      expect(viaScan.findings.filter((f) => f.detector === 'orphans')).toHaveLength(1);
    } finally {
      await sqlite.close();
    }
  });

  it("the store's range scan (its own connection, a few raw traces a statement) loads the very spans of its raw traces read one by one, and the same report", async () => {
    const sqlite = new SqliteBackend(store);
    try {
      // the same store without its scan: every object of the range, then getRawTrace per raw trace
      const byTrace: TraceBackend = {
        getRawTrace: (id) => sqlite.getRawTrace(id),
        getRawTraces: (ids) => Promise.all(ids.map((id) => sqlite.getRawTrace(id))),
        async *scanSpans(q) {
          const range = { cluster: q.cluster, startUs: q.startUs, endUs: q.endUs, limit: 1_000_000 };
          const found = [
            ...(await sqlite.findObjects({ ...range, namespace: q.namespace })),
            ...(q.namespace ? await sqlite.findObjects({ ...range, namespace: '' }) : []),
          ];
          for (const f of found)
            yield (await Promise.all(f.windows.map((w) => sqlite.getRawTrace(rawTraceId(objectKey(f.object), w))))).flat().filter((s) => s.kind !== 'object');
        },
        findObjects: (q) => sqlite.findObjects(q),
        clusters: () => sqlite.clusters(),
        close: async () => {},
      };
      const traces = (sqlite.store.db.prepare('SELECT COUNT(*) AS n FROM objects').get() as { n: number }).n;
      expect(traces).toBeGreaterThan(40); // more than one statement of the scan
      const range = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER };
      // events exactly; links as relations (one link span per relation is kept, whichever comes first)
      const events = (l: SpanRecord[]) => l.filter((s) => s.kind === 'event').sort((a, b) => (a.traceId + a.spanId < b.traceId + b.spanId ? -1 : 1));
      const relations = (l: SpanRecord[]) =>
        l
          .filter((s) => s.kind === 'link')
          .map((s) => {
            const [me, other] = [objectKey(s.object), String(s.attributes[Attr.linkKey])];
            return `${s.attributes[Attr.linkRole] === 'parent' ? `${me} ${other}` : `${other} ${me}`} ${s.attributes[Attr.linkClass]}`;
          })
          .sort();
      const scanned = await loadSpans(sqlite, range);
      const oneByOne = await loadSpans(byTrace, range);
      expect(events(scanned).length).toBeGreaterThan(300);
      expect(events(scanned)).toEqual(events(oneByOne));
      expect(relations(scanned)).toEqual(relations(oneByOne));
      const report = { cluster: 'kwok', podStartup: true, podStartupThresholdSec: 0.02 };
      const viaScan = await diagnose(sqlite, report);
      expect(await diagnose(byTrace, report)).toEqual(viaScan);
      expect(viaScan.findings.map((f) => f.detector)).toContain('pod-startup');
      // a backend over a store this process writes: the scan's own connection sees what was written
      const copy = new SqliteStore(join(dir, 'copy.sqlite'));
      const ids = (sqlite.store.db.prepare('SELECT trace_id FROM objects').all() as { trace_id: string }[]).map((r) => r.trace_id);
      await copy.write((await sqlite.getRawTraces(ids)).flat());
      const writing = new SqliteBackend(copy);
      try {
        expect(await diagnose(writing, report)).toEqual(viaScan);
      } finally {
        await writing.close();
        await copy.close();
      }
    } finally {
      await sqlite.close();
    }
  });

  it('prints a text report and fails CI with a JUnit file at --fail-on warning (pods left 49.5 s on a deleted node: above 10 × a 1 s grace)', () => {
    const junit = join(dir, 'diagnose.xml');
    const r = run('diagnose', '--store', store, '--fail-on', 'warning', '--orphan-grace', '1s', '--junit', junit, '--ui-url', 'http://127.0.0.1:16686/');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('0 error, 1 warning, 6 info finding(s)');
    expect(r.stdout).toContain('WARN  [orphans] 2 pods stayed bound to deleted Node kwok-node-2 for up to 49.5 s');
    expect(r.stdout).toContain('- 2026-11-22T04:31:11.845Z  kwok-admin  delete (200)  Node kwok-node-2');
    expect(r.stdout).toContain('open: http://127.0.0.1:16686/redirect?cluster=kwok&group=&resource=pods&namespace=demo&name=web-0');
    const xml = readFileSync(junit, 'utf8');
    // one test case per detector (13 since blocked-evictions and completeness)
    expect(xml.match(/<testcase /g)).toHaveLength(13);
    expect(xml).toContain('<testsuite name="kubetrail diagnose 2026-11-22T04:30:38.770Z → 2026-11-22T04:32:06.352Z" tests="13" failures="1" errors="0"');
    expect(xml).toMatch(
      /<testcase classname="kubetrail.diagnose" name="orphans">\s*<failure message="2 pods stayed bound to deleted Node kwok-node-2 for up to 49.5 s" type="warning">[^<]*kwok-admin {2}delete \(200\) {2}Node kwok-node-2/,
    );
    expect(xml).toMatch(/<testcase classname="kubetrail.diagnose" name="fighting"><\/testcase>/);
    expect(xml).toMatch(/name="churn">\s*<system-out>info {2}\[churn\] kwok-admin deleted Node kwok-node-2 while 2 pods/);
    // info findings ride along as output, not failures
    expect(xml).toMatch(/name="conflicts">\s*<system-out>info {2}\[conflicts\]/);
  });

  it('the pod startup report, and its SLO finding', () => {
    const ok = run('diagnose', '--store', store, '--json', '--pod-startup-threshold', '5s');
    expect(ok.status, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as Report;
    expect(report.podStartup).toMatchObject({ pods: 14, notRunning: 0, startup: { count: 14, p50: 0.017, p99: 0.029 }, scheduled: { count: 14, p99: 0.014 } });
    expect(Object.keys(report.podStartup!.byNode).sort()).toEqual(['kwok-node-0', 'kwok-node-1', 'kwok-node-2']);
    expect(report.detectors.at(-1)).toEqual({ name: 'pod-startup', findings: 0, failed: false });
    const slow = run('diagnose', '--store', store, '--json', '--pod-startup-threshold', '10ms');
    expect(slow.status).toBe(1);
    const f = (JSON.parse(slow.stdout) as Report).findings.find((x) => x.detector === 'pod-startup');
    expect(f).toMatchObject({ severity: 'error', title: 'pod startup p99 is 29 ms (create → Running over 14 pods), above 10 ms' });
    const text = run('diagnose', '--store', store, '--pod-startup').stdout;
    expect(text).toMatch(/create → running +n=14 +p50 0\.017s/);
  });

  it('--selector, --namespace and --since/--until narrow the report', () => {
    const sel = JSON.parse(run('diagnose', '--store', store, '--json', '--selector', 'apps/statefulsets/demo/web').stdout) as Report;
    expect(sel.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(sel.findings.filter((f) => f.detector === 'orphans')).toHaveLength(1); // web-0 is the StatefulSet's pod
    expect(sel.findings.every((f) => f.objects.some((o) => /^web(-\d)?$/.test(o.name)))).toBe(true);
    const other = JSON.parse(run('diagnose', '--store', store, '--json', '--namespace', 'kube-system').stdout) as Report;
    expect(other.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    const early = JSON.parse(
      run('diagnose', '--store', store, '--json', '--since', '2026-11-22T04:30:00Z', '--until', '2026-11-22T04:31:00Z').stdout,
    ) as Report;
    expect(early).toMatchObject({ start: '2026-11-22T04:30:00.000Z', end: '2026-11-22T04:31:00.000Z' });
    expect(early.findings.filter((f) => f.detector === 'orphans')).toEqual([]);
  });

  it('thresholds come from flags and --config; usage errors exit 2, a missing store 3', () => {
    // the replicaset-controller's 11 retried 409s, 26 % of its writes there: routine (info) unless
    // 10 × --conflict-min failed and at least --conflict-min-ratio of its requests did
    const rsc = (...flags: string[]) =>
      (JSON.parse(run('diagnose', '--store', store, '--json', ...flags).stdout) as Report).findings.find(
        (f) => f.detector === 'conflicts' && f.actors?.[0] === 'system:serviceaccount:kube-system:replicaset-controller',
      )!.severity;
    expect(rsc('--conflict-min', '1')).toBe('info');
    expect(rsc('--conflict-min', '1', '--conflict-min-ratio', '0.25')).toBe('warning');
    const cfg = join(dir, 'diagnose.yaml');
    writeFileSync(cfg, 'orphanGrace: 1s\nfailOn: warning\n');
    const viaConfig = run('diagnose', '--store', store, '--config', cfg);
    expect(viaConfig.status, viaConfig.stderr).toBe(1); // the 49.5 s stay is above 10 × a 1 s grace
    expect(viaConfig.stdout).toContain('0 error, 1 warning');
    expect(run('diagnose', '--store', store, '--fail-on', 'fatal').status).toBe(2);
    expect(run('diagnose', '--store', store, '--rollout-timeout', 'soon').status).toBe(2);
    expect(run('diagnose', '--store', store, '--selector', 'deployments/web').status).toBe(2);
    expect(run('diagnose', '--store', store, '--jaeger-query', 'http://127.0.0.1:1').status).toBe(2);
    const missing = run('diagnose', '--store', join(dir, 'nope.sqlite'));
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('no store at');
    expect(existsSync(join(dir, 'nope.sqlite'))).toBe(false);
    expect(run('diagnose', '--help').stdout).toContain('--pod-startup-threshold');
  }, 120_000); // nine CLI runs: past the unit default of 30 s on a loaded machine
});
