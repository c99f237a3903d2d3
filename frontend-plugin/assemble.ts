// Assembly: from one object and a list of windows to a tree of objects, each with its merged,
// de-duplicated events. Raw traces are fetched by derived ID (no search), in parallel and bounded.
//
// Two phases, so each stays simple:
//  1. discover the set of objects in scope by following link spans (scope-specific walk);
//  2. lay that set out as a forest (display roots + first path found), so every object appears
//     exactly once, none is dropped, and cycles cannot loop. Going up (full tree, ancestors), every
//     parent is drawn as a parent: the top of each chain is a root; an object with several parents
//     hangs under one and names the others (`otherParents`).
import { rawTraceId } from '../src/core/ids.ts';
import { objectKey, parseObjectKey, type LinkRole, type ObjectRef, type SpanRecord } from '../src/core/model.ts';
import { linkOf } from '../src/core/span-view.ts';
import type { TraceBackend } from './backend/backend.ts';
import type { Scope } from './trace-id.ts';
import { kubeEventPlacement } from './event-order.ts';

export const DEFAULT_MAX_OBJECTS = 5000;

export interface ObjectNode {
  key: string;
  object: ObjectRef;
  /** One per window where the object has a raw trace, ascending. */
  objectSpans: SpanRecord[];
  /** Event spans of all windows, de-duplicated by span ID, in time order. */
  events: SpanRecord[];
  /** Link spans of all windows, de-duplicated by span ID. */
  links: SpanRecord[];
  /** Display tree. */
  parent?: ObjectNode;
  children: ObjectNode[];
  /** How this object relates to its display parent: `role` = what the display parent is to it. */
  relation?: { class: string; role: LinkRole };
  /** Its parents in the set other than the display parent (a second owner, a pod's node), none of them below it. */
  otherParents: { node: ObjectNode; class: string }[];
}

export interface AssembledTrace {
  /** Root of the displayed tree: the searched object, or its top ancestor (full tree, ancestors). */
  root: ObjectNode;
  /** Every root, `root` first: going up, the top of each further parent chain (a second owner, a pod's node). */
  roots: ObjectNode[];
  /** The object that was looked up. */
  searched: ObjectNode;
  /** All objects, in display order (depth first from each root). */
  nodes: ObjectNode[];
  windows: number[];
  windowSec: number;
  warnings: string[];
}

export interface AssembleOptions {
  backend: TraceBackend;
  /** objectKey() of the searched object. */
  key: string;
  /** Window starts (Unix seconds) to show. */
  windows: number[];
  windowSec: number;
  scope: Scope;
  maxObjects?: number;
}

export class ObjectNotFoundError extends Error {
  constructor(key: string) {
    super(`no spans for ${key} in the requested windows`);
    this.name = 'ObjectNotFoundError';
  }
}

interface Edge {
  other: string;
  /** What `other` is to this object. */
  role: LinkRole;
  class: string;
  /** A controlling owner reference. */
  controller: boolean;
}

/** Which parent to climb when an object has several (a pod: its ReplicaSet and its node). */
function classRank(c: string): number {
  if (c === 'children') return 0; // owner reference: the controller chain users think in
  if (c === 'annotation') return 1;
  if (c === 'node') return 3;
  return 2;
}

function byEdgePreference(a: Edge, b: Edge): number {
  return classRank(a.class) - classRank(b.class) || Number(b.controller) - Number(a.controller) || (a.other < b.other ? -1 : a.other > b.other ? 1 : 0);
}

/**
 * The objects discovered so far, with their relations: phase 1. Objects are loaded (their raw
 * traces of every window fetched) as the walk reaches them, up to `maxObjects`.
 */
class ObjectSet {
  readonly nodes = new Map<string, ObjectNode>();
  readonly warnings: string[] = [];
  truncated = false;
  readonly #edges = new Map<string, Map<string, Edge>>();
  readonly #windows: number[];
  readonly #opts: AssembleOptions;
  readonly #maxObjects: number;

  constructor(opts: AssembleOptions, windows: number[]) {
    this.#opts = opts;
    this.#windows = windows;
    this.#maxObjects = opts.maxObjects ?? DEFAULT_MAX_OBJECTS;
  }

  get maxObjects(): number {
    return this.#maxObjects;
  }

  /** The relations of `key`, preferred parent first (byEdgePreference). */
  readonly edgesOf = (key: string): Edge[] => [...(this.#edges.get(key)?.values() ?? [])].sort(byEdgePreference);

  #addEdge(from: string, e: Edge): void {
    let m = this.#edges.get(from);
    if (!m) this.#edges.set(from, (m = new Map()));
    // The first class seen wins; a relation is shown once even if two linkers report it.
    if (!m.has(e.other)) m.set(e.other, e);
  }

  /** Raw traces of each key in each window: result[k][w], in one batch. */
  async #fetchRaw(keys: string[]): Promise<SpanRecord[][][]> {
    const windows = this.#windows;
    const flat = await this.#opts.backend.getRawTraces(keys.flatMap((k) => windows.map((ws) => rawTraceId(k, ws))));
    return keys.map((_, i) => flat.slice(i * windows.length, (i + 1) * windows.length));
  }

  #load(key: string, object: ObjectRef, perWindow: SpanRecord[][]): ObjectNode {
    const seen = new Set<string>();
    const node: ObjectNode = { key, object, objectSpans: [], events: [], links: [], children: [], otherParents: [] };
    for (const spans of perWindow) {
      for (const s of spans) {
        if (seen.has(s.spanId)) continue; // at-least-once delivery: same derived ID = same span
        seen.add(s.spanId);
        if (s.kind === 'object') node.objectSpans.push(s);
        else if (s.kind === 'event') node.events.push(s);
        else if (s.kind === 'link') node.links.push(s);
      }
    }
    node.objectSpans.sort((a, b) => a.startUs - b.startUs);
    node.events.sort(byTime);
    for (const s of node.links) {
      const l = linkOf(s);
      if (!l || l.other === key) continue;
      const { other, role, controller } = l;
      const cls = l.class || 'link';
      this.#addEdge(key, { other, role, class: cls, controller });
      // Mirror, in case the other object's half of the link is missing.
      this.#addEdge(other, { other: key, role: role === 'parent' ? 'child' : 'parent', class: cls, controller });
    }
    return node;
  }

  /** Loads the keys not loaded yet (respecting maxObjects); returns the ones now in the set. */
  async loadAll(keys: string[]): Promise<string[]> {
    const fresh = new Set<string>();
    for (const k of keys) {
      if (this.nodes.has(k) || fresh.has(k)) continue;
      if (this.nodes.size + fresh.size >= this.#maxObjects) {
        this.truncated = true;
        break;
      }
      fresh.add(k);
    }
    const valid: { key: string; object: ObjectRef }[] = [];
    for (const key of fresh) {
      try {
        valid.push({ key, object: parseObjectKey(key) });
      } catch {
        this.warnings.push(`ignored a link to a malformed object key: ${JSON.stringify(key)}`);
      }
    }
    const raw = await this.#fetchRaw(valid.map((v) => v.key));
    const added: string[] = [];
    for (const [i, v] of valid.entries()) {
      const n = this.#load(v.key, v.object, raw[i]!);
      if (!this.nodes.has(n.key)) {
        this.nodes.set(n.key, n);
        added.push(n.key);
      }
    }
    return added;
  }

  /** Breadth-first walk along edges of the given roles, from `start`; returns the objects reached, in order. */
  async walk(start: string[], roles: LinkRole[], maxDepth = Infinity): Promise<string[]> {
    const reached: string[] = [];
    const visited = new Set(start);
    let frontier = start;
    for (let depth = 0; frontier.length > 0 && depth < maxDepth && !this.truncated; depth++) {
      const next: string[] = [];
      for (const k of frontier) {
        for (const e of this.edgesOf(k)) {
          if (roles.includes(e.role) && !visited.has(e.other)) {
            visited.add(e.other);
            next.push(e.other);
          }
        }
      }
      await this.loadAll(next);
      frontier = next.filter((k) => this.nodes.has(k));
      reached.push(...frontier);
    }
    return reached;
  }

  /** The scope's walk from `key`; returns the ancestors of the searched object, nearest first (full tree and ancestors). */
  async discover(key: string, scope: Scope): Promise<string[]> {
    switch (scope) {
      case 'default':
        await this.walk([key], ['parent', 'child'], 1);
        return [];
      case 'owned':
        await this.walk([key], ['child']);
        return [];
      case 'ancestors':
        return this.walk([key], ['parent']);
      case 'full': {
        const ancestors = await this.walk([key], ['parent']);
        // Every ancestor (not only the tops) as a start: equivalent, and still complete under cycles.
        await this.walk([...this.nodes.keys()], ['child']);
        return ancestors;
      }
    }
  }
}

export async function assemble(opts: AssembleOptions): Promise<AssembledTrace> {
  const windows = [...new Set(opts.windows)].sort((a, b) => a - b);
  const set = new ObjectSet(opts, windows);
  await set.loadAll([opts.key]);
  const searched = set.nodes.get(opts.key);
  if (!searched || (searched.objectSpans.length === 0 && searched.events.length === 0 && searched.links.length === 0)) {
    throw new ObjectNotFoundError(opts.key);
  }
  const ancestors = await set.discover(opts.key, opts.scope);
  if (set.truncated) {
    set.warnings.push(`too many related objects: showing the first ${set.maxObjects}; narrow the scope or the time range`);
  }
  const nodes = set.nodes;
  placeEvents(nodes.values());
  const first = opts.scope === 'full' || opts.scope === 'ancestors' ? topAncestor(searched, nodes, set.edgesOf) : searched;
  const { roots, ordered } = layout(first, ancestors, searched, nodes, set.edgesOf);
  return { root: first, roots, searched, nodes: ordered, windows, windowSec: opts.windowSec, warnings: set.warnings };
}

/** Kubernetes Events after the writes of the set they report (event-order.ts), each node's events re-sorted. */
function placeEvents(nodes: Iterable<ObjectNode>): void {
  const list = [...nodes];
  const moved = kubeEventPlacement(list.flatMap((n) => n.events));
  if (!moved.size) return;
  for (const n of list) {
    if (!n.events.some((e) => moved.has(e))) continue;
    n.events = n.events.map((e) => (moved.has(e) ? { ...e, startUs: moved.get(e)!, endUs: moved.get(e)! } : e));
    n.events.sort(byTime);
  }
}

const byTime = (a: SpanRecord, b: SpanRecord): number => a.startUs - b.startUs || a.endUs - b.endUs || (a.spanId < b.spanId ? -1 : 1);

/** Climbs preferred parents (owner references first) to the top; a cycle stops the climb. */
function topAncestor(start: ObjectNode, nodes: Map<string, ObjectNode>, edgesOf: (key: string) => Edge[]): ObjectNode {
  const seen = new Set([start.key]);
  let cur = start;
  for (;;) {
    const up = edgesOf(cur.key).find((e) => e.role === 'parent' && nodes.has(e.other) && !seen.has(e.other));
    if (!up) return cur;
    seen.add(up.other);
    cur = nodes.get(up.other)!;
  }
}

/**
 * Lays the set out as a forest: first the plain descent from the first root (children links); then
 * each ancestor not reached yet climbs to the top of its own chain, which becomes one more root with
 * its descent (a second owner, a pod's node); then each object not reached yet hangs under a
 * neighbour already placed — the searched object if it is one, else the earliest placed — and its
 * own descent follows. Each object is placed exactly once.
 */
function layout(
  first: ObjectNode,
  ancestors: string[],
  searched: ObjectNode,
  nodes: Map<string, ObjectNode>,
  edgesOf: (key: string) => Edge[],
): { roots: ObjectNode[]; ordered: ObjectNode[] } {
  const order = new Map<string, number>();
  const roots: ObjectNode[] = [];
  const attach = (parent: ObjectNode, child: ObjectNode, e: Edge): void => {
    child.parent = parent;
    // e.role is what `child` is to `parent`; the relation stores what the parent is to the child.
    child.relation = { class: e.class, role: e.role === 'child' ? 'parent' : 'child' };
    parent.children.push(child);
    order.set(child.key, order.size);
  };
  const descend = (start: ObjectNode): void => {
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const p = queue[i]!;
      for (const e of edgesOf(p.key)) {
        const c = nodes.get(e.other);
        if (e.role !== 'child' || !c || order.has(c.key)) continue;
        attach(p, c, e);
        queue.push(c);
      }
    }
  };
  const plant = (root: ObjectNode): void => {
    roots.push(root);
    order.set(root.key, order.size);
    descend(root);
  };
  plant(first);
  // Not placed yet, so none of its parents is (a placed object's children all are): its chain's top is a new root.
  for (const k of ancestors) if (!order.has(k) && nodes.has(k)) plant(topAncestor(nodes.get(k)!, nodes, edgesOf));
  for (let progress = true; progress && order.size < nodes.size; ) {
    progress = false;
    for (const n of nodes.values()) {
      if (order.has(n.key)) continue;
      const placed = edgesOf(n.key).filter((e) => order.has(e.other));
      if (placed.length === 0) continue;
      const via = placed.find((e) => e.other === searched.key) ?? placed.sort((a, b) => order.get(a.other)! - order.get(b.other)!)[0]!;
      const parent = nodes.get(via.other)!;
      // Edge as seen from the parent: flip the role.
      attach(parent, n, { ...via, other: n.key, role: via.role === 'parent' ? 'child' : 'parent' });
      descend(n);
      progress = true;
    }
  }
  // Defensive: an object in the set that no placed object links to still shows, under the root.
  for (const n of nodes.values()) {
    if (!order.has(n.key)) attach(first, n, { other: n.key, role: 'child', class: 'unlinked', controller: false });
  }
  for (const n of nodes.values()) n.otherParents = otherParentsOf(n, nodes, edgesOf);
  const ordered: ObjectNode[] = [];
  const visit = (n: ObjectNode): void => {
    ordered.push(n);
    for (const c of n.children) visit(c);
  };
  for (const r of roots) visit(r);
  return { roots, ordered };
}

/** Parents of `n` in the set besides its display parent, leaving out any drawn below it (no reference cycles). */
function otherParentsOf(n: ObjectNode, nodes: Map<string, ObjectNode>, edgesOf: (key: string) => Edge[]): ObjectNode['otherParents'] {
  const out: ObjectNode['otherParents'] = [];
  for (const e of edgesOf(n.key)) {
    const p = nodes.get(e.other);
    if (e.role !== 'parent' || !p || p === n.parent) continue;
    let below = false;
    for (let up = p.parent; up && !below; up = up.parent) below = up === n;
    if (!below) out.push({ node: p, class: e.class });
  }
  return out;
}

/** objectKey of the object span of a raw trace, if any. */
export function objectKeyOfRawTrace(spans: SpanRecord[]): string | undefined {
  const o = spans.find((s) => s.kind === 'object') ?? spans[0];
  return o ? objectKey(o.object) : undefined;
}
