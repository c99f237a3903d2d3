// What the built-in UI asks beside Jaeger's API: its configuration (modes, scopes and kinds from
// the server's own tables), what the store holds (ranges, namespaces), the overview's heatmap, and
// the trace view's rows (ui-tree/), built here rather than re-parsed from Jaeger's JSON in the browser.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HttpError } from '../../src/core/http-error.ts';
import { KNOWN, SHORT_NAMES } from '../../src/core/kinds.ts';
import { activity } from '../activity.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { fromJaegerTrace } from '../modes/jaeger-json.ts';
import type { TraceQuery } from '../query.ts';
import { uiTree } from '../ui-tree/wire.ts';
import { type DisplayMode, modeDigits, type Scope, serviceName } from '../trace-id.ts';
import { jaegerError, jaegerErrorHandler } from './errors.ts';
import { isOurs, upstreamTrace } from './jaeger-v1.ts';
import { clusterFilter, DEFAULT_LOOKBACK_SEC, parseMicros, parseSearch } from './params.ts';
import { ClusterQuery, ref, SearchQuery, TimeRangeQuery, TraceIdParams } from './schemas.ts';

export interface UiApiOptions {
  backend: TraceBackend;
  query: TraceQuery;
  windowSec: number;
  /** The upstream Jaeger query service's base URL: the trace view of a foreign trace ID. */
  upstream?: string;
}

/** GET /api/ui-config: display modes and scopes with their trace-ID digits and service names, and the kind table. */
export function uiConfig() {
  const displays: DisplayMode[] = ['tracing', 'tree', 'timeline', 'grouped'];
  const scopes: Scope[] = ['default', 'owned', 'full', 'ancestors'];
  return {
    modes: displays.map((d) => ({ key: d, digit: modeDigits(d, 'default')[0]!, service: serviceName(d, 'default') })),
    // `key` is the scope as the service name spells it (`tracing (owned objects)`)
    scopes: scopes.map((sc) => {
      const suffix = serviceName('tracing', sc)
        .slice('tracing'.length)
        .trim()
        .replace(/^\(|\)$/g, '');
      return { key: suffix === '' ? 'default' : suffix, digit: modeDigits('tracing', sc)[1]!, service: serviceName('tracing', sc) };
    }),
    kinds: Object.entries(KNOWN).map(([kind, [group, resource]]) => ({ kind, group, resource })),
    shortNames: SHORT_NAMES,
  };
}

const ActivityQuery = Type.Intersect([ref(ClusterQuery), ref(TimeRangeQuery), Type.Object({ buckets: Type.Optional(Type.String()) })]);

export const uiApi: FastifyPluginAsyncTypebox<UiApiOptions> = async (app, { backend, query, windowSec, upstream }) => {
  app.setErrorHandler(jaegerErrorHandler);

  // The built-in UI's modes, scopes and kinds, from the server's own tables.
  const config = uiConfig();
  app.get('/api/ui-config', async () => ({ data: config, errors: null }));

  // What the store holds: the "all data" / "around the latest data" ranges and the namespace list.
  app.get('/api/ui/summary', { schema: { querystring: ref(ClusterQuery) } }, async (req) => {
    const cluster = clusterFilter(req.query.cluster);
    if (backend.summary) return { data: await backend.summary(cluster), errors: null };
    return { data: { namespaces: [] }, errors: null };
  });

  // The overview's heatmap: writes and failures per kind and namespace over time (activity.ts);
  // without a range, the range of the stored data.
  app.get('/api/ui/activity', { schema: { querystring: ActivityQuery } }, async (req) => {
    const cluster = clusterFilter(req.query.cluster);
    let startUs = parseMicros('start', req.query.start);
    let endUs = parseMicros('end', req.query.end);
    const buckets = req.query.buckets ? Number(req.query.buckets) : 60;
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 500) throw new HttpError(400, `buckets must be 1..500, got ${req.query.buckets}`);
    const fit = startUs === undefined && endUs === undefined;
    if (startUs === undefined || endUs === undefined) {
      const s = backend.summary ? await backend.summary(cluster) : undefined;
      endUs ??= s?.lastUs ?? Date.now() * 1000;
      startUs ??= s?.firstUs ?? endUs - DEFAULT_LOOKBACK_SEC * 1e6;
    }
    if (startUs > endUs) throw new HttpError(400, 'start is after end');
    const data = await activity(backend, { ...(cluster ? { cluster } : {}), startUs, endUs, buckets, windowSec, fit });
    return { data, errors: null };
  });

  // The trace view's rows (ui-tree/wire.ts): kubetrail's own trace IDs assembled, a foreign one from
  // the upstream Jaeger (its v1 JSON read into the display model).
  app.get('/api/ui/trace/:id', { schema: { params: ref(TraceIdParams) } }, async (req, reply) => {
    const id = req.params.id.toLowerCase();
    const ours = isOurs(id);
    const v1 = !ours && upstream ? await upstreamTrace(upstream, req.params.id) : undefined;
    const trace = ours ? await query.getTrace(id) : v1 && fromJaegerTrace(v1);
    if (!trace) return reply.code(404).send(jaegerError(404, ours || upstream ? `trace ${id} not found` : `trace ${id} not found (not a kubetrail trace ID)`));
    return { data: uiTree(trace), errors: null };
  });

  // The search page: Jaeger's search (GET /api/traces, the same parameters), each trace found as its tree.
  app.get('/api/ui/search', { schema: { querystring: SearchQuery } }, async (req) => {
    const r = parseSearch(req.query, Date.now() * 1000);
    return { data: (await query.search(r)).map(uiTree), errors: null };
  });
};
