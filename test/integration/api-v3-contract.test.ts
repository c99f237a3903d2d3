// Contract test of the query API v3 (issue 10): the same spans are exported to the stack's real
// Jaeger v2 (OTLP gRPC) and written to kubetrail's embedded store; both are asked the same
// requests, and the answers are compared field by field — structure, field names, JSON types,
// meaning. Content differs by design (kubetrail answers stitched traces; a raw trace ID answers the
// raw trace as stored, so there even the content must agree).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import { OtlpSink } from '../../src/sinks/otlp.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';
import { waitFor } from '../setup/wait.ts';

const stack = inject('stack');
const WINDOW_SEC = 1800;
const CLUSTER = `kt-v3-${Date.now().toString(36)}`;
const DC = 'system:serviceaccount:kube-system:deployment-controller';
const WS1 = windowStartSec(Date.now() * 1000, WINDOW_SEC);
const WS0 = WS1 - WINDOW_SEC;
const at = (ws: number, sec: number) => (ws + sec) * 1e6;

const deploy = ref('deployments', 'default', 'web', 'apps', CLUSTER);
const rs = ref('replicasets', 'default', 'web-aaa', 'apps', CLUSTER);
const pod = ref('pods', 'default', 'web-aaa-1', '', CLUSTER);
const node = ref('nodes', '', 'node-1', '', CLUSTER);

function history(): SyntheticTraces {
  const t = new SyntheticTraces(WINDOW_SEC);
  t.audit(deploy, at(WS0, 10), 'admin', 'create', { [Attr.snapshot]: '{"kind":"Deployment"}' });
  t.audit(rs, at(WS0, 11), DC, 'create');
  t.link(deploy, rs, 'children', at(WS0, 11));
  t.audit(pod, at(WS0, 13), 'system:serviceaccount:kube-system:replicaset-controller', 'create');
  t.link(rs, pod, 'children', at(WS0, 13));
  t.objectSpan(node, WS0);
  t.link(node, pod, 'node', at(WS0, 14));
  t.audit(deploy, at(WS1, 5), 'admin', 'patch', { [Attr.diff]: 'spec.replicas 1 -> 2' });
  t.link(deploy, rs, 'children', at(WS1, 5));
  // a conflict nobody retried: a real error (status code 2 in OTLP)
  t.event(
    rs,
    at(WS1, 9),
    'conflict',
    'update',
    { [Attr.source]: 'audit', [Attr.user]: DC, [Attr.verb]: 'update', [Attr.code]: 409 },
    'Conflict: the object has been modified',
  );
  return t;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every field path of a JSON answer with the JSON types seen there (arrays merge their elements). */
function shapeOf(v: Json, path = '', out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const add = (p: string, t: string) => (out.get(p) ?? out.set(p, new Set()).get(p)!).add(t);
  if (Array.isArray(v)) {
    add(path, 'array');
    for (const x of v) shapeOf(x, `${path}[]`, out);
  } else if (v !== null && typeof v === 'object') {
    add(path, 'object');
    for (const [k, x] of Object.entries(v)) shapeOf(x, path ? `${path}.${k}` : k, out);
  } else {
    add(path, v === null ? 'null' : typeof v);
  }
  return out;
}

/** Jaeger's fields must all be in kubetrail's answer, with the same types. */
function expectSameShape(jaeger: Json, ours: Json, what: string): void {
  const j = shapeOf(jaeger);
  const k = shapeOf(ours);
  const missing: string[] = [];
  for (const [path, types] of j) {
    const kt = k.get(path);
    if (!kt) missing.push(`${path} (${[...types].join('|')})`);
    else expect([...kt].sort(), `${what}: type of ${path}`).toEqual([...types].sort());
  }
  expect(missing, `${what}: Jaeger's fields missing in kubetrail's answer`).toEqual([]);
}

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  flags: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string; attributes: { key: string; value: Record<string, unknown> }[] }[];
  status: { code?: number; message?: string };
}
interface TracesAnswer {
  result: {
    resourceSpans: { resource: { attributes: { key: string; value: Record<string, unknown> }[] }; scopeSpans: { scope: { name: string }; spans: Span[] }[] }[];
  };
}
const spansOf = (a: TracesAnswer) => a.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));

/** What the fields mean, checked the same way on both answers. */
function expectOtlpMeaning(a: TracesAnswer, what: string): void {
  const spans = spansOf(a);
  expect(spans.length, what).toBeGreaterThan(0);
  for (const r of a.result.resourceSpans) {
    expect(r.resource.attributes.find((x) => x.key === 'service.name')?.value.stringValue, `${what}: service.name`).toEqual(expect.any(String));
  }
  const byTrace = new Map<string, Set<string>>();
  for (const s of spans) (byTrace.get(s.traceId) ?? byTrace.set(s.traceId, new Set()).get(s.traceId)!).add(s.spanId);
  for (const s of spans) {
    expect(s.traceId, what).toMatch(/^[0-9a-f]{32}$/);
    expect(s.spanId, what).toMatch(/^[0-9a-f]{16}$/);
    expect(s.startTimeUnixNano, what).toMatch(/^\d{19}$/);
    expect(BigInt(s.endTimeUnixNano) > BigInt(s.startTimeUnixNano), `${what}: ${s.name} has a duration`).toBe(true);
    if (s.parentSpanId !== undefined) expect(byTrace.get(s.traceId)!.has(s.parentSpanId), `${what}: parent of ${s.name} in the trace`).toBe(true);
    expect(s.kind, what).toBe(1); // SPAN_KIND_INTERNAL
    const err = s.attributes?.find((x) => x.key === 'error')?.value.boolValue === true;
    expect(s.status.code === 2, `${what}: status follows error=true on ${s.name}`).toBe(err);
    if (err) expect(s.status.message, what).toMatch(/Conflict/);
  }
}

describe('query API v3: kubetrail answers as the real Jaeger v2 does', () => {
  const spans = history().spans;
  let dir: string;
  let store: SqliteStore;
  let app: FastifyInstance;
  let kt = '';
  const jg = stack.jaegerQueryUrl;
  const range = { min: new Date(WS0 * 1000 - 60_000).toISOString(), max: new Date(Date.now() + 60_000).toISOString() };

  beforeAll(async () => {
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    await sink.write(spans);
    await sink.close();
    dir = mkdtempSync(join(tmpdir(), 'kt-v3-'));
    store = new SqliteStore(join(dir, 'store.sqlite'));
    await store.write(spans);
    await waitFor(
      async () => {
        const r = await fetch(`${jg}/api/v3/traces/${rawTraceId(objectKey(rs), WS1)}`);
        return r.ok ? true : undefined;
      },
      'the spans in Jaeger',
      60_000,
    );
    app = await createQueryServer({ backend: new SqliteBackend(store), windowSec: WINDOW_SEC, uiDir: '/nonexistent', logger: false });
    kt = (await app.listen({ port: 0, host: '127.0.0.1' })).replace(/\/$/, '');
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const both = async (path: (base: 'jaeger' | 'kubetrail') => string) => {
    const [a, b] = await Promise.all([fetch(`${jg}${path('jaeger')}`), fetch(`${kt}${path('kubetrail')}`)]);
    return { jaeger: { status: a.status, body: (await a.json()) as Json }, kubetrail: { status: b.status, body: (await b.json()) as Json } };
  };

  it('GET /api/v3/services', async () => {
    const r = await both(() => '/api/v3/services');
    expect(r.kubetrail.status).toBe(r.jaeger.status);
    expectSameShape(r.jaeger.body, r.kubetrail.body, 'services');
    expect((r.kubetrail.body as { services: string[] }).services).toContain('tracing (full tree)');
  });

  it('GET /api/v3/operations?service=', async () => {
    const r = await both((b) => `/api/v3/operations?service=${b === 'jaeger' ? 'kubetrail' : 'tracing'}`);
    expect(r.kubetrail.status).toBe(200);
    expectSameShape(r.jaeger.body, r.kubetrail.body, 'operations');
    const ops = (r.kubetrail.body as { operations: { name: string; spanKind: string }[] }).operations;
    expect(ops).toContainEqual({ name: CLUSTER, spanKind: 'internal' });
    // spanKind spelled as Jaeger spells it
    const jOps = (r.jaeger.body as { operations: { spanKind: string }[] }).operations;
    expect(new Set(jOps.map((o) => o.spanKind))).toEqual(new Set(['internal']));
    // an unknown service: an empty list, as Jaeger answers
    const none = await both(() => '/api/v3/operations?service=no-such-service');
    expect(none.kubetrail.status).toBe(none.jaeger.status);
    expect(none.jaeger.body).toEqual({ operations: [] });
    expect(none.kubetrail.body).toEqual({ operations: [] });
  });

  it('GET /api/v3/traces (search) with the same parameters', async () => {
    const q = (svc: string) =>
      `/api/v3/traces?query.service_name=${encodeURIComponent(svc)}&query.start_time_min=${range.min}&query.start_time_max=${range.max}&query.num_traces=20`;
    const r = await both((b) => q(b === 'jaeger' ? 'kubetrail' : 'tree'));
    expect(r.jaeger.status).toBe(200);
    expect(r.kubetrail.status).toBe(200);
    expectSameShape(r.jaeger.body, r.kubetrail.body, 'search');
    expectOtlpMeaning(r.jaeger.body as unknown as TracesAnswer, 'Jaeger search');
    expectOtlpMeaning(r.kubetrail.body as unknown as TracesAnswer, 'kubetrail search');
    // kubetrail's traces are stitched: one per object, the Deployment's holds its ReplicaSet and pod
    const ours = spansOf(r.kubetrail.body as unknown as TracesAnswer).filter((s) => s.traceId.startsWith('ff00000000'));
    expect(ours.map((s) => s.name)).toEqual(expect.arrayContaining(['deployments default/web', 'replicasets default/web-aaa', 'pods default/web-aaa-1']));

    // the canonical camelCase names of the current Jaeger UI work too (the stack's Jaeger 2.13 takes the snake_case ones)
    const camel = await fetch(
      `${kt}/api/v3/traces?query.serviceName=tree&query.startTimeMin=${range.min}&query.startTimeMax=${range.max}&query.searchDepth=20&query.attributes=${encodeURIComponent(JSON.stringify({ name: 'web' }))}`,
    );
    expect(camel.status).toBe(200);
    const names = spansOf((await camel.json()) as TracesAnswer)
      .filter((s) => !s.parentSpanId)
      .map((s) => s.name);
    expect(names).toEqual(['deployments default/web']);
  });

  it('GET /api/v3/traces/{id}: a raw trace ID answers the same spans as Jaeger holds', async () => {
    const id = rawTraceId(objectKey(rs), WS1);
    const r = await both(() => `/api/v3/traces/${id}`);
    expect(r.kubetrail.status).toBe(200);
    expectSameShape(r.jaeger.body, r.kubetrail.body, 'trace by raw ID');
    const j = spansOf(r.jaeger.body as unknown as TracesAnswer);
    const k = spansOf(r.kubetrail.body as unknown as TracesAnswer);
    const key = (s: Span) => `${s.spanId} ${s.parentSpanId ?? '-'} ${s.name} ${s.startTimeUnixNano} ${s.endTimeUnixNano} ${s.status.code ?? 0}`;
    expect(k.map(key).sort()).toEqual(j.map(key).sort());
    for (const s of j) {
      const mine = k.find((x) => x.spanId === s.spanId)!;
      const attrs = (x: Span) => Object.fromEntries((x.attributes ?? []).filter((a) => !a.key.startsWith('otel.')).map((a) => [a.key, a.value]));
      expect(attrs(mine), `attributes of ${s.name}`).toMatchObject(attrs(s));
    }
  });

  it('GET /api/v3/traces/{id}: a display ID answers the stitched trace in the same shape', async () => {
    const search = await fetch(
      `${kt}/api/v3/trace-summaries?query.serviceName=${encodeURIComponent('tree (full tree)')}&query.startTimeMin=${range.min}&query.startTimeMax=${range.max}&query.attributes=${encodeURIComponent('{"name":"web-aaa-1"}')}`,
    );
    const { summaries } = (await search.json()) as { summaries: { traceId: string }[] };
    expect(summaries).toHaveLength(1);
    const raw = rawTraceId(objectKey(rs), WS1);
    const [jaeger, ours] = await Promise.all([fetch(`${jg}/api/v3/traces/${raw}`), fetch(`${kt}/api/v3/traces/${summaries[0]!.traceId}`)]);
    expect(ours.status).toBe(200);
    const body = (await ours.json()) as Json;
    expectSameShape((await jaeger.json()) as Json, body, 'trace by display ID');
    expectOtlpMeaning(body as unknown as TracesAnswer, 'kubetrail trace');
    const spans = spansOf(body as unknown as TracesAnswer);
    const roots = spans.filter((s) => !s.parentSpanId);
    // the pod's node is a parent too: a root of its own, and a link of the pod (issue 19)
    expect(roots.map((s) => s.name)).toEqual(['deployments default/web', 'nodes node-1']);
    const podSpan = spans.find((s) => s.name === 'pods default/web-aaa-1')!;
    expect(podSpan.parentSpanId).toBe(spans.find((s) => s.name === 'replicasets default/web-aaa')!.spanId);
    expect(podSpan.links).toEqual([
      { traceId: podSpan.traceId, spanId: roots[1]!.spanId, attributes: [{ key: 'opentracing.ref_type', value: { stringValue: 'child_of' } }] },
    ]);
  });

  it("span events: Jaeger's own OTLP → v1 translation titles each log as kubetrail's v1 answer does", async () => {
    // The Jaeger UI titles a span log with its `event` field, else "log" (jaeger-ui OtelSpanFacade.ts).
    type V1 = { data: { spans: { spanID: string; logs: { timestamp: number; fields: { key: string; value: unknown }[] }[] }[] }[] };
    const titles = (b: V1) =>
      new Map(b.data[0]!.spans.map((x) => [x.spanID, x.logs.map((l) => String(l.fields.find((f) => f.key === 'event')?.value || 'log')).sort()]));
    const { summaries } = (await (
      await fetch(
        `${kt}/api/v3/trace-summaries?query.serviceName=tracing&query.startTimeMin=${range.min}&query.startTimeMax=${range.max}&query.attributes=${encodeURIComponent('{"name":"web","resource":"deployments"}')}`,
      )
    ).json()) as { summaries: { traceId: string }[] };
    const id = summaries[0]!.traceId;
    // kubetrail's OTLP answer, stored into the real Jaeger as it is, and read back through Jaeger's v1 API
    const otlp = (await (await fetch(`${kt}/api/v3/traces/${id}`)).json()) as TracesAnswer;
    const posted = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: otlp.result.resourceSpans }),
    });
    expect(posted.status, await posted.text()).toBe(200);
    const viaJaeger = await waitFor(
      async () => {
        const r = await fetch(`${jg}/api/traces/${id}`);
        return r.ok ? ((await r.json()) as V1) : undefined;
      },
      'the re-exported trace in Jaeger',
      60_000,
    );
    const ours = titles((await (await fetch(`${kt}/api/traces/${id}`)).json()) as V1);
    const theirs = titles(viaJaeger);
    expect([...theirs.values()].flat()).toContain('admin patch');
    expect([...ours.values()].flat()).not.toContain('log');
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(theirs));
  });

  it('errors: the same status and the same error shape', async () => {
    const cases = [
      '/api/v3/traces?query.service_name=tracing', // no time range
      `/api/v3/traces?query.service_name=tracing&query.start_time_min=yesterday&query.start_time_max=${range.max}`,
      `/api/v3/traces/${'0'.repeat(15)}1${'0'.repeat(16)}`, // well-formed, unknown
      '/api/v3/traces/zz', // malformed
      `/api/v3/traces?query.service_name=tracing&query.start_time_min=2001-01-01T00:00:00Z&query.start_time_max=2001-01-01T01:00:00Z&query.num_traces=5`, // nothing there
      `/api/v3/traces?query.service_name=no-such-service&query.start_time_min=${range.min}&query.start_time_max=${range.max}&query.num_traces=5`,
    ];
    for (const path of cases) {
      const r = await both((b) => (b === 'jaeger' ? path.replace('service_name=tracing', 'service_name=kubetrail') : path));
      expect(r.kubetrail.status, path).toBe(r.jaeger.status);
      expectSameShape(r.jaeger.body, r.kubetrail.body, path);
      expect(Object.keys(r.kubetrail.body as object)).toEqual(['error']);
      expect((r.kubetrail.body as { error: { httpCode: number } }).error.httpCode).toBe(r.jaeger.status);
    }
  });

  it('GET /api/v3/trace-summaries (the current Jaeger UI search) in the shape its client validates', async () => {
    const r = await fetch(
      `${kt}/api/v3/trace-summaries?query.serviceName=tracing&query.startTimeMin=${range.min}&query.startTimeMax=${range.max}&query.searchDepth=20`,
    );
    expect(r.status).toBe(200);
    const { summaries } = (await r.json()) as { summaries: Record<string, unknown>[] };
    const dep = summaries.find((s) => s.rootOperationName === 'deployments default/web')!;
    expect(dep).toMatchObject({
      traceId: expect.stringMatching(/^ff20000000[0-9a-f]{22}$/),
      rootServiceName: CLUSTER,
      minStartTimeUnixNano: expect.stringMatching(/^\d+$/),
      maxEndTimeUnixNano: expect.stringMatching(/^\d+$/),
      spanCount: expect.any(Number),
    });
    expect(BigInt(dep.maxEndTimeUnixNano as string) > BigInt(dep.minStartTimeUnixNano as string)).toBe(true);
    expect(dep.services).toEqual([{ name: CLUSTER, spanCount: dep.spanCount, errorSpanCount: 1 }]); // the unretried 409 on the ReplicaSet
  });

  it('v1 gaps, side by side: traceID parameters (compare view) and /api/dependencies', async () => {
    const id = rawTraceId(objectKey(rs), WS1);
    const unknown = `${'0'.repeat(29)}abc`;
    const r = await both(() => `/api/traces?traceID=${id}&traceID=${unknown}`);
    expect(r.kubetrail.status).toBe(r.jaeger.status);
    expectSameShape(r.jaeger.body, r.kubetrail.body, 'traceID search');
    const ids = (b: Json) => (b as { data: { spans: { spanID: string }[] }[] }).data.flatMap((t) => t.spans.map((x) => x.spanID)).sort();
    expect(ids(r.kubetrail.body)).toEqual(ids(r.jaeger.body));
    expect((r.kubetrail.body as { errors: { msg: string }[] }).errors.map((e) => e.msg)).toEqual(
      (r.jaeger.body as { errors: { msg: string }[] }).errors.map((e) => e.msg),
    );

    const deps = await both(() => `/api/dependencies?endTs=${Date.now()}&lookback=${2 * WINDOW_SEC * 1000 + 120_000}`);
    expect(deps.kubetrail.status).toBe(deps.jaeger.status);
    expectSameShape(deps.jaeger.body, deps.kubetrail.body, 'dependencies');
    const links = (deps.kubetrail.body as { data: { parent: string; child: string; callCount: number }[] }).data;
    expect(links).toContainEqual({ parent: 'admin', child: 'deployments.apps', callCount: 2 }); // create + patch
    expect(links).toContainEqual({ parent: DC, child: 'replicasets.apps', callCount: 2 }); // create + the 409
  });
});
