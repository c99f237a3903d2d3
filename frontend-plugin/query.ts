// The read path's use cases, independent of HTTP: resolve a display ID, search objects, locate
// an object at a time (for /redirect). server.ts maps these onto the Jaeger query API.
import { keyHash, windowStartSec } from '../src/core/ids.ts';
import { objectKey, type ObjectRef } from '../src/core/model.ts';
import { assemble, ObjectNotFoundError } from './assemble.ts';
import type { FoundObject, TraceBackend } from './backend/backend.ts';
import type { JaegerTrace } from './modes/jaeger-json.ts';
import { transforms } from './modes/index.ts';
import { rawToJaeger } from './modes/raw.ts';
import {
  decodeDisplayId,
  encodeDisplayId,
  isRawTraceId,
  MAX_WINDOWS,
  rawTraceIdOf,
  type DisplayId,
  type DisplayMode,
  type Scope,
} from './trace-id.ts';

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
}

export type Located =
  | { kind: 'found'; id: string; object: ObjectRef; windowStart: number }
  | { kind: 'none' }
  | { kind: 'ambiguous'; candidates: ObjectRef[] };

const DAY_US = 86_400e6;
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
  async getTrace(id: string): Promise<JaegerTrace | undefined> {
    const lower = id.toLowerCase();
    const d = decodeDisplayId(lower);
    if (d) return this.getDisplayTrace(lower, d);
    if (isRawTraceId(lower)) {
      const spans = await this.backend.getRawTrace(lower);
      return spans.length > 0 ? rawToJaeger(lower, spans) : undefined;
    }
    return undefined;
  }

  async getDisplayTrace(id: string, d: DisplayId): Promise<JaegerTrace | undefined> {
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

  /** One assembled trace per matching object. */
  async search(r: SearchRequest): Promise<JaegerTrace[]> {
    const found = (await this.backend.findObjects({ ...r.filter, startUs: r.startUs, endUs: r.endUs, limit: r.limit })).filter(
      (f) => f.windows.length > 0,
    );
    const out: (JaegerTrace | undefined)[] = new Array(found.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < found.length) {
        const i = next++;
        out[i] = await this.getTrace(this.displayIdFor(found[i]!, r.display, r.scope, r));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEARCH_CONCURRENCY, found.length) }, worker));
    return out.filter((t): t is JaegerTrace => t !== undefined);
  }

  /** The object alive at `tsUs` (its window), else the nearest window within ±1 day. */
  async locate(filter: SearchRequest['filter'], tsUs: number, display: DisplayMode = 'tracing', scope: Scope = 'default'): Promise<Located> {
    const ws = windowStartSec(tsUs, this.windowSec);
    let found = await this.backend.findObjects({ ...filter, startUs: ws * 1e6, endUs: (ws + this.windowSec) * 1e6 - 1, limit: 50 });
    if (found.length === 0) {
      found = await this.backend.findObjects({ ...filter, startUs: tsUs - DAY_US, endUs: tsUs + DAY_US, limit: 50 });
    }
    found = found.filter((f) => f.windows.length > 0);
    const distinct = new Map(found.map((f) => [objectKey(f.object), f]));
    if (distinct.size === 0) return { kind: 'none' };
    if (distinct.size > 1) return { kind: 'ambiguous', candidates: [...distinct.values()].map((f) => f.object) };
    const f = [...distinct.values()][0]!;
    const nearest = f.windows.reduce((best, w) =>
      Math.abs(w * 1e6 + this.windowSec * 5e5 - tsUs) < Math.abs(best * 1e6 + this.windowSec * 5e5 - tsUs) ? w : best,
    );
    const id = encodeDisplayId({ display, scope, keyHash: keyHash(objectKey(f.object)), windowStart: nearest, windowCount: 1 });
    return { kind: 'found', id, object: f.object, windowStart: nearest };
  }
}
