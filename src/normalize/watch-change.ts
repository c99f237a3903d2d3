// Helpers for list-watch changes: who made a change (managedFields) and when.
//
// A watch change carries no request: who wrote it is read from metadata.managedFields, whose
// `time` has one-second precision (so "the newest entry" is often the wrong one). The rule
// (docs/write-path.md "List-watch only"):
//   - MODIFIED: the writer is the entry that changed between the previous and this version (new,
//     or its time, operation or owned fields differ) and whose fields own every changed path that
//     any entry owns (most specifically: a field kept as a bare leaf, e.g. `f:conditions: {}`
//     after a patch replaced the list, loses to the owner of the item). An Update moves the ownership of a field it changes to its manager, so when
//     no entry changed (a repeat by the same manager within the same second) the one entry owning
//     every changed path is the writer too. One such entry → exact; otherwise → guessed.
//   - ADDED: the object's only entry is its creator (exact); several entries (a list of an object
//     that was changed since) → the oldest main-resource entry, guessed.
//   - DELETED: who deleted an object is not in managedFields (a delete does not touch them): unknown.
//     So is a MODIFIED where no entry changed and nobody owns a changed path: a write managedFields
//     do not record (a graceful deletion's deletionTimestamp, a pod's binding).
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../core/audit-event.ts';
import { isRecord } from '../core/audit-event.ts';
import { parseTimeUs } from '../core/time.ts';

export interface FieldManagerInfo {
  manager: string;
  operation: string;
  subresource: string;
  timeUs?: number;
  /** JSON text of the entry's fieldsV1 ('' when absent). */
  fields: string;
  /** The entry's `time` as written ('' when absent): compared to the previous version's. */
  time: string;
}

/** How sure an attribution is: the rule above decided (`fields`), or it had to guess. */
export type AttributionKind = 'fields' | 'guessed' | 'unknown';

export interface Attribution {
  entry?: FieldManagerInfo;
  kind: AttributionKind;
  /** A write that leaves no trace in managedFields, recognised by what it changed (kind `unknown`). */
  write?: { verb: string; subresource: string };
}

/** The managedFields entries of an object, as compact records (order kept). */
export function managedEntries(obj: KubeObject): FieldManagerInfo[] {
  const mf = obj.metadata?.managedFields;
  if (!Array.isArray(mf)) return [];
  const out: FieldManagerInfo[] = [];
  for (const e of mf) {
    if (!isRecord(e) || typeof e.manager !== 'string') continue;
    out.push({
      manager: e.manager,
      operation: typeof e.operation === 'string' ? e.operation : '',
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      timeUs: parseTimeUs(e.time),
      fields: e.fieldsV1 === undefined ? '' : JSON.stringify(e.fieldsV1),
      time: typeof e.time === 'string' ? e.time : '',
    });
  }
  return out;
}

/** The entry with the newest `time` (the last one of equal times). */
function newest(entries: readonly FieldManagerInfo[]): FieldManagerInfo | undefined {
  let best: FieldManagerInfo | undefined;
  for (const e of entries) {
    if (best === undefined || (e.timeUs !== undefined && (best.timeUs === undefined || e.timeUs >= best.timeUs))) best = e;
  }
  return best;
}

/** A path segment: an object key, or an array element (its value, to match `k:`/`v:` keys). */
export type PathSegment = { key: string } | { item: unknown };

const UNOWNED_META = new Set(['resourceVersion', 'generation', 'managedFields', 'uid', 'creationTimestamp', 'selfLink']);

const same = (a: unknown, b: unknown): boolean => a === b || isDeepStrictEqual(a, b);

/** The item of `prev` an array item of `cur` continues: same `name`, else same `type`, else none. */
function counterpart(prev: readonly unknown[], item: unknown): unknown {
  if (!isRecord(item)) return undefined;
  for (const k of ['name', 'type'] as const) {
    if (typeof item[k] === 'string') return prev.find((p) => isRecord(p) && p[k] === item[k]);
  }
  return undefined;
}

/** Leaf paths present in `cur` whose value differs from `prev` (removed paths are owned by nobody). */
export function changedPaths(prev: unknown, cur: unknown, at: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  if (same(prev, cur)) return out;
  if (Array.isArray(cur)) {
    const before = Array.isArray(prev) ? prev : [];
    for (const item of cur) {
      if (before.some((p) => same(p, item))) continue;
      changedPaths(counterpart(before, item), item, [...at, { item }], out);
    }
  } else if (isRecord(cur)) {
    const p = isRecord(prev) ? prev : {};
    for (const [k, v] of Object.entries(cur)) {
      if (at.length === 1 && 'key' in at[0]! && at[0].key === 'metadata' && UNOWNED_META.has(k)) continue;
      changedPaths(p[k], v, [...at, { key: k }], out);
    }
  } else out.push(at);
  return out;
}

/** Whether a `k:{...}` / `v:...` / `i:N` key of fieldsV1 names the array element `item`. */
function namesItem(fkey: string, item: unknown): boolean {
  if (fkey.startsWith('i:')) return true; // the index is not known here: any indexed element
  if (!fkey.startsWith('k:') && !fkey.startsWith('v:')) return false;
  try {
    const v: unknown = JSON.parse(fkey.slice(2));
    if (fkey.startsWith('v:')) return same(v, item);
    return isRecord(v) && isRecord(item) && Object.entries(v).every(([k, x]) => same(item[k], x));
  } catch {
    return false;
  }
}

/**
 * How deep a fieldsV1 set owns `path`: its length when it names the path itself, less when it owns
 * a field above it as a leaf (an atomic value, or a granular list whose items it no longer owns:
 * a more specific owner wins), -1 when it does not own it.
 */
export function ownership(fields: unknown, path: readonly PathSegment[]): number {
  let node = fields;
  for (let depth = 0; depth < path.length; depth++) {
    if (!isRecord(node)) return -1;
    const keys = Object.keys(node);
    if (keys.length === 0) return depth; // a leaf: owned whole
    const seg = path[depth]!;
    if ('key' in seg) node = node[`f:${seg.key}`];
    else node = node[keys.find((k) => namesItem(k, seg.item)) ?? ''];
  }
  return isRecord(node) ? path.length : -1;
}

/** Whether a fieldsV1 set owns `path` (or a field above it, e.g. an atomic map). */
export function owns(fields: unknown, path: readonly PathSegment[]): boolean {
  return ownership(fields, path) >= 0;
}

const entryId = (e: FieldManagerInfo) => `${e.manager}\u0000${e.operation}\u0000${e.subresource}`;

/** Entries new in `cur`, or whose time or fields differ from the same entry in `prev`. */
function changedEntries(prev: readonly FieldManagerInfo[], cur: readonly FieldManagerInfo[]): FieldManagerInfo[] {
  const before = new Map(prev.map((e) => [entryId(e), e]));
  return cur.filter((e) => {
    const p = before.get(entryId(e));
    return p === undefined || p.time !== e.time || p.fields !== e.fields;
  });
}

function parsedFields(e: FieldManagerInfo): unknown {
  try {
    return e.fields ? JSON.parse(e.fields) : undefined;
  } catch {
    return undefined;
  }
}

/** Who made a MODIFIED change (see the rule at the top). `prev` undefined: the previous version's entries are unknown. */
function attributeUpdate(prev: readonly FieldManagerInfo[] | undefined, cur: readonly FieldManagerInfo[], paths: readonly PathSegment[][]): Attribution {
  const fields = new Map(cur.map((e) => [e, parsedFields(e)]));
  // per changed path its most specific owners; paths nobody owns (server-set fields, e.g.
  // deletionTimestamp) do not count
  const best = paths
    .map((p) => {
      const depth = new Map(cur.map((e) => [e, ownership(fields.get(e), p)]));
      const max = Math.max(-1, ...depth.values());
      return max < 0 ? undefined : new Set(cur.filter((e) => depth.get(e) === max));
    })
    .filter((o) => o !== undefined);
  const owned = best.length > 0;
  const owners = owned ? cur.filter((e) => best.every((o) => o.has(e))) : [];
  const changed = prev ? changedEntries(prev, cur) : undefined;
  // nothing in managedFields moved and nobody owns what changed: a write managedFields do not record
  if (changed?.length === 0 && !owned) return { kind: 'unknown', write: unrecordedWrite(paths) };
  if (changed) {
    const both = owned ? changed.filter((e) => owners.includes(e)) : changed;
    if (both.length === 1) return { entry: both[0], kind: 'fields' };
    if (changed.length === 0 && owners.length === 1) return { entry: owners[0], kind: 'fields' };
    return { entry: newest(both.length ? both : changed.length ? changed : owners.length ? owners : cur), kind: 'guessed' };
  }
  if (owners.length === 1) return { entry: owners[0], kind: 'fields' };
  return { entry: newest(owners.length ? owners : cur), kind: 'guessed' };
}

const at = (p: readonly PathSegment[], ...keys: string[]) =>
  keys.every((k, i) => {
    const seg = p[i];
    return seg !== undefined && 'key' in seg && seg.key === k;
  });

/**
 * What a change managedFields do not record was, by what it changed: a graceful deletion (its
 * first step sets metadata.deletionTimestamp, a later delete shortens it) or a pod's binding to a
 * node (spec.nodeName, by the scheduler's pods/binding).
 */
function unrecordedWrite(paths: readonly PathSegment[][]): Attribution['write'] {
  if (paths.some((p) => at(p, 'metadata', 'deletionTimestamp'))) return { verb: 'delete', subresource: '' };
  if (paths.some((p) => at(p, 'spec', 'nodeName'))) return { verb: 'create', subresource: 'binding' };
  return undefined;
}

/**
 * Who made a watch change: `prev`/`cur` are the managedFields entries of the previous and this
 * version (`prev` undefined when the previous version is unknown), `paths` what changed.
 */
export function attributeChange(
  type: 'ADDED' | 'MODIFIED' | 'DELETED',
  prev: readonly FieldManagerInfo[] | undefined,
  cur: readonly FieldManagerInfo[],
  paths: readonly PathSegment[][],
): Attribution {
  if (type === 'DELETED' || cur.length === 0) return { kind: 'unknown' };
  if (type === 'ADDED') {
    if (cur.length === 1) return { entry: cur[0], kind: 'fields' };
    const main = cur.filter((e) => e.subresource === '');
    let oldest: FieldManagerInfo | undefined;
    for (const e of main.length ? main : cur) if (oldest === undefined || (e.timeUs ?? Infinity) < (oldest.timeUs ?? Infinity)) oldest = e;
    return { entry: oldest, kind: 'guessed' };
  }
  return attributeUpdate(prev, cur, paths);
}

/** The verb a watch change stands for. */
export function watchVerb(type: 'ADDED' | 'MODIFIED' | 'DELETED', manager: FieldManagerInfo | undefined): string {
  if (type === 'ADDED') return 'create';
  if (type === 'DELETED') return 'delete';
  return manager?.operation === 'Apply' ? 'apply' : 'update';
}
