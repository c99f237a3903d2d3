// Turns one event on one object into spans of that object's (object, window) trace:
// the object span (once per process per window, LRU), the event span, and link spans in both
// objects' traces (once per (pair, class, window)). All IDs are derived (src/core/ids.ts), so another
// process, a replay or a redelivery produces the same spans.
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

interface WindowTrace {
  traceId: string;
  spanId: string;
}

const INVERSE = { parent: 'child', child: 'parent' } as const;

export class SpanBuilder {
  readonly windowSec: number;
  // (object key, window) → IDs; presence means the object span was emitted by this process.
  readonly #objects: LRUCache<string, WindowTrace>;
  // (owner key, other key, class, window) of link spans already emitted.
  readonly #links: LRUCache<string, true>;

  // Both bounded by entries only: an entry is a short key (+ two hex IDs), ~150–250 bytes, so
  // `cacheSize` of each stays in the tens of MB. Losing one re-emits a span under the same derived ID.
  constructor(windowSec: number, cacheSize: number) {
    this.windowSec = windowSec;
    this.#objects = new LRUCache({ max: cacheSize });
    this.#links = new LRUCache({ max: cacheSize });
  }

  event(input: EventInput, out: SpanRecord[] = []): SpanRecord[] {
    const key = objectKey(input.ref);
    const ws = windowStartSec(input.startUs, this.windowSec);
    const trace = this.#objectSpan(input.ref, key, ws, input.version, input.uid, out);
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
      endUs: Math.max(input.endUs, input.startUs),
      object: input.ref,
      attributes,
    };
    if (input.error) span.error = input.error;
    out.push(span);
    for (const link of input.links) this.#link(input.ref, key, input.version, link, ws, input.startUs, out);
    return out;
  }

  #objectSpan(ref: ObjectRef, key: string, ws: number, version: string, uid: string | undefined, out: SpanRecord[]): WindowTrace {
    const id = `${key}|${ws}`;
    let t = this.#objects.get(id);
    if (t) return t;
    t = { traceId: rawTraceId(key, ws), spanId: objectSpanId(key, ws) };
    this.#objects.set(id, t);
    const attributes = objectTags(ref, version, 'object');
    if (uid) attributes[Attr.uid] = uid;
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

  #link(ref: ObjectRef, key: string, version: string, link: Link, ws: number, atUs: number, out: SpanRecord[]): void {
    const otherKey = objectKey(link.target);
    if (otherKey === key) return;
    this.#linkSpan(ref, key, version, otherKey, link.role, link.class, ws, atUs, out);
    this.#linkSpan(link.target, otherKey, '', key, INVERSE[link.role], link.class, ws, atUs, out);
  }

  #linkSpan(
    ref: ObjectRef, key: string, version: string, otherKey: string,
    role: 'parent' | 'child', cls: string, ws: number, atUs: number, out: SpanRecord[],
  ): void {
    const id = `${key}|${otherKey}|${cls}|${ws}`;
    if (this.#links.has(id)) return;
    this.#links.set(id, true);
    const trace = this.#objectSpan(ref, key, ws, version, undefined, out);
    const attributes = objectTags(ref, version, 'link');
    attributes[Attr.linkClass] = cls;
    attributes[Attr.linkRole] = role;
    attributes[Attr.linkKey] = otherKey;
    out.push({
      traceId: trace.traceId,
      spanId: linkSpanId(key, otherKey, cls, ws),
      parentSpanId: trace.spanId,
      kind: 'link',
      name: `link ${cls}`,
      startUs: atUs,
      endUs: (ws + this.windowSec) * 1e6,
      object: ref,
      attributes,
    });
  }
}

function objectTags(ref: ObjectRef, version: string, nestLevel: 'object' | 'event' | 'link'): Record<string, AttrValue> {
  return {
    [Attr.cluster]: ref.cluster,
    [Attr.group]: ref.group,
    [Attr.version]: version,
    [Attr.resource]: ref.resource,
    [Attr.namespace]: ref.namespace,
    [Attr.name]: ref.name,
    [Attr.nestLevel]: nestLevel,
  };
}
