// How spans travel from the OTLP transport (main thread) to its export worker (otlp-worker.ts): an array of
// compact rows per batch, structured-cloned by postMessage. Measured on 700 typical spans (main-thread
// cost): clone of rows 1.1 ms, JSON string of rows 1.9 ms, clone of SpanRecords 1.6 ms, JSON of
// SpanRecords 2.5 ms. Rows drop the repeated keys and the `object` ref the exporter does not need.
import { SpanKind, SpanStatusCode, TraceFlags, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Attr, type AttrValue, type SpanRecord, type SpanRole } from '../core/model.ts';
import { STORED_PART_BYTES, splitAttributes, splitUtf8 } from '../core/attr-chunks.ts';
import { FACTS_ATTR, FACTS_SERVICE_SUFFIX, factsSpans, type FactsSpan } from '../core/fact-spans.ts';
import type { FactsBatch, FeedEnd } from './facts-feed.ts';

export const SERVICE_NAME = 'kubetrail';
/** The service of the facts spans (src/core/fact-spans.ts). */
export const FACTS_SERVICE_NAME = SERVICE_NAME + FACTS_SERVICE_SUFFIX;
const RESOURCE = resourceFromAttributes({ 'service.name': SERVICE_NAME });
const FACTS_RESOURCE = resourceFromAttributes({ 'service.name': FACTS_SERVICE_NAME });
const SCOPE = { name: 'kubetrail' };

/** [traceId, spanId, parentSpanId|0, name, startUs, endUs, attributes, error|0] */
export type SpanRow = [string, string, string | 0, string, number, number, Record<string, AttrValue>, string | 0];

/** What the export worker (otlp-worker.ts) is started with. */
export interface OtlpWorkerData {
  endpoint: string;
  timeoutMs: number;
  /** gzip | none; unset: OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION or none. */
  compression?: string;
  /** Where the facts of acknowledged requests go (facts-feed.ts), when a consumer registered one. */
  feed?: FeedEnd;
}

/** SpanRecords → the rows the worker takes. */
export function spansToRows(spans: SpanRecord[]): SpanRow[] {
  const rows: SpanRow[] = new Array(spans.length);
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    rows[i] = [s.traceId, s.spanId, s.parentSpanId ?? 0, s.name, s.startUs, s.endUs, s.attributes, s.error ?? 0];
  }
  return rows;
}

function hrTime(us: number): HrTime {
  const sec = Math.floor(us / 1e6);
  return [sec, Math.round((us - sec * 1e6) * 1000)];
}

/**
 * Span fields → the ReadableSpan shape the OTLP transformer reads, with our derived IDs. String values
 * above STORED_PART_BYTES are split into parts (src/core/attr-chunks.ts); the status message, which
 * Jaeger stores as one more tag, is the error's first part (the whole error is the attribute
 * `otel.status_description`, split like the others).
 */
export function rowToReadableSpan(r: SpanRow, resource = RESOURCE): ReadableSpan {
  const [traceId, spanId, parentSpanId, name, startUs, endUs, attrs, error] = r;
  const attributes = splitAttributes(error ? { ...attrs, error: true, 'otel.status_description': error } : attrs);
  const ctx = { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name,
    kind: SpanKind.INTERNAL,
    spanContext: () => ctx,
    ...(parentSpanId ? { parentSpanContext: { traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED } } : {}),
    startTime: hrTime(startUs),
    endTime: hrTime(endUs),
    duration: hrTime(Math.max(0, endUs - startUs)),
    status: error ? { code: SpanStatusCode.ERROR, message: splitUtf8(error, STORED_PART_BYTES)[0]! } : { code: SpanStatusCode.UNSET },
    attributes,
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as ReadableSpan;
}

/** SpanRecord → ReadableSpan (what the worker builds from a row). */
export function toReadableSpan(s: SpanRecord): ReadableSpan {
  return rowToReadableSpan([s.traceId, s.spanId, s.parentSpanId ?? 0, s.name, s.startUs, s.endUs, s.attributes, s.error ?? 0]);
}

const str = (v: AttrValue | undefined): string => (v === undefined || v === null ? '' : String(v));

/** A row back as the SpanRecord it came from (its object from its attributes, as every span has them). */
function rowToSpan(r: SpanRow): SpanRecord {
  const [traceId, spanId, , name, startUs, endUs, attributes, error] = r;
  const s: SpanRecord = {
    traceId,
    spanId,
    kind: str(attributes[Attr.nestLevel]) as SpanRole,
    name,
    startUs,
    endUs,
    object: {
      cluster: str(attributes[Attr.cluster]),
      group: str(attributes[Attr.group]),
      resource: str(attributes[Attr.resource]),
      namespace: str(attributes[Attr.namespace]),
      name: str(attributes[Attr.name]),
    },
    attributes,
  };
  if (error) s.error = error;
  return s;
}

/** The facts spans of a request's rows (src/core/fact-spans.ts): they travel in the same request. */
export function factsOfRows(rows: SpanRow[]): FactsSpan[] {
  return factsSpans(rows.map(rowToSpan));
}

/** Facts spans as spans of the facts service. */
export function factsReadableSpans(facts: FactsSpan[]): ReadableSpan[] {
  return facts.map((f) => rowToReadableSpan([f.traceId, f.spanId, 0, f.name, f.startUs, f.endUs, f.attributes, 0], FACTS_RESOURCE));
}

/** What the facts feed (facts-feed.ts) carries of facts spans: each one's cluster and payload, and how many facts they hold. */
export function factsBatch(facts: FactsSpan[]): { batch: FactsBatch; count: number } {
  let count = 0;
  const payloads = facts.map((f) => {
    count += f.starts.length;
    return { cluster: String(f.attributes[Attr.cluster]), json: String(f.attributes[FACTS_ATTR]), starts: f.starts };
  });
  return { batch: { payloads }, count };
}
