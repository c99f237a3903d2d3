// Jaeger's query HTTP API (v1, the JSON the Jaeger UI and scripts read) over kubetrail's assembled
// traces: services are display modes, operations are clusters, a search finds objects by tags, a
// trace ID is kubetrail's own (display or raw) or, with an upstream Jaeger, passed through to it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HttpError } from '../../src/core/http-error.ts';
import { type JaegerTrace, toJaegerTrace } from '../modes/jaeger-json.ts';
import type { TraceQuery } from '../query.ts';
import { decodeDisplayId, isRawTraceId, serviceNames } from '../trace-id.ts';
import { jaegerError, jaegerErrorHandler } from './errors.ts';
import { parseMode, parseSearch } from './params.ts';
import type { PassThrough } from './passthrough.ts';
import { ref, SearchQuery, ServiceQuery, TraceIdParams } from './schemas.ts';

export interface JaegerV1Options {
  query: TraceQuery;
  /** The upstream Jaeger query service's base URL, for the compare view's foreign trace IDs. */
  upstream?: string;
  /** Forwards a request to the upstream Jaeger (passthrough.ts); absent: foreign IDs are 404. */
  passThrough?: PassThrough;
}

const list = <T>(data: T[], limit = 0) => ({ data, total: data.length, limit, offset: 0, errors: null });
export const isOurs = (id: string) => decodeDisplayId(id) !== undefined || isRawTraceId(id);

/** Unix milliseconds of /api/dependencies (`endTs`, `lookback`), `def` when not given. */
function millis(name: string, v: string | undefined, def: number): number {
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be Unix milliseconds, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** One trace by ID for the compare view: ours assembled, another's from the upstream Jaeger. */
async function traceById(query: TraceQuery, upstream: string | undefined, id: string): Promise<unknown> {
  const lower = id.toLowerCase();
  if (isOurs(lower)) {
    const t = await query.getTrace(lower);
    return t && toJaegerTrace(t);
  }
  return upstream ? upstreamTrace(upstream, id) : undefined;
}

/** A trace of the upstream Jaeger by ID (its v1 JSON), or undefined when it has none or does not answer. */
export async function upstreamTrace(upstream: string, id: string): Promise<JaegerTrace | undefined> {
  try {
    const res = await fetch(`${upstream}/api/traces/${encodeURIComponent(id)}`, { headers: { accept: 'application/json' } });
    if (!res.ok) return undefined;
    return ((await res.json()) as { data?: JaegerTrace[] }).data?.[0];
  } catch {
    return undefined;
  }
}

/** GET /api/services, the operations (clusters) of a service, and /api/dependencies. */
const catalog: FastifyPluginAsyncTypebox<JaegerV1Options> = async (app, { query }) => {
  app.get('/api/services', { schema: { response: { 200: { type: 'object', additionalProperties: true } } } }, async () => list(serviceNames()));

  app.get('/api/services/:service/operations', { schema: { params: Type.Object({ service: Type.String() }) } }, async (req) => {
    parseMode(req.params.service);
    return list(await query.backend.clusters());
  });

  app.get(
    '/api/operations',
    { schema: { querystring: Type.Intersect([ref(ServiceQuery), Type.Object({ spanKind: Type.Optional(Type.String()) })]) } },
    async (req) => {
      parseMode(req.query.service);
      return list((await query.backend.clusters()).map((name) => ({ name, spanKind: 'internal' })));
    },
  );

  // System Architecture: who (actors) writes which resources, with write counts. Jaeger's defaults:
  // endTs = now (Unix ms), lookback = 24 h (ms).
  const DependenciesQuery = Type.Object({ endTs: Type.Optional(Type.String()), lookback: Type.Optional(Type.String()) });
  app.get('/api/dependencies', { schema: { querystring: DependenciesQuery } }, async (req) => {
    const endMs = millis('endTs', req.query.endTs, Date.now());
    const lookbackMs = millis('lookback', req.query.lookback, 86_400_000);
    return list(await query.dependencies((endMs - lookbackMs) * 1000, endMs * 1000));
  });
};

/** GET /api/traces (search, or the compare view's `traceID`s) and GET /api/traces/:id. */
const traces: FastifyPluginAsyncTypebox<JaegerV1Options> = async (app, { query, upstream, passThrough }) => {
  app.get('/api/traces', { schema: { querystring: SearchQuery } }, async (req) => {
    // Jaeger: `traceID` parameters (the compare view, `?traceID=A&traceID=B`) fetch those traces, the
    // other parameters are ignored; the ones not found are listed in `errors`.
    const ids = [req.query.traceID ?? []].flat().filter((x) => x !== '');
    if (ids.length > 0) {
      const unique = [...new Set(ids)];
      const found = await Promise.all(unique.map((id) => traceById(query, upstream, id)));
      const data = found.filter((t) => t !== undefined);
      const errors = unique.filter((_, i) => found[i] === undefined).map((traceID) => ({ msg: 'trace not found', traceID })); // as Jaeger: no code
      return { ...list(data), errors: errors.length > 0 ? errors : null };
    }
    const r = parseSearch(req.query, Date.now() * 1000);
    return list((await query.search(r)).map(toJaegerTrace), r.limit);
  });

  app.get('/api/traces/:id', { schema: { params: ref(TraceIdParams) } }, async (req, reply) => {
    const id = req.params.id.toLowerCase();
    const ours = isOurs(id);
    if (!ours && passThrough) return passThrough(req, reply);
    const trace = ours ? await query.getTrace(id) : undefined;
    if (!trace) return reply.code(404).send(jaegerError(404, ours ? `trace ${id} not found` : `trace ${id} not found (not a kubetrail trace ID)`));
    return list([toJaegerTrace(trace)]);
  });
};

/** The Jaeger v1 query API as one encapsulated plugin, with Jaeger's error body. */
export const jaegerV1: FastifyPluginAsyncTypebox<JaegerV1Options> = async (app, opts) => {
  app.setErrorHandler(jaegerErrorHandler);
  await app.register(catalog, opts);
  await app.register(traces, opts);
};
