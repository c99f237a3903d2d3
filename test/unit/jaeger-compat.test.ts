// Issue 10 over the recorded KWOK scenario (examples/kwok-scenario, replayed through the real
// pipeline into a temporary store): /redirect around a time, one trace one ID, the compare view's
// traceID parameters, free tag search, times that read right, failures that mean something.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { replayFiles } from '../../src/commands/replay.ts';
import { findScenarioLogs } from '../../src/commands/demo.ts';
import { serviceNames } from '../../frontend-plugin/trace-id.ts';

const WINDOW_SEC = 1800;
const scenario = findScenarioLogs([join(import.meta.dirname, '../../examples/kwok-scenario')]);
// Scenario times (examples/kwok-scenario/timeline.tsv): all in the 04:30 window of 2026-11-22.
const CREATE_DEPLOY = Date.parse('2026-11-22T04:30:47.722Z');
const US = (ms: number) => String(Math.round(ms * 1000));
const ALL = `start=${US(Date.parse('2026-11-22T04:00:00Z'))}&end=${US(Date.parse('2026-11-22T06:00:00Z'))}`;

interface JKV {
  key: string;
  value: unknown;
}
interface JSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { spanID: string }[];
  startTime: number;
  duration: number;
  tags: JKV[];
  logs: { timestamp: number; fields: JKV[] }[];
  warnings: string[] | null;
}
interface JTrace {
  traceID: string;
  spans: JSpan[];
}
const tag = (s: { tags: JKV[] }, k: string) => s.tags.find((t) => t.key === k)?.value;
const field = (l: { fields: JKV[] }, k: string) => l.fields.find((t) => t.key === k)?.value;

let dir: string;
let store: SqliteStore;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  if (!scenario) throw new Error('examples/kwok-scenario is missing');
  dir = mkdtempSync(join(tmpdir(), 'kt-compat-'));
  store = new SqliteStore(join(dir, 'store.sqlite'));
  await replayFiles({ files: scenario.files, cluster: 'kwok', sink: store, progress: false });
  app = await createQueryServer({ backend: new SqliteBackend(store), windowSec: WINDOW_SEC, uiDir: '/nonexistent', logger: false });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, headers: res.headers, json: () => res.json() };
};
const search = async (q: string): Promise<JTrace[]> => {
  const r = await get(`/api/traces?${q}`);
  expect(r.status, JSON.stringify(r.json())).toBe(200);
  return r.json().data as JTrace[];
};
const rootOf = (t: JTrace) => t.spans.find((s) => s.references.length === 0)!;
const rawLocation = (path: string) =>
  new Promise<{ status: number; rawHeaders: string[] }>((resolve, reject) => {
    request(`${base}${path}`, (res) => {
      res.resume();
      resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders });
    })
      .on('error', reject)
      .end();
  });

describe('/redirect: ts ± one window, merged, with a `Location` header', () => {
  it('sends `Location` spelled as Kelemetry does', async () => {
    const r = await rawLocation(`/redirect?cluster=kwok&group=apps&resource=deployments&namespace=demo&name=demo&ts=${new Date(CREATE_DEPLOY).toISOString()}`);
    expect(r.status).toBe(302);
    const i = r.rawHeaders.indexOf('Location');
    expect(i, r.rawHeaders.join(' ')).toBeGreaterThanOrEqual(0);
    expect(r.rawHeaders[i + 1]).toMatch(/^\/trace\/ff20000000[0-9a-f]{22}$/);
  });

  it('finds the create in the previous window when ts is just past a window boundary', async () => {
    // Kelemetry's e2e: ts a little after :00, the create and first status updates sit before it.
    const ts = new Date(Date.parse('2026-11-22T05:00:20Z')).toISOString();
    const r = await get(`/redirect?cluster=kwok&group=apps&resource=deployments&namespace=demo&name=demo&ts=${ts}`);
    expect(r.status).toBe(302);
    const id = String(r.headers.location).slice('/trace/'.length);
    const t = (await get(`/api/traces/${id}`)).json().data[0] as JTrace;
    expect(rootOf(t).logs.some((l) => / create$/.test(String(field(l, 'audit'))))).toBe(true);
  });

  it('gives the same trace ID as a search over the same range (one trace, one ID)', async () => {
    const tsMs = Date.parse('2026-11-22T04:40:00Z');
    const r = await get(`/redirect?cluster=kwok&group=apps&resource=deployments&namespace=demo&name=demo&ts=${tsMs}`);
    const fromRedirect = String(r.headers.location).slice('/trace/'.length);
    const found = await search(
      `service=tracing&tags=${encodeURIComponent('{"name":"demo","resource":"deployments","namespace":"demo"}')}&start=${US(tsMs - WINDOW_SEC * 1000)}&end=${US(tsMs + WINDOW_SEC * 1000)}`,
    );
    expect(found.map((t) => t.traceID)).toEqual([fromRedirect]);
  });
});

describe('/api/traces?traceID=…&traceID=… (compare view)', () => {
  it('answers each trace asked for, and lists the missing ones', async () => {
    const rs = await search(`service=tracing&tags=${encodeURIComponent('resource=replicasets namespace=demo')}&${ALL}`);
    expect(rs.length).toBeGreaterThanOrEqual(2);
    const [a, b] = [rs[0]!.traceID, rs[1]!.traceID];
    const missing = 'ff20000000' + '1'.repeat(22);
    const r = (await get(`/api/traces?traceID=${a}&traceID=${b}&traceID=${missing}`)).json();
    expect(r.data.map((t: JTrace) => t.traceID).sort()).toEqual([a, b].sort());
    expect(r.errors).toEqual([{ msg: 'trace not found', traceID: missing }]); // Jaeger's shape
  });
});

describe('free tag search over span tags and log fields', () => {
  const names = (ts: JTrace[]) => ts.map((t) => rootOf(t).operationName).sort();
  const tags = (o: Record<string, string>) => `tags=${encodeURIComponent(JSON.stringify(o))}`;

  it('user=, verb=, code=, node= and event log fields select the objects whose spans carry them', async () => {
    const deleted = await search(`service=tracing&${tags({ user: 'kwok-admin', verb: 'delete', resource: 'pods' })}&${ALL}&limit=100`);
    expect(deleted.length).toBeGreaterThan(0);
    for (const t of deleted) expect(rootOf(t).logs.some((l) => field(l, 'audit') === 'kwok-admin delete')).toBe(true);

    const conflicts = await search(`service=tracing&${tags({ code: '409', namespace: 'demo' })}&${ALL}&limit=100`);
    expect(names(conflicts)).toContain('deployments demo/demo');
    for (const t of conflicts) expect(rootOf(t).logs.some((l) => field(l, 'code') === 409)).toBe(true);

    const onNode = await search(`service=tracing&${tags({ node: 'kwok-node-0', resource: 'pods' })}&${ALL}&limit=100`);
    expect(onNode.length).toBeGreaterThan(0);
    for (const t of onNode) expect(t.spans.some((s) => s.operationName === 'nodes kwok-node-0')).toBe(true);

    const scaled = await search(`service=tracing&${tags({ event: 'ScalingReplicaSet' })}&${ALL}`);
    expect(names(scaled)).toEqual(['deployments demo/demo']);
    expect(await search(`service=tracing&${tags({ user: 'nobody-at-all' })}&${ALL}`)).toEqual([]);
  });

  it('error=true follows the failure classification: expected failures are found by failure=expected', async () => {
    const expected = await search(`service=tracing&${tags({ failure: 'expected', resource: 'pods' })}&${ALL}&limit=100`);
    expect(expected.length).toBeGreaterThan(0); // kwok deletes pods that are already gone: 404
    const errors = await search(`service=tracing&${tags({ error: 'true' })}&${ALL}&limit=100`);
    const errorNames = new Set(names(errors));
    for (const t of expected) expect(errorNames.has(rootOf(t).operationName)).toBe(false);
    for (const t of errors) expect(t.spans.some((s) => tag(s, 'error') === true)).toBe(true);
  });
});

describe('failures that mean something', () => {
  it('marks routine failures as warnings, not errors, in every span of the Deployment story', async () => {
    const [t] = await search(`service=${encodeURIComponent('tracing (owned objects)')}&${tags({ name: 'demo', resource: 'deployments' })}&${ALL}`);
    const spans = t!.spans;
    const expectedSpans = spans.filter((s) => tag(s, 'failure') === 'expected');
    expect(expectedSpans.length).toBeGreaterThan(0);
    // before: 11 of 12 object spans were errors; retried conflicts and 404 deletes are not
    expect(spans.filter((s) => tag(s, 'error') === true)).toEqual([]);
    const dep = rootOf(t!);
    const conflict = dep.logs.find((l) => field(l, 'code') === 409)!;
    expect(field(conflict, 'error')).toBeUndefined();
    expect(String(field(conflict, 'warning'))).toMatch(/modified|conflict/i);
    expect(field(conflict, 'failure')).toBe('conflict-retried');
    expect(dep.warnings?.some((w) => w.startsWith('expected failure (conflict-retried)'))).toBe(true);
    const pod404 = spans.flatMap((s) => s.logs).find((l) => field(l, 'code') === 404 && field(l, 'audit') === 'kwok-admin delete');
    expect(pod404 && field(pod404, 'failure')).toBe('already-gone');
  });

  function tags(o: Record<string, string>) {
    return `tags=${encodeURIComponent(JSON.stringify(o))}`;
  }
});

describe('times that read right', () => {
  function checkTimes(t: JTrace, nowUs: number, where: string): void {
    const byId = new Map(t.spans.map((s) => [s.spanID, s]));
    for (const s of t.spans) {
      expect(s.duration, `${where}: ${s.operationName} has a duration`).toBeGreaterThan(0);
      expect(s.startTime + s.duration, `${where}: ${s.operationName} ends before now`).toBeLessThanOrEqual(nowUs);
      const p = s.references[0] && byId.get(s.references[0].spanID);
      if (!p) continue;
      expect(s.startTime, `${where}: ${s.operationName} starts inside ${p.operationName}`).toBeGreaterThanOrEqual(p.startTime);
      expect(s.startTime + s.duration, `${where}: ${s.operationName} ends inside ${p.operationName}`).toBeLessThanOrEqual(p.startTime + p.duration);
    }
  }

  it('children lie inside their parents, durations are never zero, nothing reaches the future — every mode and scope', async () => {
    const nowUs = Date.now() * 1000;
    const [dep] = await search(`service=tracing&${`tags=${encodeURIComponent('{"name":"demo","resource":"deployments"}')}`}&${ALL}`);
    const pods = await search(`service=tracing&${`tags=${encodeURIComponent('{"resource":"pods","namespace":"demo"}')}`}&${ALL}&limit=3`);
    for (const id of [dep!.traceID, ...pods.map((p) => p.traceID)]) {
      for (const mode of ['20000000', '21000000', '22000000', '24000000', '00000000', '01000000', '10000000', '30000000', '34000000']) {
        const other = `ff${mode}${id.slice(10)}`;
        const t = (await get(`/api/traces/${other}`)).json().data[0] as JTrace;
        checkTimes(t, nowUs, other);
      }
    }
    expect(serviceNames()).toHaveLength(16);
  });

  it("an object span covers its own events, not the window; a pod's trace starts at its own first event", async () => {
    const [dep] = await search(`service=tracing&tags=${encodeURIComponent('{"name":"demo","resource":"deployments"}')}&${ALL}`);
    const root = rootOf(dep!);
    expect(root.startTime).toBe(Math.min(...root.logs.map((l) => l.timestamp)));
    expect(root.duration).toBeLessThan(10 * 60e6); // the story takes ~80 s, the window is 30 min

    const [pod] = await search(`service=tracing&tags=${encodeURIComponent('{"resource":"pods","namespace":"demo"}')}&${ALL}&limit=1`);
    const podRoot = rootOf(pod!);
    expect(podRoot.operationName).toMatch(/^pods /);
    expect(Math.min(...pod!.spans.map((s) => s.startTime))).toBe(Math.min(...podRoot.logs.map((l) => l.timestamp)));
    // the node is there, clipped into the pod's time, though it was created before the pod
    const node = pod!.spans.find((s) => s.operationName.startsWith('nodes '))!;
    expect(node).toBeTruthy();
    expect(node.startTime).toBeGreaterThanOrEqual(podRoot.startTime);
  });
});

describe('query API v3 over the recorded scenario', () => {
  const min = '2026-11-22T04:00:00Z';
  const max = '2026-11-22T06:00:00.000000Z';
  it('services, operations, trace summaries and a trace, as the current Jaeger UI asks for them', async () => {
    expect((await get('/api/v3/services')).json().services).toEqual(serviceNames());
    expect((await get('/api/v3/operations?service=tracing')).json()).toEqual({ operations: [{ name: 'kwok', spanKind: 'internal' }] });
    const attrs = encodeURIComponent(JSON.stringify({ resource: 'deployments', name: 'demo' }));
    const s = await get(
      `/api/v3/trace-summaries?query.serviceName=tracing&query.operationName=kwok&query.startTimeMin=${min}&query.startTimeMax=${max}&query.searchDepth=20&query.attributes=${attrs}`,
    );
    expect(s.status).toBe(200);
    const [sum] = s.json().summaries;
    expect(sum).toMatchObject({ rootServiceName: 'kwok', rootOperationName: 'deployments demo/demo', traceId: expect.stringMatching(/^ff20000000/) });
    // the same search, snake_case (Jaeger ≤ 2.13), as OTLP resource spans
    const t = await get(
      `/api/v3/traces?query.service_name=tracing&query.start_time_min=${min}&query.start_time_max=${max}&query.num_traces=20&query.attributes=${attrs}`,
    );
    const spans = t.json().result.resourceSpans.flatMap((r: { scopeSpans: { spans: unknown[] }[] }) => r.scopeSpans.flatMap((x) => x.spans));
    expect(spans[0]).toMatchObject({ traceId: sum.traceId, name: 'deployments demo/demo', kind: 1, startTimeUnixNano: sum.minStartTimeUnixNano });
    expect(spans[0].events.some((e: { name: string }) => e.name === 'ScalingReplicaSet')).toBe(true);
    const one = await get(`/api/v3/traces/${sum.traceId}`);
    expect(one.json().result.resourceSpans[0].scopeSpans[0].spans[0].spanId).toBe(spans[0].spanId);
    // the Jaeger UI puts the Tags field into its URL as typed: logfmt works as well as JSON
    const logfmt = await get(
      `/api/v3/trace-summaries?query.serviceName=tracing&query.startTimeMin=${min}&query.startTimeMax=${max}&query.attributes=${encodeURIComponent('resource=deployments name=demo')}`,
    );
    expect(logfmt.json().summaries.map((x: { traceId: string }) => x.traceId)).toEqual([sum.traceId]);
    // the ID swapped to another mode, and errors in Jaeger's shape
    expect((await get(`/api/v3/traces/ff21000000${sum.traceId.slice(10)}`)).status).toBe(200);
    expect((await get(`/api/v3/traces/ff20000000${'1'.repeat(22)}`)).json()).toEqual({ error: { httpCode: 404, message: 'No traces found' } });
    expect((await get('/api/v3/traces?query.serviceName=tracing')).json().error.httpCode).toBe(400);
    expect((await get(`/api/v3/traces?query.startTimeMin=${min}&query.startTimeMax=${max}&query.durationMin=soon`)).status).toBe(400);
  });
});

describe('a search whose matched objects share a tree (full tree, ancestors)', () => {
  const min = '2026-11-22T04:00:00Z';
  const max = '2026-11-22T06:00:00Z';
  const summaries = async (service: string, attrs: Record<string, string>) =>
    (
      await get(
        `/api/v3/trace-summaries?query.serviceName=${encodeURIComponent(service)}&query.startTimeMin=${min}&query.startTimeMax=${max}&query.searchDepth=100&query.attributes=${encodeURIComponent(JSON.stringify(attrs))}`,
      )
    ).json().summaries as { traceId: string; rootOperationName: string }[];
  const matchedOf = (t: JTrace) => String(tag(rootOf(t), 'search.matched') ?? rootOf(t).operationName).split(', ');

  it('lists one result per tree, named so that the objects that matched show', async () => {
    const full = await summaries('tracing (full tree)', { namespace: 'demo' });
    // before: 12 results all named "deployments demo/demo", two named "nodes kwok-node-0"
    expect(full.filter((x) => x.rootOperationName.startsWith('deployments demo/demo'))).toEqual([
      {
        ...full.find((x) => x.rootOperationName.startsWith('deployments demo/demo')),
        rootOperationName: 'deployments demo/demo · matched itself, replicasets demo/demo-68c74967f8 +10 more',
      },
    ]);
    expect(full.map((x) => x.rootOperationName)).toContain('nodes kwok-node-0 · matched pods demo/secret-reader, secrets demo/demo-credentials');
    for (const list of [full, await summaries('tracing (ancestors)', { namespace: 'demo' })]) {
      const names = list.map((x) => x.rootOperationName);
      expect(new Set(names).size, names.join('\n')).toBe(names.length);
      expect(new Set(list.map((x) => x.traceId)).size).toBe(list.length);
    }
  });

  it('loses no matched object: each is in exactly one result, shown in its tree and listed on its root span', async () => {
    const q = `tags=${encodeURIComponent('{"namespace":"demo"}')}&${ALL}&limit=100`;
    const objects = (await search(`service=tracing&${q}`)).map((t) => rootOf(t).operationName).sort();
    expect(objects.length).toBe(28);
    for (const scope of ['tracing (full tree)', 'tracing (ancestors)']) {
      const results = await search(`service=${encodeURIComponent(scope)}&${q}`);
      expect(results.length).toBeLessThan(objects.length);
      expect(results.flatMap(matchedOf).sort(), scope).toEqual(objects);
      for (const t of results) {
        const shown = new Set(t.spans.map((s) => s.operationName));
        for (const m of matchedOf(t)) expect(shown.has(m), `${scope}: ${m} in ${rootOf(t).operationName}`).toBe(true);
        const count = tag(rootOf(t), 'search.matched.count');
        if (count !== undefined) expect(count).toBe(matchedOf(t).length);
      }
    }
    // the Deployment's tree answers for its ReplicaSets and pods (the root span keeps its name)
    const dep = (await search(`service=${encodeURIComponent('tracing (full tree)')}&${q}`)).find((t) => rootOf(t).operationName === 'deployments demo/demo')!;
    expect(matchedOf(dep).filter((m) => m.startsWith('pods demo/demo-'))).toHaveLength(9);
    // a search whose only match is its tree's root keeps the plain name, without the tags
    const [one] = await summaries('tracing (full tree)', { resource: 'deployments', name: 'demo' });
    expect(one!.rootOperationName).toBe('deployments demo/demo');
  });
});

// The Jaeger UI (2.x, packages/jaeger-ui/src/model/OtelSpanFacade.ts) titles each span log in a
// span's event list with its `event` field, or "log" when it has none: `fields.find(f => f.key ===
// 'event')?.value || 'log'`. Over v3, Jaeger's OTLP → v1 translator puts an event's `name` into that
// field, so an OTLP event's name is its title.
const jaegerUiEventTitle = (l: { fields: JKV[] }) => (field(l, 'event') as string) || 'log';

describe('span logs as the Jaeger UI titles them', () => {
  const min = '2026-11-22T04:00:00Z';
  const max = '2026-11-22T06:00:00Z';
  it('every span log has an `event` name — the audit write, or the Kubernetes Event reason — in v1 and v3 alike', async () => {
    const found = await search(
      `service=${encodeURIComponent('tracing (full tree)')}&tags=${encodeURIComponent('{"name":"demo","resource":"deployments"}')}&${ALL}`,
    );
    const logs = found.flatMap((t) => t.spans.flatMap((s) => s.logs));
    expect(logs.length).toBeGreaterThan(50);
    for (const l of logs) {
      const title = jaegerUiEventTitle(l);
      expect(typeof title, String(field(l, 'audit') ?? field(l, 'message'))).toBe('string');
      expect(title, String(field(l, 'audit') ?? field(l, 'message'))).not.toBe('log');
      // an audit write is named by who did what (the `audit` field, kept); an Event by its reason
      if (field(l, 'audit') !== undefined) expect(title).toBe(field(l, 'audit'));
      else expect(field(l, 'source')).toBe('event');
    }
    const titles = new Set(logs.map(jaegerUiEventTitle));
    expect(titles).toContain('kwok-admin patch status');
    expect(titles).toContain('system:serviceaccount:kube-system:deployment-controller update status');
    expect(titles).toContain('ScalingReplicaSet');

    // v3: the same trace as OTLP; each span event's name is the title of the same v1 log
    const id = found[0]!.traceID;
    const v1 = new Map(found[0]!.spans.map((s) => [s.spanID, s.logs.map(jaegerUiEventTitle)]));
    const v3 = (await get(`/api/v3/traces/${id}`)).json();
    const spans = v3.result.resourceSpans.flatMap((r: { scopeSpans: { spans: unknown[] }[] }) => r.scopeSpans.flatMap((x) => x.spans)) as {
      spanId: string;
      events?: { name: string }[];
    }[];
    for (const s of spans) expect((s.events ?? []).map((e) => e.name)).toEqual(v1.get(s.spanId));
    // and in a v3 search answer as well
    const attrs = encodeURIComponent(JSON.stringify({ resource: 'deployments', name: 'demo' }));
    const searched = (
      await get(`/api/v3/traces?query.serviceName=tracing&query.startTimeMin=${min}&query.startTimeMax=${max}&query.attributes=${attrs}`)
    ).json();
    const names = searched.result.resourceSpans.flatMap((r: { scopeSpans: { spans: { events?: { name: string }[] }[] }[] }) =>
      r.scopeSpans.flatMap((x) => x.spans.flatMap((s) => (s.events ?? []).map((e) => e.name))),
    );
    expect(names).toContain('kwok-admin patch scale');
    expect(names).not.toContain('log');
  });
});

describe('/api/dependencies: who writes which resources', () => {
  it("answers Jaeger's [{parent, child, callCount}] with actors → resources from the writes in the range", async () => {
    const endTs = Date.parse('2026-11-22T05:00:00Z');
    const r = (await get(`/api/dependencies?endTs=${endTs}&lookback=${3600_000}`)).json();
    expect(r.errors).toBeNull();
    const edge = (parent: string, child: string) => r.data.find((d: { parent: string; child: string }) => d.parent === parent && d.child === child);
    expect(edge('system:serviceaccount:kube-system:deployment-controller', 'replicasets.apps')?.callCount).toBeGreaterThan(0);
    expect(edge('system:serviceaccount:kube-system:replicaset-controller', 'pods')?.callCount).toBeGreaterThan(0);
    expect(edge('system:kube-scheduler', 'pods')?.callCount).toBeGreaterThan(0); // pods/binding
    expect(edge('kwok-admin', 'deployments.apps')?.callCount).toBeGreaterThan(0);
    for (const d of r.data) {
      expect(d).toEqual({ parent: expect.any(String), child: expect.any(String), callCount: expect.any(Number) });
      expect(d.callCount).toBeGreaterThan(0);
    }
    // outside the recording: no edges
    expect((await get(`/api/dependencies?endTs=${Date.parse('2020-01-01T00:00:00Z')}&lookback=3600000`)).json().data).toEqual([]);
    expect((await get('/api/dependencies?endTs=tomorrow')).status).toBe(400);
  });
});
