// Large attributes on the OTLP wire (src/core/attr-chunks.ts): every value the export sends is at
// most STORED_PART_BYTES (what Jaeger's badger storage and Lucene accept as one index entry), and the
// Jaeger read side (frontend-plugin/backend/jaeger.ts) gives back the whole value. The real round trip
// through Jaeger with badger storage is test/integration/jaeger-badger-contract.test.ts.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { STORED_PART_BYTES, joinAttributes, splitAttributes, splitUtf8 } from '../../src/core/attr-chunks.ts';
import { toReadableSpan } from '../../src/sinks/otlp-rows.ts';
import { fromJaegerSpan } from '../../frontend-plugin/backend/jaeger.ts';
import type { AttrValue, SpanRecord } from '../../src/core/model.ts';

const mixed = (bytes: number) => 'aé€😀'.repeat(Math.ceil(bytes / 10)); // 1-, 2-, 3- and 4-byte characters

function span(attributes: Record<string, AttrValue>, error?: string): SpanRecord {
  const object = { cluster: 'kwok', group: '', resource: 'configmaps', namespace: 'default', name: 'big' };
  return {
    traceId: 'ab'.repeat(16),
    spanId: 'cd'.repeat(8),
    parentSpanId: 'ef'.repeat(8),
    kind: 'event',
    name: 'create',
    startUs: 1_700_000_000_000_000,
    endUs: 1_700_000_000_000_100,
    object,
    attributes: { ...object, nestLevel: 'event', ...attributes },
    ...(error ? { error } : {}),
  };
}

/** What Jaeger's query API answers for an exported span (tags as its OTLP → v1 translation writes them). */
function asJaegerJson(s: SpanRecord) {
  const r = toReadableSpan(s);
  const tags = Object.entries(r.attributes).map(([key, value]) => ({
    key,
    type: typeof value === 'string' ? 'string' : typeof value === 'number' ? 'int64' : 'bool',
    value,
  }));
  if (r.status.message) tags.push({ key: 'otel.status_description', type: 'string', value: r.status.message });
  return {
    traceID: s.traceId,
    spanID: s.spanId,
    operationName: s.name,
    references: [{ refType: 'CHILD_OF', traceID: s.traceId, spanID: s.parentSpanId! }],
    startTime: s.startUs,
    duration: s.endUs - s.startUs,
    tags,
  };
}

describe('large attributes in parts', () => {
  it('cuts on character boundaries into pieces of at most the limit that join to the value', () => {
    const v = mixed(200_000);
    const parts = splitUtf8(v, STORED_PART_BYTES);
    expect(parts.length).toBeGreaterThan(6);
    for (const p of parts) {
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(STORED_PART_BYTES);
      expect(p).not.toContain('\uFFFD');
    }
    expect(parts.join('')).toBe(v);
    expect(splitUtf8('short', STORED_PART_BYTES)).toEqual(['short']);
  });

  it('leaves small attributes as they are (same object) and splits only the large ones', () => {
    const small = { snapshot: '{"a":1}', code: 201 };
    expect(splitAttributes(small)).toBe(small);
    const out = splitAttributes({ snapshot: 'x'.repeat(70_000), code: 201 });
    expect(out.code).toBe(201);
    expect(out['snapshot.parts']).toBe(3);
    expect(
      Object.keys(out)
        .filter((k) => k.startsWith('snapshot'))
        .sort(),
    ).toEqual(['snapshot', 'snapshot.part.2', 'snapshot.part.3', 'snapshot.parts']);
    expect(joinAttributes(out)).toEqual({ snapshot: 'x'.repeat(70_000), code: 201 });
  });

  it('exports no value above the limit, and the Jaeger read side gives back the span as written', () => {
    const s = span({ snapshot: mixed(1024 ** 2), diff: mixed(300_000), 'diff.entries': '[]', code: 409 }, `Conflict: ${mixed(100_000)}`);
    s.attributes.error = s.error!;
    const exported = toReadableSpan(s);
    for (const v of Object.values(exported.attributes)) if (typeof v === 'string') expect(Buffer.byteLength(v)).toBeLessThanOrEqual(STORED_PART_BYTES);
    expect(Buffer.byteLength(exported.status.message!)).toBeLessThanOrEqual(STORED_PART_BYTES);
    const back = fromJaegerSpan(asJaegerJson(s))!;
    expect(back.attributes.snapshot).toBe(s.attributes.snapshot);
    expect(back.attributes.diff).toBe(s.attributes.diff);
    expect(back.error).toBe(s.error);
    expect(Object.keys(back.attributes).filter((k) => k.includes('.part'))).toEqual([]);
  });

  it('says so in the value when the store lost a part, instead of showing a silently short value', () => {
    const out = splitAttributes({ snapshot: 'y'.repeat(100_000) });
    delete out['snapshot.part.3'];
    expect(String(joinAttributes(out).snapshot)).toMatch(/^y+… \[kubetrail: part 3 of 4 missing in the trace store\]$/);
  });
});
