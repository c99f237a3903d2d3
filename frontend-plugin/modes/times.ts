// When each displayed span starts and ends, so that a trace reads right in any Jaeger UI:
//  - an object's span covers its own events and links (not the 30-minute storage window), and its
//    children's spans; never the future;
//  - every child span lies inside its parent (no negative self time in the trace graph);
//  - the trace starts at the root's first event, not at a related object's creation (a pod's node
//    was created long before the pod): spans of related objects are clipped to the root's range,
//    further roots (a second owner, a pod's node in the full tree) too;
//  - no duration is zero (Jaeger v2 logs "Negative duration detected" for them, and a 0-wide bar
//    cannot be clicked): at least MIN_DURATION_US.
// Span logs (tracing mode) keep their real timestamps; only span boundaries are shaped here.
import type { SpanRecord } from '../../src/core/model.ts';
import type { AssembledTrace, ObjectNode } from '../assemble.ts';

export const MIN_DURATION_US = 1;

export interface Range {
  start: number;
  end: number;
}

/** Own activity of an object: events (their request time) and links (the moment they were seen). */
function ownRange(n: ObjectNode): Range | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const e of n.events) {
    start = Math.min(start, e.startUs);
    end = Math.max(end, e.endUs, e.startUs);
  }
  // A link span lasts until its window's end in storage; what happened is its start.
  for (const l of n.links) {
    start = Math.min(start, l.startUs);
    end = Math.max(end, l.startUs);
  }
  return start === Infinity ? undefined : { start, end };
}

const union = (a: Range | undefined, b: Range | undefined): Range | undefined =>
  !a ? b : !b ? a : { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };

/** A range inside `outer` (which must be at least MIN_DURATION_US long), at least MIN_DURATION_US long. */
export function clampInto(r: Range, outer: Range): Range {
  const start = Math.min(Math.max(r.start, outer.start), outer.end - MIN_DURATION_US);
  const end = Math.min(Math.max(r.end, start + MIN_DURATION_US), outer.end);
  return { start, end };
}

/** Display range of every object of an assembled trace. */
export function displayTimes(t: AssembledTrace, nowUs = Date.now() * 1000): Map<ObjectNode, Range> {
  const out = new Map<ObjectNode, Range>();
  const subtree = new Map<ObjectNode, Range | undefined>();
  const up = (n: ObjectNode): Range | undefined => {
    let r = ownRange(n);
    for (const c of n.children) r = union(r, up(c));
    subtree.set(n, r);
    return r;
  };
  for (const r of t.roots) up(r);

  const root = t.root;
  let rr = subtree.get(root);
  const own = ownRange(root);
  if (own) rr = { start: own.start, end: Math.max(own.end, rr?.end ?? own.end) };
  if (!rr) {
    // Nothing happened to anything in these windows: the first window, up to now.
    const first = root.objectSpans[0]?.startUs ?? (t.windows[0] ?? 0) * 1e6;
    rr = { start: first, end: first + MIN_DURATION_US };
  }
  const rootRange: Range = { start: Math.min(rr.start, nowUs - MIN_DURATION_US), end: Math.min(rr.end, nowUs) };
  if (rootRange.end - rootRange.start < MIN_DURATION_US) rootRange.end = rootRange.start + MIN_DURATION_US;
  out.set(root, rootRange);
  for (const r of t.roots) {
    if (r !== root) out.set(r, clampInto(subtree.get(r) ?? { start: rootRange.start, end: rootRange.start }, rootRange));
  }

  const down = (p: ObjectNode): void => {
    const pr = out.get(p)!;
    for (const c of p.children) {
      const r = subtree.get(c) ?? { start: pr.start, end: pr.start };
      out.set(c, clampInto(r, pr));
      down(c);
    }
  };
  for (const r of t.roots) down(r);
  return out;
}

/** An event's span inside its object's range (tree, grouped, timeline). */
export function eventRange(s: SpanRecord, outer: Range): Range {
  return clampInto({ start: s.startUs, end: Math.max(s.endUs, s.startUs) }, outer);
}
