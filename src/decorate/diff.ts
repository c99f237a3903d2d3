// "previous version → this version" as lines `path old -> new` (values as JSON):
//   spec.replicas 2 -> 4
//   metadata.labels["app.kubernetes.io/name"] "a" -> "b"
//   spec.template.spec.containers[name=web].image "nginx:1" -> "nginx:2"
//   status.conditions[type=Available].status "False" -> "True"
//   metadata.labels.tier <none> -> "web"          (added; an added map is shown leaf by leaf)
//   spec.template.spec.containers[name=side] {...} -> <none>   (removed named item: one line)
// Arrays of named items (every item an object with a unique string `name`, else `type`) are
// matched by that key, other arrays of objects by index, arrays of scalars compared whole.
// metadata.managedFields never appears; resourceVersion/generation/last-applied lines go to `verbose`.
import { isRecord } from '../core/audit-event.ts';
import { keySegment } from './path.ts';
import { digestsDiffer } from './redact.ts';

export const NONE = '<none>';

/** One change as data: `old`/`new` absent = the path did not exist (`<none>` in the text line). */
export interface DiffEntry {
  path: string;
  old?: unknown;
  new?: unknown;
}

export interface DiffResult {
  lines: string[];
  /**
   * The same changes as `lines` (not `verbose`), as JSON text of DiffEntry objects, in the same
   * order: `{"path":"spec.replicas","old":2,"new":4}`. Join with ',' inside [] for a JSON array
   * (diffEntriesJson); a reader never has to split a line at ` -> `.
   */
  entries: string[];
  /** metadata.resourceVersion / metadata.generation / kubectl last-applied annotation changes. */
  verbose: string[];
}

export interface DiffOptions {
  /** Redactor digests of the old/new object: a redacted value whose digest changed shows as changed. */
  oldDigests?: Map<string, string>;
  newDigests?: Map<string, string>;
  /** Stop after this many lines (a last line says how many were left out). Default 500. */
  maxLines?: number;
}

const SKIP = new Set(['metadata.managedFields']);
// Bookkeeping that changes with every write, and kubectl's copy of the applied spec (its real
// changes already show as spec lines): kept, but apart from the diff a reader scans.
const VERBOSE = new Set(['metadata.resourceVersion', 'metadata.generation', 'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]']);

function json(v: unknown): string {
  return v === undefined ? NONE : JSON.stringify(v);
}

class Differ {
  readonly lines: string[] = [];
  readonly entries: string[] = [];
  readonly verbose: string[] = [];
  dropped = 0;
  readonly max: number;
  readonly opts: DiffOptions;

  constructor(opts: DiffOptions) {
    this.opts = opts;
    this.max = opts.maxLines ?? 500;
  }

  emit(path: string, a: unknown, b: unknown): void {
    const ja = json(a);
    const jb = json(b);
    const line = `${path} ${ja} -> ${jb}`;
    if (VERBOSE.has(path)) this.verbose.push(line);
    else if (this.lines.length < this.max) {
      this.lines.push(line);
      // the value texts are reused: one JSON.stringify per value for both forms
      this.entries.push(`{"path":${JSON.stringify(path)}${a === undefined ? '' : `,"old":${ja}`}${b === undefined ? '' : `,"new":${jb}`}}`);
    } else this.dropped++;
  }

  /** An equal value that may still have changed: a redacted secret whose digests differ. */
  mayHideChange(v: unknown): v is string {
    return typeof v === 'string' && this.opts.oldDigests !== undefined && this.opts.newDigests !== undefined && v.startsWith('<redacted');
  }

  walk(path: string, a: unknown, b: unknown): void {
    if (a === b) {
      if (this.mayHideChange(a)) {
        const da = this.opts.oldDigests!.get(path);
        const db = this.opts.newDigests!.get(path);
        if (da !== undefined && db !== undefined && digestsDiffer(da, db)) {
          this.emit(path, a, `${a.slice(0, -1)}, changed>`);
        }
      }
      return;
    }
    if (SKIP.has(path)) return;
    if (isRecord(a) && isRecord(b)) {
      for (const k in a) {
        const x = a[k];
        const y = b[k];
        // most fields are unchanged: no path for them (walk would return at once)
        if (x !== y || this.mayHideChange(x)) this.walk(keySegment(path, k), x, y);
      }
      for (const k in b) if (!(k in a)) this.walk(keySegment(path, k), undefined, b[k]);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      this.walkArray(path, a, b);
      return;
    }
    if (a === undefined && b === undefined) return;
    // An added or removed map (labels, status, ...) is shown leaf by leaf, an added or removed
    // list of named items item by item: short lines that say what appeared.
    if (a === undefined || b === undefined) {
      const x = a ?? b;
      if (isRecord(x) && Object.keys(x).length > 0) {
        for (const k in x) this.walk(keySegment(path, k), a === undefined ? undefined : x[k], a === undefined ? x[k] : undefined);
        return;
      }
      if (Array.isArray(x) && x.length > 0 && namedKey(x, []) !== undefined) {
        this.walkArray(path, (a ?? []) as unknown[], (b ?? []) as unknown[]);
        return;
      }
    }
    // Scalars, type changes, additions and removals: one line with the whole values.
    this.emit(path, a, b);
  }

  walkArray(path: string, a: unknown[], b: unknown[]): void {
    const key = namedKey(a, b);
    if (key !== undefined) {
      const byKey = new Map<string, unknown>();
      for (const item of b) byKey.set((item as Record<string, string>)[key]!, item);
      const seen = new Set<string>();
      // A whole item that appeared or disappeared is one line: "container log removed".
      for (const item of a) {
        const id = (item as Record<string, string>)[key]!;
        seen.add(id);
        const other = byKey.get(id);
        if (other === undefined) this.emit(`${path}[${key}=${id}]`, item, undefined);
        else this.walk(`${path}[${key}=${id}]`, item, other);
      }
      for (const item of b) {
        const id = (item as Record<string, string>)[key]!;
        if (!seen.has(id)) this.emit(`${path}[${key}=${id}]`, undefined, item);
      }
      return;
    }
    if (!a.some(isStructured) && !b.some(isStructured)) {
      if (a.length !== b.length || a.some((v, i) => v !== b[i])) this.emit(path, a, b);
      return;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i < a.length && i < b.length) this.walk(`${path}[${i}]`, a[i], b[i]);
      else this.emit(`${path}[${i}]`, a[i], b[i]);
    }
  }
}

function isStructured(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

/** 'name' or 'type' when every item of both arrays is an object with a unique string of that field. */
function namedKey(a: unknown[], b: unknown[]): string | undefined {
  if (a.length + b.length === 0) return undefined;
  for (const key of ['name', 'type']) {
    if (uniqueBy(a, key) && uniqueBy(b, key)) return key;
  }
  return undefined;
}

function uniqueBy(arr: unknown[], key: string): boolean {
  const seen = new Set<string>();
  for (const item of arr) {
    if (!isRecord(item)) return false;
    const v = item[key];
    if (typeof v !== 'string' || seen.has(v)) return false;
    seen.add(v);
  }
  return true;
}

export function diffObjects(oldObj: unknown, newObj: unknown, opts: DiffOptions = {}): DiffResult {
  const d = new Differ(opts);
  d.walk('', oldObj, newObj);
  if (d.dropped > 0) d.lines.push(`... ${d.dropped} more changed paths`);
  return { lines: d.lines, entries: d.entries, verbose: d.verbose };
}

/** The `diff.entries` attribute: a JSON array of DiffEntry. */
export function diffEntriesJson(entries: readonly string[]): string {
  return `[${entries.join(',')}]`;
}
