// Request parsing shared by the query server's route groups: Jaeger's search parameters (tags in
// JSON or logfmt, Unix-microsecond ranges, lookback, limit), /redirect's `ts`, the display mode a
// service name stands for. Bad input is an HttpError 400 that says what was wrong.
import { parseDurationSec } from '../../src/core/duration.ts';
import { HttpError } from '../../src/core/http-error.ts';
import type { SearchRequest } from '../query.ts';
import { parseServiceName, serviceNames } from '../trace-id.ts';
import type { SearchQuery } from './schemas.ts';

export const DEFAULT_LOOKBACK_SEC = 3600;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1500;
const FILTER_TAGS = ['cluster', 'group', 'resource', 'namespace', 'name'] as const;

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

export function parseMicros(name: string, v: string | undefined): number | undefined {
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

export function parseMode(service: string | undefined) {
  const m = parseServiceName(service);
  if (!m) throw new HttpError(400, `unknown service (display mode) ${JSON.stringify(service)}; one of: ${serviceNames().join(', ')}`);
  return m;
}

/** Jaeger UI's "all" operations. */
export function clusterFilter(op: string | undefined): string | undefined {
  return op === undefined || op === '' || op === 'all' ? undefined : op;
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
