// The audit webhook as kube-apiserver sees it: real fastify server (inject), real pipeline, real store.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { instrument } from '../../src/sinks/index.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/sources/webhook.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { SinkFullError, type SpanSink } from '../../src/core/sink.ts';
import { SECRET_VALUE, deploymentEvents, eventList, secretEvent } from './webhook.fixtures.ts';

const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 100 };

describe('audit webhook', () => {
  let dir: string;
  let store: SqliteStore;
  let server: WebhookServer;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-webhook-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: instrument(store, 'store'), defaultCluster: 'dev', maxBodyBytes: 64 * 1024 });
  });
  afterEach(async () => {
    await server.app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, url = '/audit/kwok', headers: Record<string, string> = {}) =>
    server.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('traces an EventList and answers 200 once the spans are stored', async () => {
    const res = await post(eventList(deploymentEvents()));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 2, rejected: 0 });
    const found = await new SqliteBackend(store).findObjects({ ...ALL, cluster: 'kwok', resource: 'deployments', name: 'web' });
    expect(found).toHaveLength(1);
    expect(store.count()).toBeGreaterThanOrEqual(3); // object span + 2 events
  });

  it('uses the --cluster name for POST /audit', async () => {
    expect((await post(eventList(deploymentEvents()), '/audit')).statusCode).toBe(200);
    expect(await new SqliteBackend(store).clusters()).toEqual(['dev']);
  });

  it('answers 400 with a reason for malformed JSON and for a body that is not an EventList', async () => {
    const bad = await post('{"kind":"EventList","items":[');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/not valid JSON/);
    const notList = await post({ hello: 'world' });
    expect(notList.statusCode).toBe(400);
    expect(notList.json().error).toMatch(/EventList/);
    expect(store.count()).toBe(0);
  });

  it('answers 413 for a body over --max-body-bytes', async () => {
    const big = eventList(Array.from({ length: 200 }, () => deploymentEvents()[1]));
    const res = await post(big);
    expect(res.statusCode).toBe(413);
  });

  it('skips bad items, traces the good ones in the same batch', async () => {
    const [create, update] = deploymentEvents();
    const res = await post(eventList([create, 42, { kind: 'Event', verb: 'update' }, update]));
    expect(res.statusCode).toBe(200);
    expect(res.json().rejected).toBeGreaterThanOrEqual(1);
    const trace = (await new SqliteBackend(store).findObjects({ ...ALL, name: 'web' }))[0]!;
    expect(trace).toBeDefined();
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/kubetrail_audit_events_rejected_total\{reason="malformed"\} [1-9]/);
  });

  it('never stores, logs or exposes Secret data', async () => {
    const res = await post(eventList([secretEvent()]));
    expect(res.statusCode).toBe(200);
    const found = await new SqliteBackend(store).findObjects({ ...ALL, resource: 'secrets', name: 'db-creds' });
    expect(found).toHaveLength(1);
    await store.close();
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f)).toString('latin1');
      expect(bytes).not.toContain(SECRET_VALUE);
      expect(bytes).not.toContain('plain-token-value');
    }
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).not.toContain('db-creds');
    store = new SqliteStore(join(dir, 'kt.sqlite')); // for afterEach
  });

  it('answers 429 while the sink is full, so the API server retries the batch', async () => {
    let writes = 0;
    const fullSink: SpanSink = {
      write: async (_s: SpanRecord[]) => void writes++,
      pending: () => 10_000,
      full: () => true,
      flush: async () => undefined,
      close: async () => undefined,
    };
    const s = buildWebhookServer({ pipeline: new Pipeline(), sink: fullSink });
    const res = await s.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(deploymentEvents()) });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
    expect(writes).toBe(0);
    expect((await s.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await s.app.close();
  });

  it('answers 429 when the sink fills up during the write, and 503 when the sink fails', async () => {
    const filling: SpanSink = {
      write: async () => {
        throw new SinkFullError('store has 200000 spans pending');
      },
      pending: () => 0,
      full: () => false,
      flush: async () => undefined,
      close: async () => undefined,
    };
    const f = buildWebhookServer({ pipeline: new Pipeline(), sink: filling });
    const full = await f.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(deploymentEvents()) });
    expect(full.statusCode).toBe(429);
    await f.app.close();

    const broken: SpanSink = {
      write: async () => {
        throw new Error('disk I/O error');
      },
      pending: () => 0,
      full: () => false,
      flush: async () => undefined,
      close: async () => undefined,
    };
    const b = buildWebhookServer({ pipeline: new Pipeline(), sink: broken });
    const res = await b.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(deploymentEvents()) });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatch(/disk I\/O error/);
    await b.app.close();
  });

  it('a batch retried after a sink failure still yields the complete trace', async () => {
    let failNext = true;
    const flaky: SpanSink = {
      write: (spans) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('collector unavailable'));
        }
        return store.write(spans);
      },
      pending: () => store.pending(),
      full: () => store.full(),
      flush: () => store.flush(),
      close: async () => undefined,
    };
    const s = buildWebhookServer({ pipeline: new Pipeline(), sink: flaky });
    const batch = JSON.stringify(eventList(deploymentEvents('retry')));
    const first = await s.app.inject({ method: 'POST', url: '/audit/kwok', headers: { 'content-type': 'application/json' }, payload: batch });
    expect(first.statusCode).toBe(503);
    const again = await s.app.inject({ method: 'POST', url: '/audit/kwok', headers: { 'content-type': 'application/json' }, payload: batch });
    expect(again.statusCode).toBe(200);
    const found = await new SqliteBackend(store).findObjects({ ...ALL, name: 'retry' }); // needs the object span
    expect(found).toHaveLength(1);
    await s.app.close();
  });

  it('requires the bearer token when one is configured', async () => {
    const s = buildWebhookServer({ pipeline: new Pipeline(), sink: store, token: 's3cret-token' });
    const none = await s.app.inject({ method: 'POST', url: '/audit/kwok', payload: eventList(deploymentEvents()) });
    expect(none.statusCode).toBe(401);
    const wrong = await s.app.inject({ method: 'POST', url: '/audit/kwok', headers: { authorization: 'Bearer nope' }, payload: eventList(deploymentEvents()) });
    expect(wrong.statusCode).toBe(401);
    expect(store.count()).toBe(0);
    const ok = await s.app.inject({
      method: 'POST',
      url: '/audit/kwok',
      headers: { authorization: 'Bearer s3cret-token' },
      payload: eventList(deploymentEvents()),
    });
    expect(ok.statusCode).toBe(200);
    // health and metrics stay open for probes and Prometheus
    expect((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await s.app.close();
  });

  it('reports not ready and refuses batches while draining', async () => {
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    server.startDraining();
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await post(eventList(deploymentEvents()))).statusCode).toBe(503);
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('exposes the webhook metrics without object names', async () => {
    await post(eventList(deploymentEvents()));
    const body = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const name of [
      'kubetrail_audit_events_received_total',
      'kubetrail_audit_events_accepted_total',
      'kubetrail_spans_written_total{sink="store"}',
      'kubetrail_sink_queue_depth',
      'kubetrail_event_lag_seconds_bucket',
      'kubetrail_webhook_requests_total{code="200"}',
    ]) {
      expect(body).toContain(name);
    }
    expect(body).not.toMatch(/name="web"|\bweb\b/);
  });

  it('resolves event lag finely enough around the 2-second aim', async () => {
    await post(eventList(deploymentEvents()));
    const body = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const le of ['1', '1.5', '2', '2.5']) expect(body).toContain(`kubetrail_event_lag_seconds_bucket{le="${le}"}`);
  });

  it("tells kubetrail's own share of the lag: the time of each audit request, and of no other", async () => {
    const count = async () => {
      const body = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(/^kubetrail_webhook_request_seconds_count (\d+)/m.exec(body)?.[1] ?? NaN);
    };
    const before = await count();
    await post(eventList(deploymentEvents()));
    await post(eventList(deploymentEvents()));
    await server.app.inject({ method: 'GET', url: '/readyz' });
    expect(await count()).toBe(before + 2);
  });
});
