// Large string attributes (snapshots, diffs of big objects) as trace stores can keep them: split into
// parts of at most STORED_PART_BYTES UTF-8 bytes on the way out (OTLP export), joined again on the way
// in (the Jaeger read side). The SpanRecord model always holds whole values; only the OTLP wire and
// the stores behind it see parts.
//
// Why 32,000 bytes (docs/otlp-export.md, "Trace store limits"): Jaeger's badger storage writes every
// tag, process tag and log field as an index *key* `<service><tag key><tag value>` + 25 bytes, and
// badger refuses keys above 65,000 bytes — for the whole span, after Jaeger already acknowledged it.
// Lucene (Elasticsearch, OpenSearch) refuses a single indexed term above 32,766 bytes where a mapping
// indexes long values. Cassandra does not index tag values above 256 bytes, so parts pass there too.
//
// Encoding of a value of key `k` cut into n > 1 parts: `k` holds part 1 (so a plain Jaeger UI still
// shows the start), `k.part.2` … `k.part.<n>` the rest, and `k.parts` the count n.
import { Buffer } from 'node:buffer';
import type { AttrValue } from './model.ts';

/** Largest UTF-8 bytes of one stored attribute value (part). */
export const STORED_PART_BYTES = 32_000;

const PARTS = '.parts';
const partKey = (key: string, i: number) => `${key}.part.${i}`;

/** `value` cut into pieces of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitUtf8(value: string, maxBytes: number): string[] {
  // a string of n UTF-16 units has at most 3n UTF-8 bytes
  if (value.length * 3 <= maxBytes) return [value];
  const buf = Buffer.from(value, 'utf8');
  if (buf.length <= maxBytes) return [value];
  const out: string[] = [];
  for (let start = 0; start < buf.length; ) {
    let end = Math.min(buf.length, start + maxBytes);
    // back off continuation bytes (10xxxxxx) so the cut falls before a character's first byte
    while (end < buf.length && end > start && (buf[end]! & 0xc0) === 0x80) end--;
    out.push(buf.toString('utf8', start, end));
    start = end;
  }
  return out;
}

/** The attributes with every string value above `maxBytes` split into parts; the same object when none is. */
export function splitAttributes(attrs: Record<string, AttrValue>, maxBytes = STORED_PART_BYTES): Record<string, AttrValue> {
  let out: Record<string, AttrValue> | undefined;
  for (const k in attrs) {
    const v = attrs[k];
    if (typeof v !== 'string' || v.length * 3 <= maxBytes) continue;
    const parts = splitUtf8(v, maxBytes);
    if (parts.length === 1) continue;
    out ??= { ...attrs };
    out[k] = parts[0]!;
    for (let i = 1; i < parts.length; i++) out[partKey(k, i + 1)] = parts[i]!;
    out[k + PARTS] = parts.length;
  }
  return out ?? attrs;
}

/**
 * The attributes with split values joined again and the part keys removed; the same object when
 * nothing was split. A part the store lost is not papered over: the value ends with a marker naming it.
 */
export function joinAttributes(attrs: Record<string, AttrValue>): Record<string, AttrValue> {
  let out: Record<string, AttrValue> | undefined;
  for (const pk in attrs) {
    if (!pk.endsWith(PARTS)) continue;
    const n = Number(attrs[pk]);
    const k = pk.slice(0, -PARTS.length);
    if (!Number.isInteger(n) || n < 2 || typeof attrs[k] !== 'string') continue;
    out ??= { ...attrs };
    const pieces = [attrs[k] as string];
    const missing: number[] = [];
    for (let i = 2; i <= n; i++) {
      const p = attrs[partKey(k, i)];
      if (typeof p === 'string') pieces.push(p);
      else missing.push(i);
      delete out[partKey(k, i)];
    }
    delete out[pk];
    out[k] = pieces.join('') + (missing.length ? `… [kubetrail: part ${missing.join(', ')} of ${n} missing in the trace store]` : '');
  }
  return out ?? attrs;
}
