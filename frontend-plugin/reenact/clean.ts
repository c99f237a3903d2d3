// The cleaning rules of `kubetrail export` (docs/reenact.md): what of a recorded object or write is
// re-applied. The store keeps no request bodies: a create's object is its snapshot (the API
// server's answer), a write's change is its diff entries (src/decorate/diff.ts). So the state of
// each object is rebuilt from its snapshot and every later diff (controllers' too), and a write
// becomes a JSON merge patch of the fields it changed — lists whole, from the rebuilt state.
import { isRecord } from '../../src/core/audit-event.ts';
import { keySegment } from '../../src/decorate/path.ts';
import { LAST_APPLIED } from '../../src/decorate/redact.ts';
import type { SecretPlaceholder } from './format.ts';

/** One step of a diff path: a map key, a list index, or a list item named by `key=value`. */
export type PathSegment = { key: string } | { index: number } | { match: string; value: string };

/** `spec.template.spec.containers[name=web].image`, `metadata.labels["a/b"]`, `spec.ports[0]` → segments. */
export function parseDiffPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') i++;
    else if (c === '[' && path[i + 1] === '"') {
      // a JSON string key: ends at the first `"]` whose quote is not escaped
      let end = i + 2;
      while (end < path.length && !(path[end] === '"' && path[end - 1] !== '\\' && path[end + 1] === ']')) end++;
      out.push({ key: JSON.parse(path.slice(i + 1, end + 1)) as string });
      i = end + 2;
    } else if (c === '[') {
      const end = path.indexOf(']', i);
      const inner = path.slice(i + 1, end < 0 ? path.length : end);
      const eq = inner.indexOf('=');
      out.push(eq < 0 ? { index: Number(inner) } : { match: inner.slice(0, eq), value: inner.slice(eq + 1) });
      i = end < 0 ? path.length : end + 1;
    } else {
      let end = i;
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
      out.push({ key: path.slice(i, end) });
      i = end;
    }
  }
  return out;
}

const isListStep = (s: PathSegment): boolean => !('key' in s);

function child(node: unknown, s: PathSegment): unknown {
  if ('key' in s) return isRecord(node) ? node[s.key] : undefined;
  if (!Array.isArray(node)) return undefined;
  if ('index' in s) return node[s.index];
  return node.find((it) => isRecord(it) && it[s.match] === s.value);
}

/** The value at `segs` in `obj`, undefined when absent. */
export function getPath(obj: unknown, segs: readonly PathSegment[]): unknown {
  let node = obj;
  for (const s of segs) node = child(node, s);
  return node;
}

/** Sets (or with `value` undefined removes) the value at `segs`, creating maps on the way. */
export function setPath(obj: Record<string, unknown>, segs: readonly PathSegment[], value: unknown): void {
  let node: unknown = obj;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if ('key' in s) {
      if (!isRecord(node)) return;
      if (last) {
        if (value === undefined) delete node[s.key];
        else node[s.key] = value;
        return;
      }
      if (node[s.key] === undefined || node[s.key] === null) node[s.key] = isListStep(segs[i + 1]!) ? [] : {};
      node = node[s.key];
      continue;
    }
    if (!Array.isArray(node)) return;
    const at = 'index' in s ? s.index : node.findIndex((it) => isRecord(it) && it[s.match] === s.value);
    if (last) {
      if (value === undefined) {
        if (at >= 0 && at < node.length) node.splice(at, 1);
      } else if (at >= 0) node[at] = value;
      else node.push(value);
      return;
    }
    if (at < 0) return;
    node = node[at];
  }
}

export interface DiffChange {
  path: string;
  old?: unknown;
  new?: unknown;
}

/** The state after a write: `changes` applied to a copy of `state`. */
export function applyChanges(state: Record<string, unknown>, changes: readonly DiffChange[]): Record<string, unknown> {
  const next = structuredClone(state);
  for (const c of changes) setPath(next, parseDiffPath(c.path), c.new === undefined ? undefined : structuredClone(c.new));
  return next;
}

/** Fields a write may change that are not the writer's to re-apply (the API server's and controllers' bookkeeping). */
const NOT_REAPPLIED = /^metadata\.(uid|resourceVersion|generation|creationTimestamp|deletionTimestamp|deletionGracePeriodSeconds|managedFields|selfLink)$/;

/** The top-level-ish key path of a change: up to the first list step (a merge patch replaces lists whole). */
function patchKeyPath(segs: readonly PathSegment[]): string[] {
  const keys: string[] = [];
  for (const s of segs) {
    if (!('key' in s)) break;
    keys.push(s.key);
  }
  return keys;
}

export interface PatchResult {
  patch: Record<string, unknown>;
  changed: string[];
  /** Changes inside a list whose whole value the rebuilt state did not have. */
  unknownLists: string[];
}

/**
 * A JSON merge patch of what a write changed: each changed path's value after the write (null when
 * removed); a change inside a list sets the whole list from `after`. `status` changes only for
 * the status subresource, the object's otherwise.
 */
export function mergePatch(changes: readonly DiffChange[], after: Record<string, unknown> | undefined, subresource: string): PatchResult {
  const patch: Record<string, unknown> = {};
  const changed: string[] = [];
  const unknownLists: string[] = [];
  for (const c of changes) {
    const segs = parseDiffPath(c.path);
    const keys = patchKeyPath(segs);
    const dotted = keys.join('.');
    if (keys.length === 0 || (subresource === 'status') !== (keys[0] === 'status') || NOT_REAPPLIED.test(dotted)) continue;
    if (keys[1] === 'annotations' && keys[2] === LAST_APPLIED) continue;
    let value: unknown;
    if (keys.length === segs.length) value = c.new === undefined ? null : c.new;
    else {
      value =
        after === undefined
          ? undefined
          : getPath(
              after,
              keys.map((key) => ({ key })),
            );
      if (value === undefined && after === undefined) {
        unknownLists.push(c.path);
        continue;
      }
      if (value === undefined) value = null;
    }
    setPath(
      patch,
      keys.map((key) => ({ key })),
      structuredClone(value),
    );
    changed.push(c.path);
  }
  return { patch, changed, unknownLists };
}

const DROPPED_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
];

export interface OwnerTarget {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface CleanResult {
  object: Record<string, unknown>;
  notes: string[];
}

/**
 * A recorded object made fit to create again: no uid, resourceVersion, generation, timestamps,
 * managedFields, status, kubectl's last-applied copy; a generated name back to its generateName;
 * owner references kept only to objects `keepOwner` says the file itself creates (their uid is
 * resolved at re-enactment); a Service's allocated cluster IPs and the API server's injected
 * service-account token volume left for the new cluster to make.
 */
export function cleanForCreate(recorded: Record<string, unknown>, keepOwner: (o: OwnerTarget) => boolean): CleanResult {
  const obj = structuredClone(recorded);
  const notes: string[] = [];
  delete obj.status;
  const md = isRecord(obj.metadata) ? obj.metadata : (obj.metadata = {});
  for (const k of DROPPED_METADATA) delete md[k];
  if (isRecord(md.annotations)) {
    delete md.annotations[LAST_APPLIED];
    if (Object.keys(md.annotations).length === 0) delete md.annotations;
  }
  if (typeof md.generateName === 'string' && typeof md.name === 'string' && md.name.startsWith(md.generateName)) {
    notes.push(`name ${md.name} was generated: created with generateName ${md.generateName}`);
    delete md.name;
  }
  if (Array.isArray(md.ownerReferences)) {
    const kept = md.ownerReferences.filter((o) => isRecord(o) && keepOwner(o as unknown as OwnerTarget));
    for (const o of md.ownerReferences)
      if (!kept.includes(o)) notes.push(`owner reference to ${String(o?.kind)} ${String(o?.name)} dropped: the file does not create it`);
    for (const o of kept) delete (o as Record<string, unknown>).uid;
    if (kept.length > 0) md.ownerReferences = kept;
    else delete md.ownerReferences;
  }
  cleanSpec(obj, notes);
  return { object: obj, notes };
}

const TOKEN_VOLUME = /^kube-api-access-/;

function cleanSpec(obj: Record<string, unknown>, notes: string[]): void {
  const spec = obj.spec;
  if (!isRecord(spec)) return;
  if (obj.kind === 'Service' && spec.clusterIP !== 'None') {
    if (spec.clusterIP !== undefined || spec.clusterIPs !== undefined) notes.push('cluster IPs left for the API server to allocate');
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  if (obj.kind === 'Pod' && Array.isArray(spec.volumes)) {
    const token = spec.volumes.filter((v) => isRecord(v) && typeof v.name === 'string' && TOKEN_VOLUME.test(v.name)).map((v) => (v as { name: string }).name);
    if (token.length === 0) return;
    spec.volumes = spec.volumes.filter((v) => !token.includes((v as { name: string }).name));
    for (const list of ['containers', 'initContainers']) {
      for (const c of Array.isArray(spec[list]) ? spec[list] : []) {
        if (isRecord(c) && Array.isArray(c.volumeMounts)) c.volumeMounts = c.volumeMounts.filter((m) => !token.includes((m as { name: string }).name));
      }
    }
  }
}

/** `<redacted 15 bytes>` and `<redacted 15 bytes, changed>` as spans show a redacted value. */
const REDACTED = /^<redacted(?: (\d+) bytes)?(?:, changed)?>$/;

/** The redacted values in `v` (an object to create or a patch): path, recorded length, whether Secret data (base64). */
export function findPlaceholders(v: unknown, isSecret: boolean, path = ''): SecretPlaceholder[] {
  if (typeof v === 'string') {
    const m = REDACTED.exec(v);
    return m ? [{ path, bytes: Number(m[1] ?? 0), base64: isSecret && (path.startsWith('data.') || path.startsWith('data[')) }] : [];
  }
  if (Array.isArray(v)) return v.flatMap((x, i) => findPlaceholders(x, isSecret, `${path}[${i}]`));
  if (!isRecord(v)) return [];
  return Object.entries(v).flatMap(([k, x]) => findPlaceholders(x, isSecret, keySegment(path, k)));
}
