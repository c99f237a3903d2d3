// The trace view's rows are built by the query server (GET /api/ui/trace/:id, frontend-plugin/ui-tree/):
// what the browser shows must be what its own parse of Jaeger's JSON showed before, row for row and
// event for event — for the captured answers of every mode, a hand-made trace with failures, and
// every mode and scope of the read-path history served by the real query server.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJaegerTrace, type JaegerTrace } from '../../frontend-plugin/modes/jaeger-json.ts';
import { createQueryServer, uiConfig } from '../../frontend-plugin/server.ts';
import { uiTree } from '../../frontend-plugin/ui-tree/wire.ts';
import { backendWithHistory, WINDOW_SEC, WS0, WS1 } from './read-path-fixture.ts';

const fixture = (name: string): { data: JaegerTrace[] } => JSON.parse(readFileSync(new URL(`../fixtures/ui/${name}.json`, import.meta.url), 'utf8'));
const plain = (x: unknown) => JSON.parse(JSON.stringify(x));

/**
 * What the browser built from Jaeger's JSON (ui/model.js buildTree, before the server built the
 * tree), as JSON: rows linked by index, without the raw event `fields` no view read. Recorded from
 * the UI's parse of the fixtures below and of each view /api/traces/:id answered.
 */
const clientTrees: Record<string, unknown> = JSON.parse(readFileSync(new URL('../fixtures/ui/tree-expected.json', import.meta.url), 'utf8'));

describe('the trace view tree built on the server', () => {
  for (const name of ['captured-tracing', 'captured-tree', 'captured-timeline', 'captured-grouped', 'trace']) {
    it(`equals the UI's own parse of ${name}.json`, () => {
      const v1 = fixture(name).data[0]!;
      expect(plain(uiTree(fromJaegerTrace(v1)))).toEqual(clientTrees[name]);
    });
  }

  it("an upstream trace's FOLLOWS_FROM reference places no row under that span, as the UI's parse did", () => {
    const span = (spanID: string, operationName: string, startTime: number, references: { refType: string; spanID: string }[] = []) => ({
      spanID,
      operationName,
      startTime,
      duration: 1000,
      references: references.map((r) => ({ ...r, traceID: 't' })),
      tags: [],
      logs: [],
      processID: 'p1',
    });
    const v1 = {
      traceID: 't',
      processes: { p1: { serviceName: 'shop', tags: [] } },
      spans: [
        span('a', 'GET /cart', 1),
        span('b', 'publish cart', 2),
        span('c', 'SELECT carts', 3, [
          { refType: 'CHILD_OF', spanID: 'a' },
          { refType: 'FOLLOWS_FROM', spanID: 'b' },
        ]),
      ],
      warnings: null,
    } as unknown as JaegerTrace;
    const tree = uiTree(fromJaegerTrace(v1));
    expect(tree.flat.map((n) => `${'  '.repeat(n.depth)}${n.label}`)).toEqual(['GET /cart', '  SELECT carts', 'publish cart']);
  });

  describe('GET /api/ui/trace/:id', () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await createQueryServer({ backend: backendWithHistory(), windowSec: WINDOW_SEC, uiDir: mkdtempSync(join(tmpdir(), 'kt-ui-')), logger: false });
    });
    afterAll(() => app.close());
    const get = (url: string) => app.inject({ method: 'GET', url });

    it("answers every mode and scope of an object as the UI's parse of /api/traces/:id did", async () => {
      const range = `start=${WS0 * 1e6}&end=${(WS1 + WINDOW_SEC) * 1e6}`;
      const found = (await get(`/api/traces?service=tracing&tags=${encodeURIComponent('name=demo-aaa-1')}&${range}`)).json().data;
      const id: string = found[0].traceID;
      for (const mode of uiConfig().modes)
        for (const scope of uiConfig().scopes) {
          const shown = `ff${mode.digit}${scope.digit}000000${id.slice(10)}`;
          const res = await get(`/api/ui/trace/${shown}`);
          expect(res.statusCode).toBe(200);
          expect(res.json().data).toEqual(clientTrees[shown]);
        }
    });

    it('/api/ui/search answers the trees of what /api/traces finds, with the same parameters', async () => {
      const q = `service=${encodeURIComponent('tree (owned objects)')}&tags=${encodeURIComponent('namespace=default resource=replicasets')}&start=${WS0 * 1e6}&end=${(WS1 + WINDOW_SEC) * 1e6}`;
      const ids = (await get(`/api/traces?${q}`)).json().data.map((t: { traceID: string }) => t.traceID);
      expect(ids.length).toBe(2);
      const res = await get(`/api/ui/search?${q}`);
      expect(res.statusCode).toBe(200);
      const trees = await Promise.all(ids.map(async (id: string) => (await get(`/api/ui/trace/${id}`)).json().data));
      expect(res.json().data).toEqual(trees);
      expect((await get('/api/ui/search?service=nope')).statusCode).toBe(400);
    });

    it('is 404 with a message for a trace it does not hold', async () => {
      const res = await get(`/api/ui/trace/ff20000000${'1'.repeat(22)}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().errors[0].msg).toMatch(/not found/);
      const foreign = await get(`/api/ui/trace/${'ab'.repeat(8)}`);
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().errors[0].msg).toMatch(/not a kubetrail trace ID/);
    });
  });
});
