// The query proxy: Jaeger's query HTTP API over kubetrail's assembled traces, /redirect, the
// built-in UI, and (with an upstream Jaeger query service) every other path passed through.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import { log } from '../src/core/log.ts';
import type { ObjectRef } from '../src/core/model.ts';
import type { TraceBackend } from './backend/backend.ts';
import type { LiveSource } from './diagnose/routes.ts';
import { parseDurationSec } from '../src/core/duration.ts';
import { TraceQuery, type SearchRequest } from './query.ts';
import { apiV3 } from './api-v3.ts';
import { activity } from './activity.ts';
import { isRawTraceId, decodeDisplayId, modeDigits, parseServiceName, serviceName, serviceNames, type DisplayMode, type Scope } from './trace-id.ts';
import { KNOWN } from '../src/core/kinds.ts';

export const DEFAULT_UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'ui');
const DEFAULT_LOOKBACK_SEC = 3600;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1500;
const FILTER_TAGS = ['cluster', 'group', 'resource', 'namespace', 'name'] as const;

export interface QueryServerOptions {
  backend: TraceBackend;
  windowSec: number;
  /** Jaeger query service base URL: unknown paths are passed through to it. */
  upstream?: string;
  /** Built-in UI files; default frontend-plugin/ui. */
  uiDir?: string;
  /** Default: kubetrail's pino logger (src/core/log.ts); failures are logged, requests are not. */
  logger?: FastifyBaseLogger | boolean;
  maxObjects?: number;
  /** Live findings of the process that writes the spans (GET /api/findings/live); absent: off. */
  live?: LiveSource;
}

/** An error answered as Jaeger does: `{data: null, errors: [{code, msg}]}`. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly extra?: Record<string, unknown>;
  constructor(statusCode: number, message: string, extra?: Record<string, unknown>) {
    super(message);
    this.statusCode = statusCode;
    this.extra = extra;
  }
}

function jaegerError(code: number, msg: string, extra?: Record<string, unknown>) {
  return { data: null, total: 0, limit: 0, offset: 0, errors: [{ code, msg }], ...extra };
}

// ---------- the built-in UI's configuration (one source: trace-id.ts, src/core/kinds.ts) ----------

/** kubectl's short names, for the UI's kind field. */
const SHORT_NAMES: Record<string, string> = {
  deploy: 'deployments',
  rs: 'replicasets',
  po: 'pods',
  no: 'nodes',
  svc: 'services',
  ep: 'endpoints',
  cm: 'configmaps',
  sts: 'statefulsets',
  ds: 'daemonsets',
  pvc: 'persistentvolumeclaims',
  pv: 'persistentvolumes',
  ns: 'namespaces',
  sa: 'serviceaccounts',
  ing: 'ingresses',
  hpa: 'horizontalpodautoscalers',
  pdb: 'poddisruptionbudgets',
  cj: 'cronjobs',
  ev: 'events',
  rc: 'replicationcontrollers',
  sc: 'storageclasses',
  crd: 'customresourcedefinitions',
  pc: 'priorityclasses',
  netpol: 'networkpolicies',
  quota: 'resourcequotas',
  limits: 'limitranges',
  csr: 'certificatesigningrequests',
};

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

// ---------- error pages for people (a browser asking for HTML) ----------

const escapeHtml = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function wantsHtml(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  return accept.includes('text/html');
}

/** A readable error page in the UI's style, with a way back. */
export function errorPage(status: number, title: string, detail: string, extraHtml = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · kubetrail</title><link rel="stylesheet" href="/style.css"></head>
<body><main class="error-page" id="main"><div class="state state-error" role="alert"><h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(detail)}</p>${extraHtml}<p class="muted">HTTP ${status}</p>
<p><a class="btn" href="/">Go to the overview and search</a></p></div></main></body></html>`;
}

// ---------- request parsing ----------

/** Jaeger UI sends `tags={"name":"demo"}`; people type logfmt `name=demo namespace=default`. */
export function parseTags(raw: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const text of [raw ?? []].flat()) {
    const t = text.trim();
    if (t === '') continue;
    if (t.startsWith('{')) {
      let obj: unknown;
      try {
        obj = JSON.parse(t);
      } catch {
        throw new HttpError(400, `tags is not valid JSON: ${t}`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new HttpError(400, 'tags must be a JSON object');
      for (const [k, v] of Object.entries(obj)) out[k] = String(v);
      continue;
    }
    const re = /\s*([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/y;
    let m: RegExpExecArray | null;
    let pos = 0;
    while ((m = re.exec(t)) !== null) {
      out[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
      pos = re.lastIndex;
    }
    if (t.slice(pos).trim() !== '') throw new HttpError(400, `tags must be key=value pairs or a JSON object: ${t}`);
  }
  return out;
}

/** Splits search tags: the object keys select objects, every other tag is matched over their spans. */
export function splitTags(tags: Record<string, string>): { filter: Record<string, string>; match: Record<string, string> } {
  const filter: Record<string, string> = {};
  const match: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if ((FILTER_TAGS as readonly string[]).includes(k)) filter[k] = v;
    else match[k] = v;
  }
  return { filter, match };
}

function parseMicros(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be Unix microseconds, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `ts` for /redirect: RFC 3339, or Unix seconds / milliseconds / microseconds by magnitude. */
export function parseTimestampUs(v: string | undefined, nowUs: number): number {
  if (v === undefined || v === '') return nowUs;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    if (n < 1e11) return Math.round(n * 1e6);
    if (n < 1e14) return Math.round(n * 1e3);
    return Math.round(n);
  }
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new HttpError(400, `ts must be RFC 3339 or a Unix timestamp, got ${JSON.stringify(v)}`);
  return ms * 1000;
}

function parseMode(service: string | undefined) {
  const m = parseServiceName(service);
  if (!m) throw new HttpError(400, `unknown service (display mode) ${JSON.stringify(service)}; one of: ${serviceNames().join(', ')}`);
  return m;
}

/** Jaeger UI's "all" operations. */
function clusterFilter(op: string | undefined): string | undefined {
  return op === undefined || op === '' || op === 'all' ? undefined : op;
}

interface SearchQuery {
  service?: string;
  operation?: string;
  tags?: string | string[];
  start?: string;
  end?: string;
  lookback?: string;
  limit?: string;
}

export function parseSearch(q: SearchQuery, nowUs: number): SearchRequest {
  const { display, scope } = parseMode(q.service);
  const { filter: tags, match } = splitTags(parseTags(q.tags));
  const endUs = parseMicros('end', q.end) ?? nowUs;
  let startUs = parseMicros('start', q.start);
  if (startUs === undefined) {
    let lookback = DEFAULT_LOOKBACK_SEC;
    if (q.lookback && q.lookback !== 'custom') {
      try {
        lookback = parseDurationSec(q.lookback);
      } catch (e) {
        throw new HttpError(400, `lookback: ${(e as Error).message}`);
      }
    }
    startUs = endUs - lookback * 1e6;
  }
  if (startUs > endUs) throw new HttpError(400, 'start is after end');
  const limitRaw = q.limit === undefined || q.limit === '' ? DEFAULT_LIMIT : Number(q.limit);
  if (!Number.isInteger(limitRaw) || limitRaw < 0) throw new HttpError(400, `limit must be a non-negative integer, got ${q.limit}`);
  const limit = Math.min(limitRaw === 0 ? DEFAULT_LIMIT : limitRaw, MAX_LIMIT);
  const cluster = clusterFilter(q.operation) ?? tags.cluster;
  const filter: SearchRequest['filter'] = { ...tags };
  if (cluster !== undefined) filter.cluster = cluster;
  return { display, scope, filter, startUs, endUs, limit, ...(Object.keys(match).length > 0 ? { match } : {}) };
}

// ---------- passthrough ----------

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'host',
  'content-length',
  'content-encoding',
]);

async function passThrough(upstream: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const url = new URL(req.raw.url ?? '/', upstream.endsWith('/') ? upstream : `${upstream}/`);
  // Keep the upstream's path prefix, if it has one (`http://jaeger:16686/jaeger`).
  const base = new URL(upstream);
  if (base.pathname !== '/' && base.pathname !== '') url.pathname = base.pathname.replace(/\/$/, '') + (req.raw.url ?? '/').split('?')[0];
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k.toLowerCase())) continue;
    headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  headers.set('accept-encoding', 'identity');
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req.raw) as ReadableStream) : undefined,
      redirect: 'manual',
      // @ts-expect-error undici option for streaming request bodies
      duplex: 'half',
    });
  } catch (e) {
    return reply.code(502).send(jaegerError(502, `upstream Jaeger query service ${upstream} unreachable: ${(e as Error).message}`));
  }
  reply.code(res.status);
  res.headers.forEach((v, k) => {
    if (!HOP_BY_HOP.has(k)) reply.header(k, v);
  });
  return reply.send(res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream) : '');
}

// ---------- routes ----------

const errorSchema = {
  type: 'object',
  properties: {
    data: { type: 'null' },
    errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'integer' }, msg: { type: 'string' } } } },
  },
  additionalProperties: true,
};
const searchQuerySchema = {
  type: 'object',
  properties: {
    service: { type: 'string' },
    operation: { type: 'string' },
    tags: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    start: { type: 'string' },
    end: { type: 'string' },
    lookback: { type: 'string' },
    limit: { type: 'string' },
    minDuration: { type: 'string' },
    maxDuration: { type: 'string' },
    traceID: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  },
};
const redirectQuerySchema = {
  type: 'object',
  required: ['resource', 'name'],
  properties: {
    cluster: { type: 'string' },
    group: { type: 'string' },
    resource: { type: 'string', minLength: 1 },
    namespace: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    ts: { type: 'string' },
    mode: { type: 'string' },
    /** The built-in UI: the row to select in the trace (`?object=` of /trace). */
    select: { type: 'string' },
  },
};
const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
};

export interface QueryApiOptions {
  query: TraceQuery;
  upstream?: string;
}

/** The Jaeger-compatible API and /redirect, as an encapsulated fastify plugin. */
export const queryApi: FastifyPluginAsync<QueryApiOptions> = async (app, opts) => {
  const { query, upstream } = opts;
  const now = () => Date.now() * 1000;

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown; extra?: Record<string, unknown> }, req, reply) => {
    const status = err instanceof HttpError ? err.statusCode : err.validation ? 400 : (err.statusCode ?? 500);
    if (status === 502) req.log.warn({ reason: err.message }, 'upstream failed');
    else if (status >= 500) req.log.error({ err }, 'query failed');
    if (wantsHtml(req))
      return reply
        .code(status)
        .type('text/html')
        .send(errorPage(status, status === 404 ? 'Not found' : status >= 500 ? 'The query failed' : 'Bad request', err.message));
    reply.code(status).send(jaegerError(status, err.message, err instanceof HttpError ? err.extra : undefined));
  });

  // Query API v3 (the current Jaeger UI searches through it): its own error shape, see api-v3.ts.
  await app.register(apiV3, { query, passThrough: upstream ? (req, reply) => passThrough(upstream, req, reply) : undefined });

  app.get('/api/services', { schema: { response: { 200: { type: 'object', additionalProperties: true } } } }, async () => {
    const data = serviceNames();
    return { data, total: data.length, limit: 0, offset: 0, errors: null };
  });

  const clusters = async () => {
    const data = await query.backend.clusters();
    return data;
  };
  app.get<{ Params: { service: string } }>(
    '/api/services/:service/operations',
    { schema: { params: { type: 'object', properties: { service: { type: 'string' } } } } },
    async (req) => {
      parseMode(req.params.service);
      const data = await clusters();
      return { data, total: data.length, limit: 0, offset: 0, errors: null };
    },
  );
  app.get<{ Querystring: { service?: string; spanKind?: string } }>(
    '/api/operations',
    { schema: { querystring: { type: 'object', properties: { service: { type: 'string' }, spanKind: { type: 'string' } } } } },
    async (req) => {
      parseMode(req.query.service);
      const data = (await clusters()).map((name) => ({ name, spanKind: 'internal' }));
      return { data, total: data.length, limit: 0, offset: 0, errors: null };
    },
  );

  /** One trace by ID for the compare view: ours assembled, another's from the upstream Jaeger. */
  const traceById = async (id: string): Promise<unknown> => {
    const lower = id.toLowerCase();
    if (decodeDisplayId(lower) !== undefined || isRawTraceId(lower)) return query.getTrace(lower);
    if (!upstream) return undefined;
    try {
      const res = await fetch(`${upstream}/api/traces/${encodeURIComponent(id)}`, { headers: { accept: 'application/json' } });
      if (!res.ok) return undefined;
      return ((await res.json()) as { data?: unknown[] }).data?.[0];
    } catch {
      return undefined;
    }
  };

  app.get<{ Querystring: SearchQuery & { traceID?: string | string[] } }>('/api/traces', { schema: { querystring: searchQuerySchema } }, async (req) => {
    // Jaeger: `traceID` parameters (the compare view, `?traceID=A&traceID=B`) fetch those traces, the
    // other parameters are ignored; the ones not found are listed in `errors`.
    const ids = [req.query.traceID ?? []].flat().filter((x) => x !== '');
    if (ids.length > 0) {
      const unique = [...new Set(ids)];
      const traces = await Promise.all(unique.map(traceById));
      const data = traces.filter((t) => t !== undefined);
      const errors = unique.filter((_, i) => traces[i] === undefined).map((traceID) => ({ msg: 'trace not found', traceID })); // as Jaeger: no code
      return { data, total: data.length, limit: 0, offset: 0, errors: errors.length > 0 ? errors : null };
    }
    const r = parseSearch(req.query, now());
    const data = await query.search(r);
    return { data, total: data.length, limit: r.limit, offset: 0, errors: null };
  });

  // System Architecture: who (actors) writes which resources, with write counts. Jaeger's defaults:
  // endTs = now (Unix ms), lookback = 24 h (ms).
  app.get<{ Querystring: { endTs?: string; lookback?: string } }>(
    '/api/dependencies',
    { schema: { querystring: { type: 'object', properties: { endTs: { type: 'string' }, lookback: { type: 'string' } } } } },
    async (req) => {
      const ms = (name: string, v: string | undefined, def: number): number => {
        if (v === undefined || v === '') return def;
        if (!/^\d+$/.test(v)) throw new HttpError(400, `${name} must be Unix milliseconds, got ${JSON.stringify(v)}`);
        return Number(v);
      };
      const endMs = ms('endTs', req.query.endTs, Date.now());
      const lookbackMs = ms('lookback', req.query.lookback, 86_400_000);
      const data = await query.dependencies((endMs - lookbackMs) * 1000, endMs * 1000);
      return { data, total: data.length, limit: 0, offset: 0, errors: null };
    },
  );

  app.get<{ Params: { id: string } }>('/api/traces/:id', { schema: { params: idParamsSchema } }, async (req, reply) => {
    const id = req.params.id.toLowerCase();
    const ours = decodeDisplayId(id) !== undefined || isRawTraceId(id);
    if (!ours && upstream) return passThrough(upstream, req, reply);
    const trace = ours ? await query.getTrace(id) : undefined;
    if (!trace) {
      return reply.code(404).send(jaegerError(404, ours ? `trace ${id} not found` : `trace ${id} not found (not a kubetrail trace ID)`));
    }
    return { data: [trace], total: 1, limit: 0, offset: 0, errors: null };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/redirect',
    { schema: { querystring: redirectQuerySchema, response: { 400: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      const q = req.query;
      const { display, scope } = parseMode(q.mode);
      const filter: Partial<ObjectRef> = { resource: q.resource, name: q.name };
      for (const k of ['cluster', 'group', 'namespace'] as const) if (q[k] !== undefined) filter[k] = q[k];
      const located = await query.locate(filter, parseTimestampUs(q.ts, now()), display, scope);
      if (located.kind === 'none') {
        const msg = `no object ${describe(filter)} recorded within a day of ts`;
        if (wantsHtml(req)) {
          const search = new URLSearchParams({ range: 'all', resource: q.resource!, name: q.name!, ...(q.namespace ? { namespace: q.namespace } : {}) });
          return reply
            .code(404)
            .type('text/html')
            .send(
              errorPage(
                404,
                'Object not found',
                `No ${q.resource} named ${q.name}${q.namespace ? ` in namespace ${q.namespace}` : ''} is recorded within a day of ${q.ts ?? 'now'}.`,
                `<p><a href="/?${escapeHtml(search.toString())}">Search all the data for it</a></p>`,
              ),
            );
        }
        return reply.code(404).send(jaegerError(404, msg));
      }
      if (located.kind === 'ambiguous') {
        if (wantsHtml(req)) {
          const links = located.candidates.slice(0, 50).map((c) => {
            const p = new URLSearchParams({
              cluster: c.cluster,
              group: c.group,
              resource: c.resource,
              namespace: c.namespace,
              name: c.name,
              ...(q.ts ? { ts: q.ts } : {}),
            });
            return `<li><a href="/redirect?${escapeHtml(p.toString())}">${escapeHtml(`${c.cluster} ${c.resource}${c.group ? '.' + c.group : ''} ${c.namespace ? c.namespace + '/' : ''}${c.name}`)}</a></li>`;
          });
          return reply
            .code(400)
            .type('text/html')
            .send(
              errorPage(
                400,
                'Several objects match',
                `${located.candidates.length} objects match ${describe(filter)}; pick one:`,
                `<ul>${links.join('')}</ul>`,
              ),
            );
        }
        return reply.code(400).send(
          jaegerError(400, `${located.candidates.length} objects match ${describe(filter)}; add cluster, group or namespace`, {
            candidates: located.candidates,
          }),
        );
      }
      // `Location`, spelled as Kelemetry sends it (scripts grep for it); fastify lower-cases headers.
      reply.hijack();
      const target = `/trace/${located.id}${q.select ? `?object=${encodeURIComponent(q.select)}` : ''}`;
      const body = JSON.stringify({ location: target });
      reply.raw.writeHead(302, { Location: target, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      reply.raw.end(body);
      return reply;
    },
  );
};

function describe(f: Partial<ObjectRef>): string {
  return Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Paths of the query API (ours, or Jaeger's to pass through); everything else a UI may own. */
const API_PATH = /^\/(api|analytics|qualitymetrics|redirect)(\/|$|\?)/;

/** Whether a request is a page or asset of the UI: GET/HEAD outside the API paths. */
export function uiOwns(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  return !API_PATH.test(req.raw.url ?? '/');
}

/**
 * A UI file asked for below a page: `/trace/static/index-abc.js` → `static/index-abc.js`. A Jaeger UI
 * build names its files relative to the page (`./static/…`) and sets its `<base>` from a script, but
 * Chromium's preload scanner fetches them before that script runs, resolved against `/trace/<id>`.
 * The leading path segments are dropped until the rest is a file of the UI directory.
 */
export function uiFileBelowPage(uiDir: string, path: string): string | undefined {
  let parts: string[];
  try {
    parts = decodeURIComponent(path)
      .split('/')
      .filter((p) => p !== '');
  } catch {
    return undefined;
  }
  if (parts.some((p) => p === '..' || p === '.' || p.includes('\\'))) return undefined;
  for (let i = 1; i < parts.length; i++) {
    const rel = parts.slice(i).join('/');
    try {
      if (statSync(join(uiDir, rel)).isFile()) return rel;
    } catch {
      // not there: try a shorter path
    }
  }
  return undefined;
}

const MISSING_UI = `<!doctype html><meta charset="utf-8"><title>kubetrail</title>
<h1>kubetrail query</h1><p>The built-in UI is missing (no index.html in the UI directory).
The Jaeger query API is served under <code>/api/</code>, e.g. <a href="/api/services">/api/services</a>.</p>`;

/** The query proxy: API + UI + passthrough. Call `listen()` on the result. */
export async function createQueryServer(opts: QueryServerOptions): Promise<FastifyInstance> {
  const routerOptions = { ignoreTrailingSlash: true };
  const logger = opts.logger ?? log.child({ component: 'query' });
  // Fastify 5 takes a ready pino instance as `loggerInstance`, and only a boolean/config as `logger`.
  const app =
    typeof logger === 'object'
      ? Fastify({ loggerInstance: logger, routerOptions, logController: new LogController({ disableRequestLogging: true }) })
      : Fastify({ logger, routerOptions, logController: new LogController({ disableRequestLogging: true }) });
  const query = new TraceQuery({ backend: opts.backend, windowSec: opts.windowSec, maxObjects: opts.maxObjects });
  const upstream = opts.upstream?.replace(/\/+$/, '');

  // Bodies are only ever passed through (Jaeger's POST /api/archive, /api/transform): keep the stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  await app.register(queryApi, { query, upstream });

  const uiDir = opts.uiDir ?? DEFAULT_UI_DIR;
  const hasUi = existsSync(join(uiDir, 'index.html'));
  if (hasUi) {
    // Each UI file is its own route (wildcard: false), so every other path stays free for the passthrough.
    await app.register(fastifyStatic, { root: uiDir, wildcard: false, index: false });
    // The `yaml` package's browser build (plain ES modules) for the built-in UI's YAML views.
    const yamlDir = join(dirname(dirname(fileURLToPath(import.meta.resolve('yaml')))), 'browser');
    if (existsSync(yamlDir)) await app.register(fastifyStatic, { root: yamlDir, prefix: '/vendor/yaml/', decorateReply: false, index: false });
  }
  // The overview's heatmap: writes and failures per kind and namespace over time (activity.ts).
  app.get<{ Querystring: { cluster?: string; start?: string; end?: string; buckets?: string } }>(
    '/api/ui/activity',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { cluster: { type: 'string' }, start: { type: 'string' }, end: { type: 'string' }, buckets: { type: 'string' } },
        },
      },
    },
    async (req, reply) => {
      const cluster = clusterFilter(req.query.cluster);
      let startUs: number | undefined, endUs: number | undefined, buckets: number;
      try {
        startUs = parseMicros('start', req.query.start);
        endUs = parseMicros('end', req.query.end);
        buckets = req.query.buckets ? Number(req.query.buckets) : 60;
        if (!Number.isInteger(buckets) || buckets < 1 || buckets > 500) throw new HttpError(400, `buckets must be 1..500, got ${req.query.buckets}`);
      } catch (e) {
        return reply.code(400).send(jaegerError(400, (e as Error).message));
      }
      const fit = startUs === undefined && endUs === undefined;
      if (startUs === undefined || endUs === undefined) {
        const s = opts.backend.summary ? await opts.backend.summary(cluster) : undefined;
        endUs ??= s?.lastUs ?? Date.now() * 1000;
        startUs ??= s?.firstUs ?? endUs - DEFAULT_LOOKBACK_SEC * 1e6;
      }
      if (startUs > endUs) return reply.code(400).send(jaegerError(400, 'start is after end'));
      const data = await activity(opts.backend, { ...(cluster ? { cluster } : {}), startUs, endUs, buckets, windowSec: opts.windowSec, fit });
      return { data, errors: null };
    },
  );
  // The built-in UI's modes, scopes and kinds, from the server's own tables.
  const config = uiConfig();
  app.get('/api/ui-config', async () => ({ data: config, errors: null }));
  // What the store holds: the "all data" / "around the latest data" ranges and the namespace list.
  app.get<{ Querystring: { cluster?: string } }>(
    '/api/ui/summary',
    { schema: { querystring: { type: 'object', properties: { cluster: { type: 'string' } } } } },
    async (req) => {
      const cluster = clusterFilter(req.query.cluster);
      if (opts.backend.summary) return { data: await opts.backend.summary(cluster), errors: null };
      return { data: { namespaces: [] }, errors: null };
    },
  );
  const sendUi = async (_req: FastifyRequest, reply: FastifyReply) =>
    hasUi ? reply.type('text/html').sendFile('index.html') : reply.type('text/html').send(MISSING_UI);
  app.get('/', sendUi);
  app.get('/search', sendUi);
  app.get('/trace/:id', sendUi);
  await app.register((await import('./diagnose/routes.ts')).diagnoseRoutes, { backend: opts.backend, uiDir: hasUi ? uiDir : undefined, live: opts.live }); // GET /api/diagnose, /api/findings/live, /findings

  app.setNotFoundHandler(async (req, reply) => {
    // A route the UI owns (any page of a single-page app: the Jaeger UI's /dependencies, /monitor,
    // /search?…) is answered by the UI, never by the upstream Jaeger (whose own UI would take over).
    if (hasUi && uiOwns(req)) {
      const path = (req.raw.url ?? '/').split('?')[0]!;
      const below = uiFileBelowPage(uiDir, path);
      if (below) return reply.sendFile(below);
      // A missing asset (`/static/x.js`) is a 404, not the page: a browser would run HTML as script.
      if (/\.[a-z0-9]+$/i.test(path)) return reply.code(404).send(jaegerError(404, `no file ${path} in the UI directory`));
      return sendUi(req, reply);
    }
    if (upstream) return passThrough(upstream, req, reply);
    const msg = `no route ${req.method} ${req.url.split('?')[0]}`;
    if (wantsHtml(req))
      return reply
        .code(404)
        .type('text/html')
        .send(errorPage(404, 'Page not found', `There is no page ${req.url.split('?')[0]}.`));
    return reply.code(404).send(jaegerError(404, msg));
  });
  return app;
}

export interface StartQueryServerOptions extends QueryServerOptions {
  port: number;
  host: string;
}

/** Creates and starts the query server (used by `kubetrail serve` and `kubetrail query`). */
export async function startQueryServer(opts: StartQueryServerOptions): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = await createQueryServer(opts);
  await app.listen({ port: opts.port, host: opts.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, app, close: () => app.close() };
}
