// The compare-runs view's server side, registered by the query server when it is given a second
// store (`kubetrail compare A B --ui`): GET /api/compare-runs (the comparison, each place resolved
// to the trace ID of its run), GET /api/b/traces/:id and /api/b/ui/trace/:id (run B's traces and
// their trace-view trees; A's are the usual /api/traces/:id and /api/ui/trace/:id); the page /compare-runs is the built-in UI's (compare-runs.js).
import type { FastifyPluginAsync } from 'fastify';
import { jaegerError } from '../http/errors.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { toJaegerTrace } from '../modes/jaeger-json.ts';
import { TraceQuery } from '../query.ts';
import { uiTree } from '../ui-tree/wire.ts';
import type { Comparison, Place } from './align.ts';

export interface CompareRoutesOptions {
  /** A's query (the server's own store). */
  query: TraceQuery;
  b: TraceBackend;
  windowSec: number;
  comparison: Comparison;
}

/** The trace ID a place opens in its run (undefined when the object is not found there). */
async function traceIdOf(q: TraceQuery, p: Place | undefined): Promise<string | undefined> {
  if (!p?.object) return undefined;
  const ts = new URL(p.redirect, 'http://x').searchParams.get('ts');
  const us = ts ? Date.parse(ts) * 1000 : Date.now() * 1000;
  const { cluster, group, resource, namespace, name } = p.object;
  const found = await q.locate({ cluster, group, resource, namespace, name }, us);
  return found.kind === 'found' ? found.id : undefined;
}

export const compareRoutes: FastifyPluginAsync<CompareRoutesOptions> = async (app, opts) => {
  const qb = new TraceQuery({ backend: opts.b, windowSec: opts.windowSec });
  let resolved: Promise<Comparison> | undefined;
  const resolve = async (): Promise<Comparison> => {
    const c = structuredClone(opts.comparison);
    for (const d of c.differences) {
      const [a, b] = await Promise.all([traceIdOf(opts.query, d.a), traceIdOf(qb, d.b)]);
      Object.assign(d, { traceIds: { ...(a ? { a } : {}), ...(b ? { b } : {}) } });
    }
    return c;
  };
  app.get('/api/compare-runs', async () => ({ data: await (resolved ??= resolve()), errors: null }));
  const traceOfB = (id: string) => qb.getTrace(id.toLowerCase()).catch(() => undefined);
  const notInB = (id: string) => jaegerError(404, `trace ${id} not found in run B`);
  app.get<{ Params: { id: string } }>('/api/b/traces/:id', async (req, reply) => {
    const trace = await traceOfB(req.params.id);
    if (!trace) return reply.code(404).send(notInB(req.params.id));
    return { data: [toJaegerTrace(trace)], total: 1, limit: 0, offset: 0, errors: null };
  });
  // the compare view's side B (ui/compare.js)
  app.get<{ Params: { id: string } }>('/api/b/ui/trace/:id', async (req, reply) => {
    const trace = await traceOfB(req.params.id);
    if (!trace) return reply.code(404).send(notInB(req.params.id));
    return { data: uiTree(trace), errors: null };
  });
};
