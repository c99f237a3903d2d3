// The read path's use cases, independent of HTTP: resolve a display ID, search objects, locate
// an object at a time (for /redirect). server.ts maps these onto the Jaeger query API.
import { keyHash, rawTraceId, windowStartSec } from '../src/core/ids.ts';
import { Attr, objectKey, parseObjectKey, type ObjectRef, type SpanRecord } from '../src/core/model.ts';
import { linkOf, verbOf, writerOf } from '../src/core/span-view.ts';
import { classifyFailures, type Failure } from './failures.ts';
import { assemble, ObjectNotFoundError } from './assemble.ts';
import type { FoundObject, TraceBackend } from './backend/backend.ts';
import type { DisplayTrace } from './modes/display.ts';
import { auditOf, eventName } from './modes/jaeger-json.ts';
import { transforms } from './modes/index.ts';
import { rawTrace } from './modes/raw.ts';
import { oneResultPerTree } from './search-results.ts';
import { decodeDisplayId, encodeDisplayId, isRawTraceId, MAX_WINDOWS, rawTraceIdOf, type DisplayId, type DisplayMode, type Scope } from './trace-id.ts';

export interface TraceQueryOptions {
  backend: TraceBackend;
  /** Window size of the write path, in seconds (a multiple of 60). */
  windowSec: number;
  maxObjects?: number;
}

export interface SearchRequest {
  display: DisplayMode;
  scope: Scope;
  filter: Partial<Pick<ObjectRef, 'cluster' | 'group' | 'resource' | 'namespace' | 'name'>>;
  startUs: number;
  endUs: number;
  limit: number;
  /**
   * Free tags (anything but the object keys): an object matches when one of its spans in the range
   * — an event, a link or the object span — carries every one of them (spanFields()).
   */
  match?: Record<string, string>;
}

export type Located = { kind: 'found'; id: string; object: ObjectRef; windowStart: number } | { kind: 'none' } | { kind: 'ambiguous'; candidates: ObjectRef[] };

const DAY_US = 86_400e6;
/** Objects examined (their raw traces read) for the dependency graph of a time range. */
export const DEPENDENCY_OBJECTS = 20_000;

export interface DependencyLink {
  parent: string;
  child: string;
  callCount: number;
}

/** `deployments.apps`, `pods`: the resource an edge of the dependency graph points at. */
export function resourceLabel(o: ObjectRef): string {
  return o.group ? `${o.resource}.${o.group}` : o.resource;
}

/** Objects examined (their raw traces read) to answer a search with free tags. */
export const TAG_SEARCH_CANDIDATES = 5000;
const TAG_SEARCH_CHUNK = 200;

/**
 * The fields a free tag search matches on one raw span: its attributes, the log fields the tracing
 * mode shows on an event (`audit`, `event`, `message`, `code`), `error=true` only for real errors and
 * `failure=expected` for expected ones (failures.ts), and `node=<name>` on a pod→node link and
 * on a node's own spans.
 */
export function spanFields(s: SpanRecord, failure: Failure | undefined): Map<string, string> {
  const f = new Map<string, string>();
  for (const [k, v] of Object.entries(s.attributes)) if (k !== Attr.error) f.set(k, String(v));
  const a = s.attributes;
  if (s.kind === 'event') {
    const audit = auditOf(s);
    if (audit !== undefined) f.set('audit', audit);
    f.set('event', eventName(s));
  }
  if (a[Attr.eventMessage] !== undefined) f.set('message', String(a[Attr.eventMessage]));
  if (failure?.class === 'error') {
    f.set('error', 'true');
    f.set('error.message', failure.message);
  } else if (failure) {
    f.set('failure', 'expected');
    f.set('failure.reason', failure.reason);
    f.set('warning', failure.message);
  }
  const link = linkOf(s);
  if (link?.class === 'node') {
    try {
      const other = parseObjectKey(link.other);
      f.set('node', other.resource === 'nodes' ? other.name : s.object.name);
    } catch {
      // malformed link key: no node field
    }
  }
  if (s.object.resource === 'nodes' && s.object.group === '' && !f.has('node')) f.set('node', s.object.name);
  return f;
}

function spansMatch(spans: SpanRecord[], match: Record<string, string>): boolean {
  const failures = classifyFailures(spans.filter((s) => s.kind === 'event'));
  const wanted = Object.entries(match);
  return spans.some((s) => {
    const f = spanFields(s, failures.get(s.spanId));
    return wanted.every(([k, v]) => f.get(k) === v);
  });
}
/** Assembled traces built at once for one search (each may fetch thousands of raw traces). */
const SEARCH_CONCURRENCY = 4;

export class TraceQuery {
  readonly backend: TraceBackend;
  readonly windowSec: number;
  readonly maxObjects: number | undefined;

  constructor(opts: TraceQueryOptions) {
    if (!(opts.windowSec > 0) || opts.windowSec % 60 !== 0) throw new Error(`window must be a whole number of minutes, got ${opts.windowSec}s`);
    this.backend = opts.backend;
    this.windowSec = opts.windowSec;
    this.maxObjects = opts.maxObjects;
  }

  /** A display ID (assembled in its mode) or a raw trace ID (as stored); undefined when unknown. */
  async getTrace(id: string): Promise<DisplayTrace | undefined> {
    const lower = id.toLowerCase();
    const d = decodeDisplayId(lower);
    if (d) return this.getDisplayTrace(lower, d);
    if (isRawTraceId(lower)) {
      const spans = await this.backend.getRawTrace(lower);
      return spans.length > 0 ? rawTrace(lower, spans) : undefined;
    }
    return undefined;
  }

  async getDisplayTrace(id: string, d: DisplayId): Promise<DisplayTrace | undefined> {
    // The key hash alone gives every window's raw trace ID; the first window with an object span
    // names the object (and its real window size, should this proxy be configured differently).
    let windowSec = this.windowSec;
    let found = await this.#objectSpanOf(d, windowSec, 0);
    if (!found) {
      const rest = await Promise.all(Array.from({ length: d.windowCount - 1 }, (_, i) => this.#objectSpanOf(d, windowSec, i + 1)));
      found = rest.find((r) => r !== undefined);
    }
    if (!found) return undefined;
    if (found.windowSec > 0 && found.windowSec % 60 === 0 && found.index === 0) windowSec = found.windowSec;
    const windows = Array.from({ length: d.windowCount }, (_, i) => d.windowStart + i * windowSec);
    try {
      const assembled = await assemble({
        backend: this.backend,
        key: found.key,
        windows,
        windowSec,
        scope: d.scope,
        maxObjects: this.maxObjects,
      });
      return transforms[d.display](assembled, id);
    } catch (e) {
      if (e instanceof ObjectNotFoundError) return undefined;
      throw e;
    }
  }

  async #objectSpanOf(d: DisplayId, windowSec: number, index: number): Promise<{ key: string; windowSec: number; index: number } | undefined> {
    const spans = await this.backend.getRawTrace(rawTraceIdOf(d, windowSec, index));
    const o = spans.find((s) => s.kind === 'object') ?? spans[0];
    if (!o) return undefined;
    const key = objectKey(o.object);
    if (keyHash(key) !== d.keyHash) return undefined;
    return { key, windowSec: o.kind === 'object' ? Math.round((o.endUs - o.startUs) / 1e6) : 0, index };
  }

  /**
   * The display ID for an object found by a search: it covers every window of the searched range
   * (relatives' history counts even where the object itself was quiet), at most MAX_WINDOWS; a
   * longer range is cut to the windows from the object's first one.
   */
  displayIdFor(f: FoundObject, display: DisplayMode, scope: Scope, range?: { startUs: number; endUs: number }): string {
    let first = f.windows[0]!;
    let last = f.windows[f.windows.length - 1]!;
    if (range) {
      first = Math.min(first, windowStartSec(range.startUs, this.windowSec));
      last = Math.max(last, windowStartSec(Math.max(range.startUs, range.endUs - 1), this.windowSec));
      if ((last - first) / this.windowSec + 1 > MAX_WINDOWS) first = f.windows[0]!;
    }
    const count = Math.min(MAX_WINDOWS, Math.floor((last - first) / this.windowSec) + 1);
    return encodeDisplayId({ display, scope, keyHash: keyHash(objectKey(f.object)), windowStart: first, windowCount: count });
  }

  /**
   * One assembled trace per distinct tree of the matching objects (search-results.ts): in the full
   * tree and ancestors scopes, matched objects under one root share a result that names them.
   */
  async search(r: SearchRequest): Promise<DisplayTrace[]> {
    const found = await this.findMatching(r);
    const out: (DisplayTrace | undefined)[] = new Array(found.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < found.length) {
        const i = next++;
        out[i] = await this.getTrace(this.displayIdFor(found[i]!, r.display, r.scope, r));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEARCH_CONCURRENCY, found.length) }, worker));
    return oneResultPerTree(found.flatMap((f, i) => (out[i] ? [{ object: f.object, trace: out[i] }] : [])));
  }

  /** The objects a search returns: object filter, then the free tags over their spans in the range. */
  async findMatching(r: SearchRequest): Promise<FoundObject[]> {
    const match = r.match && Object.keys(r.match).length > 0 ? r.match : undefined;
    const found = (await this.backend.findObjects({ ...r.filter, startUs: r.startUs, endUs: r.endUs, limit: match ? TAG_SEARCH_CANDIDATES : r.limit })).filter(
      (f) => f.windows.length > 0,
    );
    if (!match) return found;
    const out: FoundObject[] = [];
    for (let i = 0; i < found.length && out.length < r.limit; i += TAG_SEARCH_CHUNK) {
      const chunk = found.slice(i, i + TAG_SEARCH_CHUNK);
      const ids = chunk.map((f) => f.windows.map((ws) => rawTraceId(objectKey(f.object), ws)));
      const flat = ids.flat();
      const raw = await this.backend.getRawTraces(flat);
      let k = 0;
      for (const [j, f] of chunk.entries()) {
        const spans = ids[j]!.flatMap(() => raw[k++]!).filter((s) => s.kind === 'object' || (s.startUs <= r.endUs && s.startUs >= r.startUs));
        if (spansMatch(spans, match) && out.length < r.limit) out.push(f);
      }
    }
    return out;
  }

  /**
   * Who writes which resources in [startUs, endUs]: one edge actor → resource per pair, counting
   * the writes (audit events, and list-watch changes attributed to their field manager; Kubernetes
   * Events are reports, not writes). Jaeger's `/api/dependencies` shape, drawn by the Jaeger UI as
   * System Architecture.
   */
  async dependencies(startUs: number, endUs: number): Promise<DependencyLink[]> {
    const found = (await this.backend.findObjects({ startUs, endUs, limit: DEPENDENCY_OBJECTS })).filter((f) => f.windows.length > 0);
    const counts = new Map<string, DependencyLink>();
    for (let i = 0; i < found.length; i += TAG_SEARCH_CHUNK * 5) {
      const chunk = found.slice(i, i + TAG_SEARCH_CHUNK * 5);
      const ids = chunk.flatMap((f) => f.windows.map((ws) => rawTraceId(objectKey(f.object), ws)));
      const raw = await this.backend.getRawTraces(ids);
      const seen = new Set<string>();
      for (const s of raw.flat()) {
        if (s.kind !== 'event' || s.startUs < startUs || s.startUs > endUs || seen.has(s.spanId)) continue;
        seen.add(s.spanId);
        if (verbOf(s) === '' && s.attributes[Attr.fieldManager] === undefined) continue;
        const parent = writerOf(s);
        if (parent === '') continue;
        const child = resourceLabel(s.object);
        const k = `${parent}\u0000${child}`;
        const link = counts.get(k);
        if (link) link.callCount++;
        else counts.set(k, { parent, child, callCount: 1 });
      }
    }
    return [...counts.values()].sort((a, b) => b.callCount - a.callCount || a.parent.localeCompare(b.parent) || a.child.localeCompare(b.child));
  }

  /**
   * The object around `tsUs`: the windows from `ts` − one window to `ts` + one window, merged (as
   * Kelemetry searches ts ± 30 min) — the same ID a search over that range gives. When the object
   * has nothing there, the nearest window within ±1 day.
   */
  async locate(filter: SearchRequest['filter'], tsUs: number, display: DisplayMode = 'tracing', scope: Scope = 'default'): Promise<Located> {
    const range = { startUs: tsUs - this.windowSec * 1e6, endUs: tsUs + this.windowSec * 1e6 };
    let found = await this.backend.findObjects({ ...filter, ...range, limit: 50 });
    let around = true;
    if (found.length === 0) {
      around = false;
      found = await this.backend.findObjects({ ...filter, startUs: tsUs - DAY_US, endUs: tsUs + DAY_US, limit: 50 });
    }
    found = found.filter((f) => f.windows.length > 0);
    const distinct = new Map(found.map((f) => [objectKey(f.object), f]));
    if (distinct.size === 0) return { kind: 'none' };
    if (distinct.size > 1) return { kind: 'ambiguous', candidates: [...distinct.values()].map((f) => f.object) };
    const f = [...distinct.values()][0]!;
    if (around) {
      const id = this.displayIdFor(f, display, scope, range);
      return { kind: 'found', id, object: f.object, windowStart: decodeDisplayId(id)!.windowStart };
    }
    const nearest = f.windows.reduce((best, w) =>
      Math.abs(w * 1e6 + this.windowSec * 5e5 - tsUs) < Math.abs(best * 1e6 + this.windowSec * 5e5 - tsUs) ? w : best,
    );
    const id = encodeDisplayId({ display, scope, keyHash: keyHash(objectKey(f.object)), windowStart: nearest, windowCount: 1 });
    return { kind: 'found', id, object: f.object, windowStart: nearest };
  }
}
