// Turns one event on one object into spans of that object's (object, window) trace:
// the object span (once per process per window), the event span, and link spans in both
// objects' traces (once per (pair, class, window)). All IDs are derived (src/core/ids.ts), so another
// process, a replay or a redelivery produces the same spans.
// The object span's content is a function of (object key, window) only: several writers write it
// (each Kafka tracer that traces the object or links to it, a replay), and the last write wins in
// Jaeger and the store. Facts of an event (the object's API version, its uid) are on event spans.
// "Already emitted" is asked of an EmittedMarks the caller passes: the pipeline's transaction
// (src/pipeline/transaction.ts) records new marks only once the sink acknowledged the spans.
import { LRUCache } from 'lru-cache';
import { eventSpanId, linkSpanId, objectSpanId, rawTraceId, windowStartSec } from '../core/ids.ts';
import { Attr, objectKey } from '../core/model.ts';
import type { AttrValue, Link, ObjectRef, SpanRecord } from '../core/model.ts';

export interface EventInput {
  ref: ObjectRef;
  /** API version of the object ('v1'), '' when unknown. */
  version: string;
  uid?: string;
  /** Stable identity of the event: audit ID, `event/<uid>/<count>`, `watch/<uid>/<rv>`. */
  eventId: string;
  name: string;
  startUs: number;
  endUs: number;
  /** Event-specific attributes; the object tags and nestLevel are added here. */
  attributes: Record<string, AttrValue>;
  error?: string;
  links: Link[];
}

export interface WindowTrace {
  traceId: string;
  spanId: string;
}

/** Which object spans ((object, window)) and link spans ((owner, other, class, window)) were emitted. */
export interface EmittedMarks {
  objectSpan(id: string): WindowTrace | undefined;
  markObjectSpan(id: string, t: WindowTrace): void;
  linkSpan(id: string): boolean;
  markLinkSpan(id: string): void;
}

/**
 * The committed marks: two LRUs bounded by entries only. An entry is a short key (+ two hex IDs),
 * ~150–250 bytes, so `cacheSize` of each stays in the tens of MB. Losing one re-emits a span under
 * the same derived ID.
 */
export class LruMarks implements EmittedMarks {
  // (object key, window) → IDs; presence means the object span was emitted.
  readonly #objects: LRUCache<string, WindowTrace>;
  // (owner key, other key, class, window) of link spans already emitted.
  readonly #links: LRUCache<string, true>;

  constructor(cacheSize: number) {
    this.#objects = new LRUCache({ max: cacheSize });
    this.#links = new LRUCache({ max: cacheSize });
  }

  objectSpan(id: string): WindowTrace | undefined {
    return this.#objects.get(id);
  }

  markObjectSpan(id: string, t: WindowTrace): void {
    this.#objects.set(id, t);
  }

  linkSpan(id: string): boolean {
    return this.#links.has(id);
  }

  markLinkSpan(id: string): void {
    this.#links.set(id, true);
  }
}

const INVERSE = { parent: 'child', child: 'parent' } as const;

/**
 * Shortest span: 1 µs (Jaeger's unit). An Event, a watch change or an audit event whose request
 * and stage timestamps are equal would otherwise last 0 µs, which Jaeger v2 reports as
 * "Negative duration detected"; 1 µs is real, and shifts no start time. IDs do not depend on it.
 */
export const MIN_SPAN_US = 1;

export class SpanBuilder {
  readonly windowSec: number;

  constructor(windowSec: number) {
    this.windowSec = windowSec;
  }

  event(input: EventInput, marks: EmittedMarks, out: SpanRecord[] = []): SpanRecord[] {
    const key = objectKey(input.ref);
    const ws = windowStartSec(input.startUs, this.windowSec);
    const trace = this.#objectSpan(marks, input.ref, key, ws, out);
    const attributes: Record<string, AttrValue> = objectTags(input.ref, input.version, 'event');
    if (input.uid) attributes[Attr.uid] = input.uid;
    Object.assign(attributes, input.attributes);
    const span: SpanRecord = {
      traceId: trace.traceId,
      spanId: eventSpanId(input.eventId, key),
      parentSpanId: trace.spanId,
      kind: 'event',
      name: input.name,
      startUs: input.startUs,
      endUs: Math.max(input.endUs, input.startUs + MIN_SPAN_US),
      object: input.ref,
      attributes,
    };
    if (input.error) span.error = input.error;
    out.push(span);
    for (const link of input.links) this.#link(marks, input.ref, key, input.version, link, ws, input.startUs, out);
    return out;
  }

  #objectSpan(marks: EmittedMarks, ref: ObjectRef, key: string, ws: number, out: SpanRecord[]): WindowTrace {
    const id = `${key}|${ws}`;
    let t = marks.objectSpan(id);
    if (t) return t;
    t = { traceId: rawTraceId(key, ws), spanId: objectSpanId(key, ws) };
    marks.markObjectSpan(id, t);
    const attributes = objectTags(ref, undefined, 'object');
    out.push({
      traceId: t.traceId,
      spanId: t.spanId,
      kind: 'object',
      name: ref.resource,
      startUs: ws * 1e6,
      endUs: (ws + this.windowSec) * 1e6,
      object: ref,
      attributes,
    });
    return t;
  }

  #link(marks: EmittedMarks, ref: ObjectRef, key: string, version: string, link: Link, ws: number, atUs: number, out: SpanRecord[]): void {
    const otherKey = objectKey(link.target);
    if (otherKey === key) return;
    this.#linkSpan(marks, ref, key, version, otherKey, link, link.role, ws, atUs, out);
    this.#linkSpan(marks, link.target, otherKey, '', key, link, INVERSE[link.role], ws, atUs, out);
  }

  #linkSpan(
    marks: EmittedMarks,
    ref: ObjectRef,
    key: string,
    version: string,
    otherKey: string,
    link: Link,
    role: 'parent' | 'child',
    ws: number,
    atUs: number,
    out: SpanRecord[],
  ): void {
    const cls = link.class;
    const id = `${key}|${otherKey}|${cls}|${ws}`;
    if (marks.linkSpan(id)) return;
    marks.markLinkSpan(id);
    const trace = this.#objectSpan(marks, ref, key, ws, out);
    const attributes = objectTags(ref, version, 'link');
    attributes[Attr.linkClass] = cls;
    attributes[Attr.linkRole] = role;
    attributes[Attr.linkKey] = otherKey;
    if (link.controller) attributes[Attr.linkController] = true;
    out.push({
      traceId: trace.traceId,
      spanId: linkSpanId(key, otherKey, cls, ws),
      parentSpanId: trace.spanId,
      kind: 'link',
      name: `link ${cls}`,
      startUs: atUs,
      endUs: Math.max((ws + this.windowSec) * 1e6, atUs + MIN_SPAN_US),
      object: ref,
      attributes,
    });
  }
}

/** The object's identity; `version` (the API version an event saw) on event and link spans only. */
function objectTags(ref: ObjectRef, version: string | undefined, nestLevel: 'object' | 'event' | 'link'): Record<string, AttrValue> {
  const tags: Record<string, AttrValue> = {
    [Attr.cluster]: ref.cluster,
    [Attr.group]: ref.group,
    [Attr.resource]: ref.resource,
    [Attr.namespace]: ref.namespace,
    [Attr.name]: ref.name,
    [Attr.nestLevel]: nestLevel,
  };
  if (version !== undefined) tags[Attr.version] = version;
  return tags;
}
