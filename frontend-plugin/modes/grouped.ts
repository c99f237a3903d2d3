// `grouped`: under each object, one pseudo span per actor (audit user, field manager or Event
// component) holding that actor's events — "which controllers touched this object, and how often".
import type { SpanRecord } from '../../src/core/model.ts';
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { actorOf } from '../../src/core/span-view.ts';
import { hexId, tag, TraceBuilder, type DisplayTrace } from './display.ts';
import { addEventSpan, addObjectSpan, failuresOf } from './jaeger-json.ts';
import { addObjectTree } from './object-tree.ts';
import { clampInto } from './times.ts';

export function toGrouped(t: AssembledTrace, traceId: string): DisplayTrace {
  const b = new TraceBuilder(traceId, t);
  addObjectTree(b, t, (n: ObjectNode, parent?: string) => {
    const id = addObjectSpan(b, n, t, parent);
    const groups = new Map<string, SpanRecord[]>();
    for (const e of n.events) {
      const actor = actorOf(e) || 'unknown';
      const g = groups.get(actor);
      if (g) g.push(e);
      else groups.set(actor, [e]);
    }
    for (const [actor, events] of groups) {
      const r = clampInto({ start: events[0]!.startUs, end: Math.max(...events.map((e) => Math.max(e.endUs, e.startUs))) }, b.rangeOf(n));
      const gid = b.add({
        wanted: hexId(`group|${n.key}|${actor}`),
        parent: id,
        cluster: n.object.cluster,
        name: actor,
        startTime: r.start,
        duration: r.end - r.start,
        tags: [tag('nestLevel', 'group'), tag('actor', actor), tag('events', events.length)],
        logs: [],
      });
      for (const e of events) addEventSpan(b, e, gid, r, failuresOf(n).get(e.spanId));
    }
    return id;
  });
  return b.build();
}
