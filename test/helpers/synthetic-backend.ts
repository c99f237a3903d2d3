// Hand-made raw traces in the write path's shape (one object span per (object, window), event
// spans, mirrored link spans), for unit tests, the benchmark and demos without a cluster.
import { eventSpanId, linkSpanId, objectSpanId, rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { Attr, objectKey, type AttrValue, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';

function tags(o: ObjectRef, nestLevel: string): Record<string, AttrValue> {
  return {
    [Attr.cluster]: o.cluster,
    [Attr.group]: o.group,
    [Attr.resource]: o.resource,
    [Attr.namespace]: o.namespace,
    [Attr.name]: o.name,
    [Attr.nestLevel]: nestLevel,
  };
}

export class SyntheticTraces {
  readonly windowSec: number;
  readonly spans: SpanRecord[] = [];

  constructor(windowSec: number) {
    this.windowSec = windowSec;
  }

  objectSpan(o: ObjectRef, ws: number, uid?: string): SpanRecord {
    const key = objectKey(o);
    const s: SpanRecord = {
      traceId: rawTraceId(key, ws),
      spanId: objectSpanId(key, ws),
      kind: 'object',
      name: o.resource,
      startUs: ws * 1e6,
      endUs: (ws + this.windowSec) * 1e6,
      object: o,
      attributes: { ...tags(o, 'object'), ...(uid ? { [Attr.uid]: uid } : {}) },
    };
    this.spans.push(s);
    return s;
  }

  /** An event on `o` at `atUs`, with its object span (written again: same ID, de-duplicated). */
  event(o: ObjectRef, atUs: number, eventId: string, name: string, attributes: Record<string, AttrValue>, error?: string): SpanRecord {
    const key = objectKey(o);
    const ws = windowStartSec(atUs, this.windowSec);
    const obj = this.objectSpan(o, ws);
    const s: SpanRecord = {
      traceId: obj.traceId,
      spanId: eventSpanId(eventId, key),
      parentSpanId: obj.spanId,
      kind: 'event',
      name,
      startUs: atUs,
      endUs: atUs + 1000,
      object: o,
      attributes: { ...tags(o, 'event'), ...attributes },
      ...(error ? { error } : {}),
    };
    this.spans.push(s);
    return s;
  }

  /** An audit event: `<verb>[ <subresource>]` by `user`. */
  audit(o: ObjectRef, atUs: number, user: string, verb: string, extra: Record<string, AttrValue> = {}): SpanRecord {
    const sub = extra[Attr.subresource];
    const auditId = `audit-${objectKey(o)}-${atUs}-${verb}`;
    return this.event(o, atUs, auditId, sub ? `${verb} ${sub}` : verb, {
      [Attr.source]: 'audit',
      [Attr.auditId]: auditId,
      [Attr.user]: user,
      [Attr.verb]: verb,
      [Attr.code]: 200,
      ...extra,
    });
  }

  /** `parent` is `child`'s parent (class: children = owner reference, node = pod→node), both halves. */
  link(parent: ObjectRef, child: ObjectRef, cls: string, atUs: number): void {
    const ws = windowStartSec(atUs, this.windowSec);
    const half = (self: ObjectRef, other: ObjectRef, role: 'parent' | 'child'): void => {
      const obj = this.objectSpan(self, ws);
      this.spans.push({
        traceId: obj.traceId,
        spanId: linkSpanId(objectKey(self), objectKey(other), cls, ws),
        parentSpanId: obj.spanId,
        kind: 'link',
        name: `link ${cls}`,
        startUs: atUs,
        endUs: (ws + this.windowSec) * 1e6,
        object: self,
        attributes: {
          ...tags(self, 'link'),
          [Attr.linkClass]: cls,
          [Attr.linkRole]: role,
          [Attr.linkKey]: objectKey(other),
        },
      });
    };
    half(child, parent, 'parent');
    half(parent, child, 'child');
  }
}

export function ref(resource: string, namespace: string, name: string, group = '', cluster = 'kwok'): ObjectRef {
  return { cluster, group, resource, namespace, name };
}
