// The read path against a real Jaeger: raw spans exported over OTLP gRPC (the write path's sink)
// are read back through Jaeger's query API, assembled and served by the query proxy, both
// in-process (createQueryServer + JaegerBackend) and as `kubetrail query` in front of Jaeger.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { JaegerBackend } from '../../frontend-plugin/backend/jaeger.ts';
import { ref, SyntheticTraces } from '../helpers/synthetic-backend.ts';
import { readBack } from '../helpers/read-back.ts';
import { createQueryServer } from '../../frontend-plugin/server.ts';
import { windowStartSec, rawTraceId, keyHash } from '../../src/core/ids.ts';
import { Attr, objectKey } from '../../src/core/model.ts';
import { OtlpSink } from '../../src/sinks/otlp.ts';
import { startKubetrail, type RunningKubetrail } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { waitFor } from '../setup/wait.ts';

const stack = inject('stack');
const WINDOW_SEC = 1800;
const CLUSTER = `kt-read-${Date.now().toString(36)}`;
const DC = 'system:serviceaccount:kube-system:deployment-controller';

// Two consecutive windows ending now: the rollout spans both.
const WS1 = windowStartSec(Date.now() * 1000, WINDOW_SEC);
const WS0 = WS1 - WINDOW_SEC;
const at = (ws: number, sec: number) => (ws + sec) * 1e6;

const deploy = ref('deployments', 'default', 'web', 'apps', CLUSTER);
const rsA = ref('replicasets', 'default', 'web-aaa', 'apps', CLUSTER);
const rsB = ref('replicasets', 'default', 'web-bbb', 'apps', CLUSTER);
const podA = ref('pods', 'default', 'web-aaa-1', '', CLUSTER);
const podB = ref('pods', 'default', 'web-bbb-1', '', CLUSTER);
const node = ref('nodes', '', 'node-1', '', CLUSTER);

function history(): SyntheticTraces {
  const t = new SyntheticTraces(WINDOW_SEC);
  t.audit(deploy, at(WS0, 10), 'admin', 'create', { [Attr.snapshot]: '{"kind":"Deployment"}' });
  t.audit(rsA, at(WS0, 11), DC, 'create');
  t.link(deploy, rsA, 'children', at(WS0, 11));
  t.audit(deploy, at(WS0, 12), DC, 'update', { [Attr.subresource]: 'status', [Attr.diff]: 'status.replicas 0 -> 1' });
  t.audit(podA, at(WS0, 13), 'system:serviceaccount:kube-system:replicaset-controller', 'create');
  t.link(rsA, podA, 'children', at(WS0, 13));
  t.objectSpan(node, WS0);
  t.link(node, podA, 'node', at(WS0, 14));
  t.audit(deploy, at(WS1, 5), 'admin', 'patch', { [Attr.diff]: 'spec.template.spec.containers[app].image nginx:1 -> nginx:2' });
  t.audit(rsB, at(WS1, 6), DC, 'create');
  t.link(deploy, rsB, 'children', at(WS1, 6));
  t.link(deploy, rsA, 'children', at(WS1, 6));
  t.audit(podB, at(WS1, 7), 'system:serviceaccount:kube-system:replicaset-controller', 'create');
  t.link(rsB, podB, 'children', at(WS1, 7));
  t.objectSpan(node, WS1);
  t.link(node, podB, 'node', at(WS1, 8));
  t.event(
    rsA,
    at(WS1, 9),
    'audit-conflict',
    'update',
    { [Attr.source]: 'audit', [Attr.user]: DC, [Attr.verb]: 'update', [Attr.code]: 409 },
    'Conflict: the object has been modified',
  );
  return t;
}

interface JTrace {
  traceID: string;
  spans: {
    spanID: string;
    operationName: string;
    references: { spanID: string }[];
    tags: { key: string; value: unknown }[];
    logs: { fields: { key: string; value: unknown }[] }[];
  }[];
}

describe('query proxy over Jaeger', () => {
  const backend = new JaegerBackend({ url: stack.jaegerQueryUrl });
  const spans = history().spans;
  let app: FastifyInstance;

  beforeAll(async () => {
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    await sink.write(spans);
    await sink.close();
    // Jaeger stores asynchronously, trace by trace: wait until every span written is readable
    await readBack(backend, spans, 'spans in Jaeger');
    app = await createQueryServer({ backend, windowSec: WINDOW_SEC, upstream: stack.jaegerQueryUrl, uiDir: '/nonexistent' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('reads raw traces back from Jaeger as the write path stored them', async () => {
    const raw = await backend.getRawTrace(rawTraceId(objectKey(rsA), WS1));
    const byKind = (k: string) => raw.filter((s) => s.kind === k);
    expect(byKind('object')).toHaveLength(1);
    expect(byKind('object')[0]!.object).toEqual(rsA);
    const conflict = byKind('event')[0]!;
    expect(conflict.error).toMatch(/^Conflict/);
    expect(conflict.attributes[Attr.code]).toBe(409);
    expect(conflict.parentSpanId).toBe(byKind('object')[0]!.spanId);
    expect(byKind('link')[0]!.attributes[Attr.linkKey]).toBe(objectKey(deploy));
    const expected = spans.filter((s) => s.traceId === rawTraceId(objectKey(rsA), WS1));
    expect(new Set(raw.map((s) => s.spanId))).toEqual(new Set(expected.map((s) => s.spanId)));
  });

  it('reads many raw traces in one batch, in the order asked, with [] for unknown ones', async () => {
    const ids = [rawTraceId(objectKey(rsA), WS1), rawTraceId(objectKey(rsA), WS0), 'ffffffffffff000000000000deadbeef', rawTraceId(objectKey(deploy), WS0)];
    const batch = await backend.getRawTraces(ids);
    expect(batch).toHaveLength(4);
    expect(batch[2]).toEqual([]);
    for (const [i, id] of ids.entries()) {
      const one = await backend.getRawTrace(id);
      expect(new Set(batch[i]!.map((s) => s.spanId))).toEqual(new Set(one.map((s) => s.spanId)));
    }
    expect(batch[3]!.some((s) => s.kind === 'object')).toBe(true);
  });

  it('finds objects and clusters through Jaeger search', async () => {
    const found = await backend.findObjects({ cluster: CLUSTER, resource: 'deployments', startUs: WS0 * 1e6, endUs: (WS1 + WINDOW_SEC) * 1e6, limit: 10 });
    expect(found).toEqual([{ object: deploy, windows: [WS0, WS1] }]);
    // a range starting mid-window still finds that window (its object span started before the range)
    const mid = await backend.findObjects({ cluster: CLUSTER, name: 'web', startUs: (WS0 + 900) * 1e6, endUs: (WS0 + 1000) * 1e6, limit: 10 });
    expect(mid).toEqual([{ object: deploy, windows: [WS0] }]);
    const pods = await backend.findObjects({
      cluster: CLUSTER,
      resource: 'pods',
      namespace: 'default',
      startUs: WS0 * 1e6,
      endUs: (WS1 + WINDOW_SEC) * 1e6,
      limit: 10,
    });
    expect(pods.map((p) => p.object.name)).toEqual(['web-aaa-1', 'web-bbb-1']);
    expect(await backend.clusters()).toContain(CLUSTER);
  });

  it('lists every cluster that has data, also data older than 7 days (issue 10)', async () => {
    const old = new SyntheticTraces(WINDOW_SEC);
    const oldCluster = `${CLUSTER}-old`;
    const oldUs = Date.now() * 1000 - 10 * 86_400e6;
    old.audit(ref('configmaps', 'default', 'settings', '', oldCluster), oldUs, 'admin', 'create');
    old.audit(ref('configmaps', 'default', 'settings', '', `${CLUSTER}-older`), oldUs - 3 * 86_400e6, 'admin', 'create');
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    await sink.write(old.spans);
    await sink.close();
    await readBack(backend, old.spans, 'old spans in Jaeger');
    const fresh = new JaegerBackend({ url: stack.jaegerQueryUrl });
    expect(await fresh.clusters()).toEqual(expect.arrayContaining([CLUSTER, oldCluster, `${CLUSTER}-older`]));
    // splitting the search (time, then resource) finds them all with tiny pages too
    const paged = new JaegerBackend({ url: stack.jaegerQueryUrl, clusterPageSize: 2 });
    expect(await paged.clusters()).toEqual(expect.arrayContaining([CLUSTER, oldCluster, `${CLUSTER}-older`]));
    const served = await createQueryServer({ backend: fresh, windowSec: WINDOW_SEC, uiDir: '/nonexistent', logger: false });
    const ops = (await served.inject({ method: 'GET', url: '/api/services/tracing/operations' })).json() as { data: string[] };
    expect(ops.data).toEqual(expect.arrayContaining([oldCluster, `${CLUSTER}-older`]));
    await served.close();
  });

  it('free tag search and the compare view over Jaeger (issue 10)', async () => {
    const range = `start=${WS0 * 1e6}&end=${(WS1 + WINDOW_SEC) * 1e6}`;
    const errors = (
      await app.inject({ method: 'GET', url: `/api/traces?service=tracing&operation=${CLUSTER}&tags=${encodeURIComponent('{"error":"true"}')}&${range}` })
    ).json() as { data: JTrace[] };
    // the 409 on web-aaa was never retried by the deployment controller: a real error
    expect(errors.data.map((t) => t.spans[0]!.operationName)).toEqual(['replicasets default/web-aaa']);
    const byUser = (
      await app.inject({ method: 'GET', url: `/api/traces?service=tracing&operation=${CLUSTER}&tags=${encodeURIComponent('user=admin verb=patch')}&${range}` })
    ).json() as { data: JTrace[] };
    expect(byUser.data.map((t) => t.spans[0]!.operationName)).toEqual(['deployments default/web']);
    const onNode = (
      await app.inject({
        method: 'GET',
        url: `/api/traces?service=tracing&operation=${CLUSTER}&tags=${encodeURIComponent('node=node-1 resource=pods')}&${range}`,
      })
    ).json() as { data: JTrace[] };
    expect(onNode.data.map((t) => t.spans[0]!.operationName).sort()).toEqual(['pods default/web-aaa-1', 'pods default/web-bbb-1']);
    const ids = [...errors.data, ...byUser.data].map((t) => t.traceID);
    const compare = (await app.inject({ method: 'GET', url: `/api/traces?${ids.map((id) => `traceID=${id}`).join('&')}` })).json() as { data: JTrace[] };
    expect(compare.data.map((t) => t.traceID).sort()).toEqual([...ids].sort());
  });

  it('serves a search as stitched traces: the full tree across both windows', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/api/traces?service=${encodeURIComponent('tracing (full tree)')}&operation=${CLUSTER}&tags=${encodeURIComponent('{"name":"web-bbb-1"}')}&lookback=2h&limit=5`,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { data: JTrace[]; errors: unknown };
    expect(body.errors).toBeNull();
    expect(body.data).toHaveLength(1);
    const t = body.data[0]!;
    expect(t.traceID.slice(0, 10)).toBe('ff21000000');
    expect(t.traceID.slice(10, 23)).toBe(keyHash(objectKey(podB)));
    const ops = t.spans.map((s) => s.operationName).sort();
    expect(ops).toEqual([
      'deployments default/web',
      'nodes node-1',
      'pods default/web-aaa-1',
      'pods default/web-bbb-1',
      'replicasets default/web-aaa',
      'replicasets default/web-bbb',
    ]);
    // every parent drawn as a parent (issue 19): the pods' node is a root of its own, referenced by the pods
    const roots = t.spans.filter((s) => s.references.length === 0);
    expect(roots.map((s) => s.operationName)).toEqual(['deployments default/web', 'nodes node-1']);
    const searched = t.spans.find((s) => s.operationName === 'pods default/web-bbb-1')!;
    expect(searched.references.map((r) => r.spanID)).toEqual([
      t.spans.find((s) => s.operationName === 'replicasets default/web-bbb')!.spanID,
      roots[1]!.spanID,
    ]);
    const d = roots[0]!;
    expect(d.logs.map((l) => l.fields.find((f) => f.key === 'audit')?.value)).toEqual(['admin create', `${DC} update status`, 'admin patch']);
    const rs = t.spans.find((s) => s.operationName === 'replicasets default/web-aaa')!;
    expect(rs.logs.some((l) => l.fields.some((f) => f.key === 'error' && String(f.value).startsWith('Conflict')))).toBe(true);

    // the same ID in another mode, answered from the ID alone
    const tree = await app.inject({ method: 'GET', url: `/api/traces/ff00000000${t.traceID.slice(10)}` });
    expect(tree.statusCode).toBe(200);
    const treeSpans = (tree.json() as { data: JTrace[] }).data[0]!.spans;
    expect(treeSpans.filter((s) => s.references.length === 0).map((s) => s.operationName)).toEqual(['pods default/web-bbb-1']);
    expect(treeSpans.map((s) => s.operationName)).toContain('create');
  });

  it('redirects to the object around a time', async () => {
    const res = await app.inject({ method: 'GET', url: `/redirect?cluster=${CLUSTER}&resource=deployments&namespace=default&name=web&ts=${WS0 + 60}` });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toMatch(new RegExp(`^/trace/ff20000000${keyHash(objectKey(deploy))}`));
  });

  it('passes the rest of Jaeger through', async () => {
    const deps = await app.inject({ method: 'GET', url: `/api/dependencies?endTs=${Date.now()}&lookback=3600000` });
    expect(deps.statusCode).toBe(200);
    expect((deps.json() as { errors: unknown }).errors ?? null).toBeNull();
    // a trace ID that is not kubetrail's is Jaeger's to answer
    const foreign = await app.inject({ method: 'GET', url: '/api/traces/00000000000000000000000000abcdef' });
    expect(foreign.statusCode).toBe(404);
  });

  it("the built-in UI's trace view of another application's trace, read from Jaeger", async () => {
    // a trace that is not kubetrail's: an HTTP request and its query, in the real Jaeger
    const traceId = `0a1b2c3d4e5f6abc${Date.now().toString(16).padStart(16, '0')}`; // not shaped like kubetrail's raw IDs
    const now = Date.now() * 1e6;
    const span = (spanId: string, name: string, startNs: number, parentSpanId?: string) => ({
      traceId,
      spanId,
      ...(parentSpanId ? { parentSpanId } : {}),
      name,
      kind: 2,
      startTimeUnixNano: String(startNs),
      endTimeUnixNano: String(startNs + 5e6),
    });
    const resourceSpans = [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeSpans: [{ spans: [span('00000000000000a1', 'GET /cart', now), span('00000000000000a2', 'SELECT carts', now + 1e6, '00000000000000a1')] }],
      },
    ];
    const posted = await fetch(`${stack.otlpHttpEndpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans }),
    });
    expect(posted.status, await posted.text()).toBe(200);
    await waitFor(async () => ((await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`)).ok ? true : undefined), 'the foreign trace in Jaeger', 60_000);
    const res = await app.inject({ method: 'GET', url: `/api/ui/trace/${traceId}` });
    expect(res.statusCode).toBe(200);
    const tree = res.json().data as { traceID: string; flat: { label: string; depth: number; parent: number | null }[] };
    expect(tree.traceID).toBe(traceId);
    expect(tree.flat.map((n) => [n.label, n.depth, n.parent])).toEqual([
      ['GET /cart', 0, null],
      ['SELECT carts', 1, 0],
    ]);
    expect((await app.inject({ method: 'GET', url: '/api/ui/trace/00000000000000000000000000abcdef' })).statusCode).toBe(404);
  });
});

describe('kubetrail query (CLI) in front of Jaeger', () => {
  let query: RunningKubetrail | undefined;
  let url = '';
  beforeAll(async () => {
    const [port] = await freePorts(1);
    url = `http://127.0.0.1:${port}`;
    query = await startKubetrail(['query', '--jaeger-query', stack.jaegerQueryUrl, '--port', String(port), '--host', '127.0.0.1'], {
      ready: /kubetrail query listening/,
    });
  });
  afterAll(async () => {
    await query?.stop();
  });

  it('answers the Jaeger API with display modes and raw traces from Jaeger', async () => {
    const services = (await (await fetch(`${url}/api/services`)).json()) as { data: string[] };
    expect(services.data).toContain('tracing (owned objects)');
    const ops = (await (await fetch(`${url}/api/services/tracing/operations`)).json()) as { data: string[] };
    expect(ops.data).toContain(CLUSTER);
    const raw = await fetch(`${url}/api/traces/${rawTraceId(objectKey(deploy), WS0)}`);
    expect(raw.status).toBe(200);
    const search = await fetch(`${url}/api/traces?service=tree&operation=${CLUSTER}&tags=${encodeURIComponent('resource=replicasets')}&lookback=2h`);
    const body = (await search.json()) as { data: JTrace[] };
    expect(body.data.map((t) => t.spans[0]!.operationName).sort()).toEqual(['replicasets default/web-aaa', 'replicasets default/web-bbb']);
    const ui = await fetch(`${url}/`);
    expect(ui.status).toBe(200);
  });
});
