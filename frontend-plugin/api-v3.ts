// Jaeger's query API v3 over HTTP, as the Jaeger v2 query service serves it (its grpc-gateway
// JSON: OTLP `TracesData` under `result`, IDs as hex, times as Unix-nanosecond strings, errors as
// `{"error": {"httpCode", "message"}}`), so the current Jaeger UI — which searches through
// `/api/v3/services`, `/api/v3/operations` and `/api/v3/trace-summaries` — works against kubetrail.
// The mapping is kubetrail's usual one: service = display mode, operation = cluster, attributes =
// tags. Request parameters: both the canonical camelCase names (`query.serviceName`) and the
// snake_case ones older Jaeger releases take (`query.service_name`, `query.num_traces`).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AttrValue } from '../src/core/model.ts';
import { isErrorSpan, rootSpanOf, tagOf, type DisplaySpan, type DisplayTrace, type Tag } from './modes/display.ts';
import type { SearchRequest, TraceQuery } from './query.ts';
import { resultName } from './search-results.ts';
import { decodeDisplayId, isRawTraceId, parseServiceName, serviceNames } from './trace-id.ts';
import { HttpError } from '../src/core/http-error.ts';

export interface ApiV3Options {
  query: TraceQuery;
  /** Foreign trace IDs go to this Jaeger query service. */
  passThrough?: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
}

// ---------- OTLP JSON ----------

export type OtlpAnyValue = { stringValue: string } | { boolValue: boolean } | { intValue: string } | { doubleValue: number };
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export interface OtlpEvent {
  timeUnixNano: string;
  name: string;
  attributes?: OtlpKeyValue[];
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  events?: OtlpEvent[];
  /** References after the parent (an object's other parents), as Jaeger's own translator writes them. */
  links?: { traceId: string; spanId: string; attributes: OtlpKeyValue[] }[];
  status: { code?: number; message?: string };
}
export interface OtlpResourceSpans {
  resource: { attributes: OtlpKeyValue[] };
  scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[];
}

const SPAN_KIND_INTERNAL = 1;
const STATUS_CODE_ERROR = 2;
/** W3C `sampled` plus OTLP's "is_remote known" bit, as Jaeger v2 answers for exported spans. */
const SPAN_FLAGS = 257;

const nanos = (us: number): string => (BigInt(Math.round(us)) * 1000n).toString();

function anyValue(v: AttrValue): OtlpAnyValue {
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: v };
}

const attrs = (tags: Tag[]): OtlpKeyValue[] => tags.map((t) => ({ key: t.key, value: anyValue(t.value) }));

/** A display span as an OTLP span: its first parent as the parent, the others as links (as Jaeger translates references). */
function toOtlpSpan(s: DisplaySpan, traceId: string): OtlpSpan {
  const [parent, ...others] = s.parents;
  const message = tagOf(s, 'error.message');
  const out: OtlpSpan = {
    traceId,
    spanId: s.spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    flags: SPAN_FLAGS,
    name: s.name,
    kind: SPAN_KIND_INTERNAL,
    startTimeUnixNano: nanos(s.startTime),
    endTimeUnixNano: nanos(s.startTime + s.duration),
    status: isErrorSpan(s) ? { ...(message !== undefined ? { message: String(message) } : {}), code: STATUS_CODE_ERROR } : {},
  };
  const tags = [...s.tags, ...s.warnings.map((w): Tag => ({ key: 'warning', value: w }))];
  if (tags.length > 0) out.attributes = attrs(tags);
  if (others.length > 0) {
    out.links = others.map((spanId) => ({ traceId, spanId, attributes: [{ key: 'opentracing.ref_type', value: { stringValue: 'child_of' } }] }));
  }
  if (s.logs.length > 0) {
    // A span log becomes a span event named by its `event` field (every tracing-mode log has one,
    // eventName()): Jaeger's OTLP → v1 translator turns the name back into `event`, which the Jaeger
    // UI titles the log with. Logs from elsewhere fall back to `audit`.
    out.events = s.logs.map((l) => {
      const name = l.fields.find((f) => f.key === 'event')?.value ?? l.fields.find((f) => f.key === 'audit')?.value ?? 'log';
      return { timeUnixNano: nanos(l.timestamp), name: String(name), attributes: attrs(l.fields) };
    });
  }
  return out;
}

/** One display trace as OTLP resource spans: one resource per cluster, in order of first use. */
export function toResourceSpans(t: DisplayTrace): OtlpResourceSpans[] {
  const byCluster = new Map<string, OtlpSpan[]>();
  for (const s of t.spans) {
    const list = byCluster.get(s.cluster);
    if (list) list.push(toOtlpSpan(s, t.traceId));
    else byCluster.set(s.cluster, [toOtlpSpan(s, t.traceId)]);
  }
  return [...byCluster].map(([cluster, spans]) => {
    const resource = [
      { key: 'service.name', value: { stringValue: cluster } },
      { key: 'cluster', value: { stringValue: cluster } },
    ];
    return { resource: { attributes: resource }, scopeSpans: [{ scope: { name: 'kubetrail' }, spans }] };
  });
}

/** `FindTraceSummaries` entry (proto3 JSON: zero counts are left out). */
export function traceSummary(t: DisplayTrace): Record<string, unknown> {
  const ids = new Set(t.spans.map((s) => s.spanId));
  const root = rootSpanOf(t) ?? t.spans[0];
  let start = Infinity;
  let end = -Infinity;
  const services = new Map<string, { spanCount: number; errorSpanCount: number }>();
  let errors = 0;
  let orphans = 0;
  for (const s of t.spans) {
    start = Math.min(start, s.startTime);
    end = Math.max(end, s.startTime + s.duration);
    const svc = services.get(s.cluster) ?? { spanCount: 0, errorSpanCount: 0 };
    svc.spanCount++;
    if (isErrorSpan(s)) {
      svc.errorSpanCount++;
      errors++;
    }
    services.set(s.cluster, svc);
    const parent = s.parents[0];
    if (parent && !ids.has(parent)) orphans++;
  }
  const nz = (k: string, v: number) => (v > 0 ? { [k]: v } : {});
  return {
    traceId: t.traceId,
    ...(root ? { rootServiceName: root.cluster, rootOperationName: resultName(root) } : {}),
    ...(t.spans.length > 0 ? { minStartTimeUnixNano: nanos(start), maxEndTimeUnixNano: nanos(end) } : {}),
    ...nz('spanCount', t.spans.length),
    ...nz('errorSpanCount', errors),
    ...nz('orphanSpanCount', orphans),
    services: [...services].map(([name, c]) => ({ name, ...nz('spanCount', c.spanCount), ...nz('errorSpanCount', c.errorSpanCount) })),
  };
}

// ---------- requests ----------

/** Jaeger answers errors through Go's http.Error: text/plain, the JSON body and a newline. */
function sendError(reply: FastifyReply, httpCode: number, message: string): FastifyReply {
  return reply
    .code(httpCode)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(`${JSON.stringify({ error: { httpCode, message } })}\n`);
}

type Query = Record<string, string | string[] | undefined>;
const one = (q: Query, canonical: string, deprecated?: string): [string, string] => {
  const pick = (k: string) => {
    const v = q[k];
    return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  };
  const c = pick(canonical);
  if (c !== '' || !deprecated) return [c, canonical];
  return [pick(deprecated), deprecated];
};

function parseTime(name: string, v: string): number {
  // RFC 3339 with optional fractional seconds (Go's time.RFC3339Nano parser accepts both).
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v))
    throw new HttpError(400, `malformed parameter ${name}: not RFC 3339: ${JSON.stringify(v)}`);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new HttpError(400, `malformed parameter ${name}: ${JSON.stringify(v)}`);
  const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
  const extraUs = frac.length > 3 ? Number(frac.slice(3, 6).padEnd(3, '0')) : 0;
  return ms * 1000 + extraUs;
}

function parseLogfmt(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/y;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    out[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    pos = re.lastIndex;
  }
  if (text.slice(pos).trim() !== '') throw new Error(`neither a JSON object nor key=value pairs: ${JSON.stringify(text)}`);
  return out;
}

const DEFAULT_SEARCH_DEPTH = 100;
const MAX_SEARCH_DEPTH = 1500;

/** The v3 search parameters as kubetrail's search (Jaeger's query_parser.go, same names and checks). */
export function parseV3Search(q: Query): SearchRequest {
  const [service] = one(q, 'query.serviceName', 'query.service_name');
  const [operation] = one(q, 'query.operationName', 'query.operation_name');
  const mode = parseServiceName(service);
  // Jaeger answers a search for a service it does not know with "No traces found".
  if (!mode) throw new HttpError(404, `No traces found: unknown service (display mode) ${JSON.stringify(service)}; one of: ${serviceNames().join(', ')}`);
  const filter: SearchRequest['filter'] = {};
  const match: Record<string, string> = {};
  const [attributes] = one(q, 'query.attributes');
  if (attributes !== '') {
    let parsed: unknown;
    try {
      // Jaeger takes a JSON object; logfmt (`name=demo code=409`, what one types in the UI's Tags
      // field and may land in its URL) is taken too.
      parsed = attributes.trim().startsWith('{') ? JSON.parse(attributes) : parseLogfmt(attributes);
    } catch (e) {
      throw new HttpError(400, `malformed parameter query.attributes: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new HttpError(400, 'malformed parameter query.attributes: not a JSON object');
    for (const [k, v] of Object.entries(parsed)) {
      if (['cluster', 'group', 'resource', 'namespace', 'name'].includes(k)) filter[k as keyof SearchRequest['filter']] = String(v);
      else match[k] = String(v);
    }
  }
  if (operation !== '' && operation !== 'all') filter.cluster = operation;
  const [minRaw, minName] = one(q, 'query.startTimeMin', 'query.start_time_min');
  const [maxRaw, maxName] = one(q, 'query.startTimeMax', 'query.start_time_max');
  if (minRaw === '' || maxRaw === '') throw new HttpError(400, 'query.startTimeMin and query.startTimeMax are required');
  const startUs = parseTime(minName, minRaw);
  const endUs = parseTime(maxName, maxRaw);
  if (!(startUs < endUs)) throw new HttpError(400, 'query.startTimeMin must be before query.startTimeMax');
  let [depth, depthName] = one(q, 'query.searchDepth', 'query.search_depth');
  if (depth === '') [depth, depthName] = one(q, 'query.num_traces');
  let limit = DEFAULT_SEARCH_DEPTH;
  if (depth !== '') {
    if (!/^-?\d+$/.test(depth)) throw new HttpError(400, `malformed parameter ${depthName}: strconv.Atoi: parsing ${JSON.stringify(depth)}: invalid syntax`);
    limit = Number(depth) > 0 ? Math.min(Number(depth), MAX_SEARCH_DEPTH) : DEFAULT_SEARCH_DEPTH;
  }
  for (const [c, d] of [
    ['query.durationMin', 'query.duration_min'],
    ['query.durationMax', 'query.duration_max'],
  ] as const) {
    const [v, name] = one(q, c, d);
    if (v !== '' && !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v))
      throw new HttpError(400, `malformed parameter ${name}: time: invalid duration ${JSON.stringify(v)}`);
  }
  return { ...mode, filter, startUs, endUs, limit, ...(Object.keys(match).length > 0 ? { match } : {}) };
}

/** Go's time.ParseDuration for the units Jaeger's UI sends, in µs. */
export function parseGoDurationUs(v: string): number {
  const unit: Record<string, number> = { ns: 1e-3, us: 1, µs: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
}

function durationFilter(q: Query): (t: DisplayTrace) => boolean {
  const [min] = one(q, 'query.durationMin', 'query.duration_min');
  const [max] = one(q, 'query.durationMax', 'query.duration_max');
  if (min === '' && max === '') return () => true;
  const lo = min === '' ? -Infinity : parseGoDurationUs(min);
  const hi = max === '' ? Infinity : parseGoDurationUs(max);
  // Jaeger matches a span's duration: a trace qualifies when one of its spans is in range.
  return (t) => t.spans.some((s) => s.duration >= lo && s.duration <= hi);
}

// ---------- routes ----------

export const apiV3: FastifyPluginAsync<ApiV3Options> = async (app, opts) => {
  const { query } = opts;

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const code = err.statusCode ?? 500;
    if (code >= 500) req.log.error({ err }, 'v3 query failed');
    return sendError(reply, code, err.message);
  });

  app.get('/api/v3/services', async () => ({ services: serviceNames() }));

  app.get<{ Querystring: Query }>('/api/v3/operations', async (req) => {
    const [service] = one(req.query, 'service');
    // Jaeger lists no operations for a service it does not know.
    if (service !== '' && !parseServiceName(service)) return { operations: [] };
    const clusters = await query.backend.clusters();
    return { operations: clusters.map((name) => ({ name, spanKind: 'internal' })) };
  });

  const search = async (q: Query): Promise<DisplayTrace[]> => {
    const r = parseV3Search(q);
    const keep = durationFilter(q);
    return (await query.search(r)).filter(keep);
  };

  app.get<{ Querystring: Query }>('/api/v3/traces', async (req, reply) => {
    const traces = await search(req.query);
    if (traces.length === 0) return sendError(reply, 404, 'No traces found');
    return reply.type('application/json').send({ result: { resourceSpans: traces.flatMap(toResourceSpans) } });
  });

  app.get<{ Querystring: Query }>('/api/v3/trace-summaries', async (req) => {
    const traces = await search(req.query);
    return { summaries: traces.map(traceSummary) };
  });

  app.get<{ Params: { id: string }; Querystring: Query }>('/api/v3/traces/:id', async (req, reply) => {
    const id = req.params.id.toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(id)) {
      return sendError(reply, 400, `malformed parameter trace_id: not a hex trace ID: ${JSON.stringify(req.params.id)}`);
    }
    const ours = decodeDisplayId(id) !== undefined || isRawTraceId(id);
    if (!ours && opts.passThrough) return opts.passThrough(req, reply);
    const trace = ours ? await query.getTrace(id) : undefined;
    if (!trace) return sendError(reply, 404, 'No traces found');
    return reply.type('application/json').send({ result: { resourceSpans: toResourceSpans(trace) } });
  });
};
