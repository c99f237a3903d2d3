// The built-in UI's trace view as the server builds it (GET /api/ui/trace/:id): the rows of a display
// trace (modes/display.ts) — one per object in tracing mode with its events from the span logs, or
// objects and event rows in the tree, timeline and grouped modes — in display order, each with its
// depth, label, relation to its parent row, event marks and counts, and the trace's time range.
// References between rows are row indices on the wire (toWire); the UI links them back (ui/model.js).
import type { AttrValue } from '../../src/core/model.ts';
import type { DisplaySpan, DisplayTrace } from '../modes/display.ts';
import { type Fields, toEvent, type UiEvent } from './event.ts';
import { kindOf, label, objectKeyOf, podNodeName, relationOf, type Relation } from './rows.ts';

export interface RowSpan {
  spanID: string;
  operationName: string;
  startTime: number;
  duration: number;
  warnings?: string[] | null;
}

/** One row while building: parents and children by reference. */
export interface Row {
  key: string;
  span: RowSpan;
  tags: Record<string, AttrValue>;
  isEvent: boolean;
  events: UiEvent[];
  parent: Row | null;
  /** The span's further parents (CHILD_OF), after the display parent. */
  otherParents: string[];
  children: Row[];
  depth: number;
  index: number;
  errors: number;
  warnings: number;
  expected: number;
  firstTs: number;
  lastTs: number;
  kind: string;
  label: string;
  suffix: string;
  relation: Relation;
  descendants: number;
  synthetic?: boolean;
  alsoOf?: Row;
  /** A pod's row: the node it ran on, from its events and its event rows ('' if unknown). */
  nodeName?: string;
}

export interface Tree {
  traceID: string;
  warnings: string[];
  roots: Row[];
  flat: Row[];
  start: number;
  end: number;
  firstEvent: number;
  lastEvent: number;
  eventCount: number;
  errorCount: number;
  expectedCount: number;
}

const fieldsOf = (list: { key: string; value: AttrValue }[]): Fields => {
  const o: Fields = {};
  for (const t of list) o[t.key] = t.value;
  return o;
};

function looksLikeEventSpan(tags: Fields): boolean {
  if (tags.nestLevel === 'event') return true;
  if (tags.nestLevel === 'object' || tags.nestLevel === 'link' || tags.nestLevel === 'pseudo') return false;
  return !tags.name && (tags.audit !== undefined || tags.verb !== undefined || tags['event.reason'] !== undefined);
}

const countLevel = (events: UiEvent[], level: UiEvent['level']) => events.filter((e) => e.level === level).length;

/** A row with no place in the tree yet. */
export function newRow(key: string, span: RowSpan, tags: Fields, events: UiEvent[], more: Partial<Row> = {}): Row {
  return {
    key,
    span,
    tags,
    isEvent: false,
    events,
    parent: null,
    otherParents: [],
    children: [],
    depth: 0,
    index: 0,
    errors: countLevel(events, 'error'),
    warnings: countLevel(events, 'warning'),
    expected: countLevel(events, 'expected'),
    firstTs: events.length ? events[0]!.ts : span.startTime,
    lastTs: events.length ? events[events.length - 1]!.ts : span.startTime + span.duration,
    kind: '',
    label: '',
    suffix: '',
    relation: relationOf(undefined, false),
    descendants: 0,
    ...more,
  };
}

function spanRow(s: DisplaySpan): Row {
  const tags = fieldsOf(s.tags);
  const isEvent = looksLikeEventSpan(tags);
  let events = s.logs.map((l) => toEvent(l.timestamp, fieldsOf(l.fields)));
  if (isEvent) events = [toEvent(s.startTime, tags), ...events];
  events.sort((a, b) => a.ts - b.ts);
  const span = { spanID: s.spanId, operationName: s.name, startTime: s.startTime, duration: s.duration, warnings: s.warnings.length > 0 ? s.warnings : null };
  return newRow(s.spanId, span, tags, events, { isEvent });
}

/** One row per span (the first of duplicate span IDs), its parent by reference. */
function spanRows(trace: DisplayTrace): { rows: Row[]; byId: Map<string, Row> } {
  const rows: Row[] = [];
  const byId = new Map<string, Row>();
  const parentsOf = new Map<Row, string[]>();
  for (const s of trace.spans) {
    if (byId.has(s.spanId)) continue;
    const row = spanRow(s);
    byId.set(s.spanId, row);
    rows.push(row);
    parentsOf.set(row, s.parents);
  }
  for (const row of rows) {
    const parents = parentsOf.get(row)!.filter((p) => p !== row.key && byId.has(p));
    if (parents.length > 0) row.parent = byId.get(parents[0]!)!;
    row.otherParents = parentsOf.get(row)!;
  }
  return { rows, byId };
}

/** Walks up from each row; a row that reaches itself loses its parent (it becomes a root). */
function breakCycles(rows: Row[]): void {
  for (const row of rows) {
    const seen = new Set([row]);
    for (let p = row.parent; p; p = p.parent) {
      if (seen.has(p)) {
        row.parent = null;
        break;
      }
      seen.add(p);
    }
  }
}

const rowOrder = (a: Row, b: Row) => (a.isEvent === b.isEvent ? 0 : a.isEvent ? -1 : 1) || a.firstTs - b.firstTs || label(a).localeCompare(label(b));

/** The rows in display order; the first root (the object looked up, or the top of its owner chain) stays first. */
function depthFirst(roots: Row[]): Row[] {
  const flat: Row[] = [];
  const visit = (n: Row, depth: number) => {
    n.depth = depth;
    n.index = flat.length;
    flat.push(n);
    n.children.sort(rowOrder);
    for (const c of n.children) visit(c, depth + 1);
  };
  const main = roots[0];
  roots.sort(rowOrder);
  if (main) roots.splice(0, roots.length, main, ...roots.filter((r) => r !== main));
  for (const r of roots) visit(r, 0);
  return flat;
}

/** Workload views hold no node objects: a row for the node goes under each pod bound to one (not for a node the trace holds). */
function addNodeRows(rows: Row[]): void {
  const present = new Set(rows.filter((n) => !n.isEvent && n.tags.resource === 'nodes').map((n) => `${n.tags.cluster ?? ''}/${n.tags.name}`));
  for (const pod of [...rows]) {
    if (pod.isEvent || pod.tags.resource !== 'pods' || pod.tags.nestLevel === 'group') continue;
    const name = podNodeName(pod);
    if (!name || present.has(`${pod.tags.cluster ?? ''}/${name}`)) continue;
    const tags: Fields = { cluster: pod.tags.cluster!, group: '', resource: 'nodes', namespace: '', name, 'link.class': 'node', synthetic: true };
    if (pod.tags.cluster === undefined) delete tags.cluster;
    const key = `${pod.key}~node`;
    const span = { spanID: key, operationName: `nodes ${name}`, startTime: pod.firstTs, duration: 0 };
    const row = newRow(key, span, tags, [], { parent: pod, synthetic: true, firstTs: pod.firstTs, lastTs: pod.lastTs });
    rows.push(row);
    pod.children.push(row);
  }
}

/** An object with several parents is drawn once; each further CHILD_OF parent gets a row standing for it. */
function addOtherParentRows(rows: Row[], byId: Map<string, Row>): void {
  for (const node of [...rows]) {
    if (node.isEvent || node.synthetic || !node.parent) continue;
    for (const id of node.otherParents) {
      const other = byId.get(id);
      if (!other || other === node || other === node.parent || other.isEvent) continue;
      const key = `${node.key}~under~${other.key}`;
      const tags = { ...node.tags, 'link.class': 'also' };
      const row = newRow(key, { ...node.span, spanID: key }, tags, [], {
        parent: other,
        synthetic: true,
        alsoOf: node,
        firstTs: node.firstTs,
        lastTs: node.lastTs,
      });
      rows.push(row);
      other.children.push(row);
    }
  }
}

/** Each row's kind, label, relation to its parent row and count of descendants. */
function describeRows(flat: Row[], roots: Row[]): void {
  for (const n of flat) {
    n.kind = n.isEvent ? '' : kindOf(n.tags.resource);
    n.label = label(n);
    n.suffix = n.isEvent ? '' : generatedSuffix(n.label);
    // Events listed under another object (timeline mode) name the object they happened to.
    if (n.isEvent && n.parent && n.tags.name && objectKeyOf(n) !== objectKeyOf(nearestObject(n.parent))) {
      n.label += ` · ${kindOf(n.tags.resource)} ${n.tags.namespace ? `${n.tags.namespace}/` : ''}${n.tags.name}`;
    }
    const cls = n.tags['link.class'] as string | undefined;
    n.relation = n.isEvent
      ? relationOf('event', false)
      : n.tags.nestLevel === 'group'
        ? relationOf('group', false)
        : !n.parent && n !== roots[0] && !cls
          ? relationOf('top', false)
          : relationOf(cls, !n.parent);
    n.descendants = 0;
  }
  for (let i = flat.length - 1; i >= 0; i--) if (flat[i]!.parent) flat[i]!.parent!.descendants += 1 + flat[i]!.descendants;
}

function nearestObject(n: Row): Row {
  let p: Row | null = n;
  while (p && (p.isEvent || p.tags.nestLevel === 'group')) p = p.parent;
  return p ?? n;
}

/** The part of a generated name that tells siblings apart (`web-7f9c6d8b5-x2k4l` → `7f9c6d8b5-x2k4l`); '' for a short label. */
export function generatedSuffix(text: string): string {
  if (text.length <= 18) return '';
  const m = /(?:-[a-z0-9]{1,10}){1,2}$/.exec(text);
  if (!m) return '';
  const tail = m[0].slice(1);
  return tail.length < text.length - 3 ? tail : '';
}

/** Tree/grouped modes: an object's events are child rows; its own row still shows their marks. */
function foldChildEvents(flat: Row[]): void {
  for (const n of flat) {
    if (n.isEvent || n.events.length || !n.children.length) continue;
    const own: UiEvent[] = [];
    const walk = (c: Row) => {
      if (c.isEvent) own.push(...c.events);
      if (c.isEvent || c.tags.nestLevel === 'group') c.children.forEach(walk);
    };
    n.children.forEach(walk);
    if (!own.length) continue;
    n.events = own.sort((a, b) => a.ts - b.ts);
    Object.assign(n, { errors: countLevel(own, 'error'), warnings: countLevel(own, 'warning'), expected: countLevel(own, 'expected') });
    n.firstTs = own[0]!.ts;
    n.lastTs = own[own.length - 1]!.ts;
  }
}

/** Time range: the events' (object spans cover a whole 30-minute window, which says little). */
function eventRange(flat: Row[]): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const n of flat)
    for (const e of n.events) {
      lo = Math.min(lo, e.ts);
      hi = Math.max(hi, e.ts);
    }
  if (lo === Infinity)
    for (const n of flat) {
      lo = Math.min(lo, n.span.startTime);
      hi = Math.max(hi, n.span.startTime + n.span.duration);
    }
  if (!(hi > lo)) {
    hi = lo + 1e6;
    lo -= 1e6;
  }
  return { lo, hi };
}

/** The trace view's rows of a display trace. Cycles and unknown parents make a span a root; duplicate span IDs keep the first span. */
export function buildUiTree(trace: DisplayTrace): Tree {
  const { rows, byId } = spanRows(trace);
  breakCycles(rows);
  const roots: Row[] = [];
  for (const row of rows) (row.parent ? row.parent.children : roots).push(row);
  addNodeRows(rows);
  addOtherParentRows(rows, byId);
  const flat = depthFirst(roots);
  describeRows(flat, roots);
  // counted before foldChildEvents copies event rows' marks onto their objects' rows
  const sum = (f: (n: Row) => number) => flat.reduce((s, n) => s + f(n), 0);
  const counts = { eventCount: sum((n) => n.events.length), errorCount: sum((n) => n.errors), expectedCount: sum((n) => n.expected) };
  foldChildEvents(flat);
  for (const n of flat) if (n.tags.resource === 'pods' && !n.isEvent) n.nodeName = podNodeName(n);
  const { lo, hi } = eventRange(flat);
  const pad = (hi - lo) * 0.02;
  return {
    traceID: trace.traceId,
    warnings: trace.warnings.filter(Boolean).map(String),
    roots,
    flat,
    start: lo - pad,
    end: hi + pad,
    firstEvent: lo,
    lastEvent: hi,
    ...counts,
  };
}
