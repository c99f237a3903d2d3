// TraceBackend over Jaeger's query HTTP API (v1 JSON: /api/traces, /api/traces/:id), for when the
// write path exports to Jaeger over OTLP. Jaeger's spans are turned back into SpanRecords: tags
// → attributes (large values joined from their parts), the object from its tags, the kind from `nestLevel`.
import { Attr, type AttrValue, type SpanRole, type SpanRecord } from '../../src/core/model.ts';
import { log } from '../../src/core/log.ts';
import { joinAttributes } from '../../src/core/attr-chunks.ts';
import { HttpError } from '../../src/core/http-error.ts';
import type { DataSummary, FoundObject, ObjectQuery, SpanScan, TraceBackend } from './backend.ts';
import { findInSpans } from './find-objects.ts';
import { scanFactsTraces, type FactsTrace } from './jaeger-facts.ts';
import { FACTS_SERVICE_SUFFIX } from '../../src/core/fact-spans.ts';

export interface JaegerBackendOptions {
  /** Base URL of the Jaeger query service, e.g. http://127.0.0.1:16686 */
  url: string;
  /** The service name the write path exports as (src/sinks/otlp.ts SERVICE_NAME). */
  service?: string;
  timeoutMs?: number;
  /** Traces per search page of the sweeps of clusters() and summary() (default CLUSTER_PAGE). */
  clusterPageSize?: number;
  /**
   * How far back clusters() and summary() look for object spans (default: all data, down to the
   * Unix epoch). A store that cannot search far back (Elasticsearch without read aliases lists one
   * index per day of the range) wants this set.
   */
  lookbackSec?: number;
  /**
   * The write path's window size (default 30 min). Jaeger matches spans by start time, and an
   * object span starts at its window's start, so searches begin one window earlier.
   */
  windowSec?: number;
}

interface JTag {
  key: string;
  type?: string;
  value: unknown;
}
interface JSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: string; spanID: string; traceID: string }[];
  startTime: number;
  duration: number;
  tags?: JTag[];
  logs?: unknown[];
  processID?: string;
}
interface JTrace {
  traceID: string;
  spans: JSpan[];
}
interface JResponse<T> {
  data: T | null;
  errors?: { code: number; msg: string }[] | null;
}

/** Raw traces asked of Jaeger in one GET (URL stays ~4 KB), and GETs in flight. */
const TRACES_PER_REQUEST = 100;
const PARALLEL_REQUESTS = 4;
/** clusters(): traces per search page, pages at most, and how long an answer is reused. */
const CLUSTER_PAGE = 1000;
const CLUSTER_PAGES = 200;
const CLUSTER_TTL_MS = 30_000;
/** summary(): existence probes at most (each end takes ~2·log2(distance / window)), and sweep searches for the namespaces. */
const SUMMARY_PROBES = 160;
const SUMMARY_SWEEP_SEARCHES = 50;

/** Tags the OTLP → Jaeger path adds that are not kubetrail attributes. */
const FOREIGN_TAGS = new Set([
  'error',
  'otel.status_code',
  'otel.status_description',
  'span.kind',
  'internal.span.format',
  'otel.scope.name',
  'otel.scope.version',
  'otel.library.name',
  'otel.library.version',
]);

function tagValue(t: JTag): AttrValue {
  const v = t.value;
  if (typeof v === 'boolean' || typeof v === 'number') return v;
  if (t.type === 'bool') return v === 'true' || v === true;
  if ((t.type === 'int64' || t.type === 'float64') && typeof v === 'string' && v !== '' && !Number.isNaN(Number(v))) return Number(v);
  return String(v);
}

/** One Jaeger JSON span → SpanRecord; undefined when it is not a kubetrail span. */
export function fromJaegerSpan(s: JSpan): SpanRecord | undefined {
  const raw: Record<string, AttrValue> = {};
  for (const t of s.tags ?? []) raw[t.key] = tagValue(t);
  // values the OTLP export split into parts (src/core/attr-chunks.ts) are whole again here
  const tags = new Map(Object.entries(joinAttributes(raw)));
  const str = (k: string): string => {
    const v = tags.get(k);
    return v === undefined ? '' : String(v);
  };
  if (!tags.has(Attr.cluster) || !tags.has(Attr.resource) || !tags.has(Attr.name)) return undefined;
  const parent = s.references?.find((r) => r.refType === 'CHILD_OF')?.spanID;
  const nest = str(Attr.nestLevel);
  const kind: SpanRole = nest === 'object' || nest === 'event' || nest === 'link' ? nest : !parent ? 'object' : tags.has(Attr.linkKey) ? 'link' : 'event';
  const attributes: Record<string, AttrValue> = {};
  for (const [k, v] of tags) if (!FOREIGN_TAGS.has(k)) attributes[k] = v;
  // A stored string `error` attribute (Status reason) is overwritten by OTLP's `error=true`; the
  // message survives as the status description. The write path sets the span's error and its
  // `error` attribute together, to the same text (src/pipeline/steps/audit-attributes.ts), so both
  // come back from it.
  const errTag = tags.get('error');
  const error =
    typeof errTag === 'string' && errTag !== '' && errTag !== 'true'
      ? errTag
      : tags.has('otel.status_description')
        ? str('otel.status_description')
        : undefined;
  if (error !== undefined && error !== '') attributes[Attr.error] = error;
  const rec: SpanRecord = {
    traceId: s.traceID.padStart(32, '0'),
    spanId: s.spanID.padStart(16, '0'),
    kind,
    name: s.operationName,
    startUs: s.startTime,
    endUs: s.startTime + s.duration,
    object: {
      cluster: str(Attr.cluster),
      group: str(Attr.group),
      resource: str(Attr.resource),
      namespace: str(Attr.namespace),
      name: str(Attr.name),
    },
    attributes,
  };
  if (parent) rec.parentSpanId = parent.padStart(16, '0');
  if (error) rec.error = error;
  return rec;
}

/** Jaeger is down or failed: the query server answers 502 (the proxy works, its upstream does not). */
export class JaegerUnavailableError extends HttpError {
  constructor(message: string, cause?: unknown) {
    super(502, message, { cause });
    this.name = 'JaegerUnavailableError';
  }
}

export class JaegerBackend implements TraceBackend {
  readonly url: string;
  readonly service: string;
  readonly #timeoutMs: number;
  readonly #lookbackSec: number;
  readonly #windowSec: number;
  #clusterCache: { at: number; list: string[] } | undefined;
  readonly #summaryCache = new Map<string, { at: number; answer: Promise<DataSummary> }>();
  readonly #clusterPage: number;

  constructor(opts: JaegerBackendOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.service = opts.service ?? 'kubetrail';
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#lookbackSec = opts.lookbackSec ?? Infinity;
    this.#clusterPage = opts.clusterPageSize ?? CLUSTER_PAGE;
    this.#windowSec = opts.windowSec ?? 1800;
  }

  async #get<T>(path: string, params?: Record<string, string>): Promise<{ status: number; body: JResponse<T> | undefined }> {
    const u = new URL(this.url + path);
    for (const [k, v] of Object.entries(params ?? {})) u.searchParams.set(k, v);
    let res: Response;
    try {
      res = await fetch(u, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (e) {
      throw new JaegerUnavailableError(`Jaeger query service ${this.url} unreachable: ${(e as Error).message}`, e);
    }
    const text = await res.text();
    let body: JResponse<T> | undefined;
    try {
      body = JSON.parse(text) as JResponse<T>;
    } catch {
      body = undefined;
    }
    if (!res.ok && res.status !== 404) {
      const msg = body?.errors?.map((e) => e.msg).join('; ') || text.slice(0, 200);
      throw new JaegerUnavailableError(`Jaeger ${u.pathname} answered ${res.status}: ${msg}`);
    }
    return { status: res.status, body };
  }

  async getRawTrace(traceId: string): Promise<SpanRecord[]> {
    const { status, body } = await this.#get<JTrace[]>(`/api/traces/${encodeURIComponent(traceId)}`);
    if (status === 404 || !body?.data) return [];
    const out: SpanRecord[] = [];
    for (const t of body.data) {
      for (const s of t.spans ?? []) {
        const r = fromJaegerSpan(s);
        if (r) out.push(r);
      }
    }
    return out;
  }

  /**
   * Many raw traces in few requests: Jaeger's search takes repeated `traceID` parameters and answers
   * the traces it has (one GET per raw trace made a 1,000-pod tree ~5x slower).
   */
  async getRawTraces(traceIds: string[]): Promise<SpanRecord[][]> {
    const byId = new Map<string, SpanRecord[]>();
    const unique = [...new Set(traceIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += TRACES_PER_REQUEST) chunks.push(unique.slice(i, i + TRACES_PER_REQUEST));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const u = new URLSearchParams();
        for (const id of chunk) u.append('traceID', id);
        const { status, body } = await this.#get<JTrace[]>(`/api/traces?${u}`);
        if (status === 404) continue;
        for (const t of body?.data ?? []) {
          const spans: SpanRecord[] = [];
          for (const s of t.spans ?? []) {
            const r = fromJaegerSpan(s);
            if (r) spans.push(r);
          }
          byId.set(t.traceID.toLowerCase().padStart(32, '0'), spans);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, chunks.length) }, worker));
    return traceIds.map((id) => byId.get(id.toLowerCase()) ?? []);
  }

  async findObjects(q: ObjectQuery): Promise<FoundObject[]> {
    const tags: Record<string, string> = { [Attr.nestLevel]: 'object' };
    for (const k of ['cluster', 'group', 'namespace', 'name'] as const) if (q[k] !== undefined) tags[k] = q[k]!;
    // a name glob (`web-*`) is not a Jaeger tag value: filtered here (findInSpans), client-side
    if (tags.name?.includes('*')) delete tags.name;
    const params: Record<string, string> = {
      service: this.service,
      tags: JSON.stringify(tags),
      start: String(Math.max(0, Math.floor(q.startUs - this.#windowSec * 1e6))),
      end: String(Math.ceil(q.endUs)),
      // One trace per (object, window): ask for enough traces to cover several windows per object.
      limit: String(Math.min(Math.max(q.limit * 4, 20), 10_000)),
    };
    // The object span's name is its resource: let Jaeger's operation index narrow the search.
    if (q.resource !== undefined) params.operation = q.resource;
    const { body } = await this.#get<JTrace[]>('/api/traces', params);
    const spans: SpanRecord[] = [];
    for (const t of body?.data ?? []) {
      for (const s of t.spans ?? []) {
        const r = fromJaegerSpan(s);
        if (r) spans.push(r);
      }
    }
    return findInSpans(spans, q);
  }

  /**
   * The diagnosis range scan: one search for the object spans of the range (Jaeger answers whole
   * traces, i.e. each (object, window) with its events and links). More raw traces than
   * `maxScanTraces` is an error rather than a silently partial answer.
   */
  async *scanSpans(q: SpanScan, maxScanTraces = 10_000): AsyncIterable<SpanRecord[]> {
    const tags: Record<string, string> = { [Attr.nestLevel]: 'object' };
    if (q.cluster !== undefined) tags[Attr.cluster] = q.cluster;
    const { body } = await this.#get<JTrace[]>('/api/traces', {
      service: this.service,
      tags: JSON.stringify(tags),
      start: String(Math.max(0, Math.floor(q.startUs - this.#windowSec * 1e6))),
      end: String(Math.ceil(q.endUs)),
      limit: String(maxScanTraces),
    });
    const traces = body?.data ?? [];
    if (traces.length >= maxScanTraces) {
      throw new Error(`more than ${maxScanTraces} raw traces in the range in Jaeger: narrow the time range (--since/--until) or the cluster`);
    }
    for (const t of traces) {
      const out: SpanRecord[] = [];
      for (const s of t.spans ?? []) {
        const r = fromJaegerSpan(s);
        if (!r || r.kind === 'object') continue;
        if (q.namespace !== undefined && r.object.namespace !== q.namespace && r.object.namespace !== '') continue;
        out.push(r);
      }
      yield out;
    }
  }

  /**
   * The diagnosis' facts of the range, from the facts traces the write path exports beside the spans
   * (`<service>-facts`, src/core/fact-spans.ts): a few searches whatever the number of raw traces.
   * Undefined when the range has none (data written before facts existed): scanSpans then.
   */
  scanFacts(q: SpanScan): Promise<AsyncIterable<SpanRecord[]> | undefined> {
    const search = async (tags: Record<string, string>, from: number, to: number, limit: number): Promise<FactsTrace[]> => {
      const params = { service: this.service + FACTS_SERVICE_SUFFIX, tags: JSON.stringify(tags), start: String(from), end: String(to), limit: String(limit) };
      const { body } = await this.#get<JTrace[]>('/api/traces', params);
      return body?.data ?? [];
    };
    // link spans start at their window's start; nothing starts later than one window from now
    const from = Math.max(0, Math.floor(q.startUs - this.#windowSec * 1e6));
    const to = Math.floor(Math.min(q.endUs, Date.now() * 1000 + this.#windowSec * 1e6));
    return scanFactsTraces(search, { cluster: q.cluster, from, to }, () => this.clusters());
  }

  /**
   * Every cluster that has data, however old (down to the lookback). Jaeger indexes no tag values:
   * the object spans are swept (#sweep) and their cluster tags collected; a sweep that stayed full
   * somewhere may miss a small cluster there, and the log says so. The answer is kept for
   * CLUSTER_TTL_MS.
   */
  async clusters(): Promise<string[]> {
    const cached = this.#clusterCache;
    if (cached && Date.now() - cached.at < CLUSTER_TTL_MS) return cached.list;
    const set = new Set<string>();
    const { from, to } = this.#searchBounds();
    const { complete, searches } = await this.#sweep({}, from, to, CLUSTER_PAGES, (sp) => {
      const c = sp.tags?.find((x) => x.key === Attr.cluster)?.value;
      if (typeof c === 'string' && c !== '') set.add(c);
    });
    if (!complete) log.warn({ searches }, 'clusters over Jaeger: some searches stayed full, the list may miss a small cluster');
    const list = [...set].sort();
    this.#clusterCache = { at: Date.now(), list };
    return list;
  }

  /**
   * The time range and namespaces of the data (of one cluster, or all), for the UI's "all data"
   * range and namespace list. Jaeger has no min/max-time or tag-values API and answers searches in
   * no guaranteed order, so:
   * - the newest and the oldest object span are found with existence probes (`limit=1` searches):
   *   from now back in doubling steps until one finds data, then a binary search between the last
   *   empty and the first non-empty range (the span a probe returns is itself a data point, which
   *   narrows the search further); the oldest the same way down from the newest, each probe ending
   *   at the lookback (`lookbackSec`, default the Unix epoch) so that an empty one proves there is
   *   nothing older. Object spans start at their window's start, so this takes about
   *   2·log2(distance / window) probes per end, at most SUMMARY_PROBES in all;
   * - the namespaces are collected by sweeping the object spans between the two (#sweep, at most
   *   SUMMARY_SWEEP_SEARCHES searches). With more data than that sees, the list may be partial
   *   (the log says so), the range is not.
   * Data newer than now + one window or older than the lookback is not seen. Kept for
   * CLUSTER_TTL_MS per cluster.
   */
  summary(cluster?: string): Promise<DataSummary> {
    const key = cluster ?? '';
    const cached = this.#summaryCache.get(key);
    if (cached && Date.now() - cached.at < CLUSTER_TTL_MS) return cached.answer;
    const answer = this.#summarize(key === '' ? undefined : key);
    this.#summaryCache.set(key, { at: Date.now(), answer });
    answer.catch(() => {
      if (this.#summaryCache.get(key)?.answer === answer) this.#summaryCache.delete(key);
    });
    return answer;
  }

  async #summarize(cluster: string | undefined): Promise<DataSummary> {
    const tags: Record<string, string> = cluster !== undefined ? { [Attr.cluster]: cluster } : {};
    const { from: floor, to: ceiling } = this.#searchBounds();
    const windowUs = this.#windowSec * 1e6;
    const namespaces = new Set<string>();
    const seen = (sp: JSpan): void => {
      const ns = sp.tags?.find((x) => x.key === Attr.namespace)?.value;
      if (typeof ns === 'string' && ns !== '') namespaces.add(ns);
    };
    let probes = 0;
    /** The start of an object span in [from, to] (a data point), or undefined when there is none. */
    const probe = async (from: number, to: number): Promise<JSpan | undefined> => {
      probes++;
      const traces = await this.#search(tags, from, to, 1);
      for (const t of traces) {
        for (const sp of t.spans ?? []) seen(sp);
        const obj = t.spans?.find((sp) => sp.tags?.some((x) => x.key === Attr.nestLevel && x.value === 'object'));
        // the store matched this span by its start time: keep it inside the range whatever it says
        if (obj) return { ...obj, startTime: Math.min(Math.max(obj.startTime, from), to) };
      }
      return undefined;
    };
    const budgetLeft = (): boolean => probes < SUMMARY_PROBES;

    // The newest: no data in (top, ceiling]; `newest` is a data point once found.
    let top = ceiling;
    let newest: JSpan | undefined;
    for (let d = windowUs; !newest && budgetLeft(); d *= 2) {
      const from = Math.max(floor, top - d + 1);
      newest = await probe(from, top);
      if (newest) break;
      if (from <= floor) return { namespaces: [] };
      top = from - 1;
    }
    if (!newest) {
      log.warn({ probes }, 'summary over Jaeger: no data found within the probe budget');
      return { namespaces: [] };
    }
    while (top > newest.startTime && budgetLeft()) {
      const gap = top - newest.startTime;
      const mid = gap <= windowUs ? newest.startTime + 1 : newest.startTime + Math.ceil(gap / 2);
      const found = await probe(mid, top);
      if (found) newest = found;
      else if (gap <= windowUs) break;
      else top = mid - 1;
    }

    // The oldest: no data in [floor, bottom]; down from the newest in doubling steps, then binary.
    let oldest = newest;
    let bottom = floor - 1;
    for (let d = windowUs; budgetLeft(); d *= 2) {
      const to = oldest.startTime - d;
      if (to <= bottom) break;
      const found = await probe(bottom + 1, to);
      if (!found) {
        bottom = to;
        break;
      }
      oldest = found;
    }
    while (oldest.startTime - bottom > 1 && budgetLeft()) {
      const gap = oldest.startTime - bottom;
      const mid = gap <= windowUs + 1 ? oldest.startTime - 1 : bottom + Math.floor(gap / 2);
      const found = await probe(bottom + 1, mid);
      if (found) oldest = found;
      else if (gap <= windowUs + 1) break;
      else bottom = mid;
    }
    const exact = budgetLeft();
    if (!exact) log.warn({ probes }, 'summary over Jaeger: probe budget spent, the data range may be narrower than the data');

    const { complete, searches } = await this.#sweep(tags, oldest.startTime, newest.startTime, SUMMARY_SWEEP_SEARCHES, seen);
    if (!complete) log.warn({ searches, cluster }, 'summary over Jaeger: some searches stayed full, the namespace list may be partial');
    log.debug({ cluster, probes, searches }, 'summary over Jaeger');
    return {
      firstUs: oldest.startTime,
      lastUs: newest.startTime + (newest.duration || windowUs),
      namespaces: [...namespaces].sort(),
    };
  }

  /** [lookback floor, now + one window] in Unix µs: object spans start at most one window ago. */
  #searchBounds(): { from: number; to: number } {
    const to = Date.now() * 1000 + this.#windowSec * 1e6;
    const from = this.#lookbackSec === Infinity ? 0 : Math.max(0, to - this.#lookbackSec * 1e6);
    return { from: Math.floor(from), to: Math.floor(to) };
  }

  /** One search for object spans (with `tags`) starting in [from, to] (µs, inclusive): whole traces. */
  async #search(tags: Record<string, string>, from: number, to: number, limit: number, operation?: string): Promise<JTrace[]> {
    const params: Record<string, string> = {
      service: this.service,
      tags: JSON.stringify({ [Attr.nestLevel]: 'object', ...tags }),
      start: String(Math.floor(from)),
      end: String(Math.floor(to)),
      limit: String(limit),
    };
    if (operation !== undefined) params.operation = operation;
    const { body } = await this.#get<JTrace[]>('/api/traces', params);
    return body?.data ?? [];
  }

  /**
   * Visits every span of the traces whose object span (with `tags`) starts in [from, to], splitting
   * the search because Jaeger answers at most a page, in no guaranteed order: a search that answers
   * fewer traces than a page saw all there; a full one is split in two halves of time, down to one
   * window (object spans all start at their window's start, so time cannot split a window), then
   * per operation (the object span's name is its resource). At most `maxSearches` searches, newest
   * parts first; `complete` is false when a part stayed full (more than a page of one resource in
   * one window) or the searches ran out — then some traces were not visited.
   */
  async #sweep(
    tags: Record<string, string>,
    from: number,
    to: number,
    maxSearches: number,
    visit: (span: JSpan) => void,
  ): Promise<{ complete: boolean; searches: number }> {
    const windowUs = this.#windowSec * 1e6;
    const todo: { from: number; to: number; operation?: string }[] = [{ from, to }];
    let operations: string[] | undefined;
    let searches = 0;
    let complete = true;
    while (todo.length > 0) {
      if (searches >= maxSearches) {
        complete = false;
        break;
      }
      const part = todo.pop()!;
      searches++;
      const traces = await this.#search(tags, part.from, part.to, this.#clusterPage, part.operation);
      for (const t of traces) for (const sp of t.spans ?? []) visit(sp);
      if (traces.length < this.#clusterPage) continue;
      if (part.to - part.from >= windowUs) {
        const mid = Math.floor((part.from + part.to) / 2);
        todo.push({ from: part.from, to: mid, operation: part.operation }, { from: mid + 1, to: part.to, operation: part.operation }); // newest half first
      } else if (part.operation === undefined) {
        operations ??= await this.#operations();
        for (const operation of operations) todo.push({ ...part, operation });
      } else {
        complete = false;
      }
    }
    return { complete, searches };
  }

  /** Span names of the kubetrail service in Jaeger (object spans are named by their resource). */
  async #operations(): Promise<string[]> {
    const { body } = await this.#get<string[]>(`/api/services/${encodeURIComponent(this.service)}/operations`);
    return (body?.data ?? []).filter((n) => /^[a-z0-9.-]+$/.test(n));
  }

  async close(): Promise<void> {}
}
