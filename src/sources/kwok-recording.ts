// kwok's recording (`kwokctl snapshot record`, `kectl snapshot record`; also `kubetrail export
// --format kwok`) read back as watch changes for `kubetrail import` (docs/import.md). The file is a
// YAML stream: the cluster's objects when recording started (the snapshot), then one
// `ResourcePatch` (action.kwok.x-k8s.io/v1alpha1) per change with its offset in nanoseconds —
// `create` (the whole object), `patch` (a strategic merge patch) or `delete`. Times inside the
// objects are written relative to the start too, as `$(time-offset-nanosecond N)`. The recording
// has no wall-clock start: the caller gives it. It has no requests either: no user, user agent or
// request body; managedFields (which kwok keeps) name the field managers.
//
// parseKwokRecording checks the whole file before anything is traced: a foreign file, a document
// of an unknown kwok kind or version, or a last document cut short (truncated) refuse it all
// (RecordingError); a malformed document in between is an item with an error, the rest is used.
import { isDeepStrictEqual } from 'node:util';
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { isRecord } from '../core/audit-event.ts';
import { kindToResource } from '../core/kinds.ts';
import { applyStrategicMerge } from '../normalize/strategic-merge.ts';
import type { ReplayItem } from './replay.ts';

export const KWOK_ACTION_GROUP = 'action.kwok.x-k8s.io';
export const KWOK_API_VERSION = `${KWOK_ACTION_GROUP}/v1alpha1`;
/** The span `source` of what an import of a kwok recording traced. */
export const KWOK_SOURCE = 'kwok-recording';

/** The file as a whole is not a kwok recording kubetrail can read: nothing is traced. */
export class RecordingError extends Error {}

type Gvr = { group: string; version: string; resource: string };

/** One document of the recording: a snapshot object, a patch, or why it is malformed. */
export type RecordingDoc = { line: number } & DocBody;

export interface RecordedPatch {
  gvr: Gvr;
  name: string;
  namespace: string;
  offsetNs: number;
  method: 'create' | 'patch' | 'delete';
  template?: Record<string, unknown>;
}

type DocBody = { object: Record<string, unknown>; gvr: Gvr } | { patch: RecordedPatch } | { error: string };

export interface KwokRecording {
  docs: RecordingDoc[];
  snapshot: number;
  patches: number;
  /** The last patch's offset (0 with none). */
  lastOffsetNs: number;
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
const METHODS = new Set(['create', 'patch', 'delete']);

/** A document as a snapshot object, a ResourcePatch, or a reason it is neither. */
function readDoc(v: unknown): DocBody {
  if (!isRecord(v)) return { error: `not a YAML mapping (${v === null ? 'empty' : Array.isArray(v) ? 'a list' : typeof v})` };
  if (typeof v.apiVersion === 'string' && v.apiVersion.startsWith(`${KWOK_ACTION_GROUP}/`)) {
    if (!str(v.kind)) return { error: 'a kwok document without a kind' };
    if (v.apiVersion !== KWOK_API_VERSION || v.kind !== 'ResourcePatch') {
      throw new RecordingError(`${v.kind} of ${v.apiVersion} is not a kind or version kubetrail reads (it reads ResourcePatch of ${KWOK_API_VERSION})`);
    }
    return readPatch(v);
  }
  const md = v.metadata;
  if (!str(v.apiVersion) || !str(v.kind) || !isRecord(md) || !str(md.name))
    return { error: 'neither a Kubernetes object (apiVersion, kind, metadata.name) nor a ResourcePatch' };
  const gvr = kindToResource(v.apiVersion, v.kind);
  return { object: v, gvr };
}

function readPatch(v: Record<string, unknown>): DocBody {
  const r = v.resource;
  const t = v.target;
  if (!isRecord(r) || !str(r.resource) || !str(r.version)) return { error: 'ResourcePatch without resource.resource and resource.version' };
  if (!isRecord(t) || !str(t.name)) return { error: 'ResourcePatch without target.name' };
  const offsetNs = v.durationNanosecond ?? 0;
  if (typeof offsetNs !== 'number' || !Number.isFinite(offsetNs) || offsetNs < 0)
    return { error: 'ResourcePatch with a durationNanosecond that is not a number ≥ 0' };
  if (typeof v.method !== 'string' || !METHODS.has(v.method))
    return { error: `ResourcePatch with method ${JSON.stringify(v.method)} (create, patch or delete)` };
  const method = v.method as 'create' | 'patch' | 'delete';
  if (method !== 'delete' && !isRecord(v.template)) return { error: `ResourcePatch (${method}) without a template` };
  const gvr = { group: typeof r.group === 'string' ? r.group : '', version: r.version, resource: r.resource };
  const namespace = typeof t.namespace === 'string' ? t.namespace : '';
  return { patch: { gvr, name: t.name, namespace, offsetNs, method, ...(isRecord(v.template) ? { template: v.template } : {}) } };
}

/** The whole recording checked (see the top); throws RecordingError when it cannot be used at all. */
export function parseKwokRecording(text: string): KwokRecording {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  if (!Array.isArray(parsed)) throw new RecordingError('not a kwok recording: not a YAML stream');
  // the empty document after a closing `---` is no document
  const all = parsed.filter((d) => d.errors.length > 0 || (d.contents !== null && !(isScalar(d.contents) && d.contents.value === null)));
  if (all.length === 0) throw new RecordingError('not a kwok recording: the file has no YAML documents');
  const docs: RecordingDoc[] = [];
  let patches = 0;
  let lastOffsetNs = 0;
  for (const [i, d] of all.entries()) {
    const line = lines.linePos(d.range[0]).line;
    const last = i === all.length - 1;
    let doc: DocBody;
    if (d.errors.length > 0) doc = { error: `not YAML: ${d.errors[0]!.message.split('\n')[0]}` };
    else doc = readDoc(d.toJS({ maxAliasCount: 100 }));
    if ('error' in doc && i === 0) throw new RecordingError(`not a kwok recording: the first document (line ${line}) is ${doc.error}`);
    if ('error' in doc && last) throw new RecordingError(`truncated: the last document (line ${line}) is cut short: ${doc.error}`);
    if ('object' in doc && patches > 0) doc = { error: 'an object after the first ResourcePatch (the snapshot comes first)' };
    if ('patch' in doc) {
      patches++;
      lastOffsetNs = Math.max(lastOffsetNs, doc.patch.offsetNs);
    }
    docs.push({ line, ...doc });
  }
  const uid = (d: RecordingDoc) => 'object' in d && isRecord(d.object.metadata) && str(d.object.metadata.uid);
  if (patches === 0 && !docs.some(uid)) {
    throw new RecordingError('not a kwok recording: no ResourcePatch and no object with a uid (a manifest, not a recorded cluster)');
  }
  if (!text.endsWith('\n')) throw new RecordingError('truncated: the file does not end with a line break (kwok ends every document with one)');
  return { docs, snapshot: docs.filter((d) => 'object' in d).length, patches, lastOffsetNs };
}

const OFFSET = /^\$\(time-offset-nanosecond (-?\d+)\)$/;

/** `$(time-offset-nanosecond N)` strings made times again: RFC 3339 at `startUs` + N. */
export function resolveTimes(v: unknown, startUs: number): unknown {
  if (typeof v === 'string') {
    const m = OFFSET.exec(v);
    return m ? new Date(Math.round(startUs / 1000 + Number(m[1]) / 1e6)).toISOString() : v;
  }
  if (Array.isArray(v)) return v.map((x) => resolveTimes(x, startUs));
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveTimes(x, startUs)]));
  return v;
}

const isKubeEvents = (g: Gvr) => g.resource === 'events' && (g.group === '' || g.group === 'events.k8s.io');

export interface RecordedItem extends ReplayItem {
  /** Deliberately not traced (reason code), e.g. a patch that changed nothing. */
  skipped?: string;
}

/**
 * The recording as items for replay(): snapshot objects as ADDED at `startUs`, each patch as the
 * change it made at `startUs` + its offset (Kubernetes Events as Events). `file` names the items.
 */
export function* kwokChanges(rec: KwokRecording, startUs: number, file: string): Generator<RecordedItem> {
  const state = new Map<string, Record<string, unknown>>();
  const keyOf = (g: Gvr, ns: string, name: string) => `${g.group}/${g.resource}/${ns}/${name}`;
  for (const [seq, d] of rec.docs.entries()) {
    const item = { file, line: d.line };
    if ('error' in d) {
      yield { ...item, error: d.error };
      continue;
    }
    const gvr = 'object' in d ? d.gvr : d.patch.gvr;
    const atUs = 'object' in d ? startUs : startUs + d.patch.offsetNs / 1000;
    const obj = 'object' in d ? d.object : undefined;
    const md = obj?.metadata as Record<string, unknown> | undefined;
    const ns = 'patch' in d ? d.patch.namespace : String(md?.namespace ?? '');
    const name = 'patch' in d ? d.patch.name : String(md?.name);
    const key = keyOf(gvr, ns, name);
    const before = state.get(key);
    const change = nextChange(before, 'object' in d ? { method: 'create', template: d.object } : d.patch, startUs);
    if ('skipped' in change) {
      yield { ...item, skipped: change.skipped };
      continue;
    }
    if (change.type === 'DELETED') state.delete(key);
    else if (change.object) state.set(key, change.object);
    const object = change.object ?? { metadata: { name, ...(ns ? { namespace: ns } : {}) } };
    if (isKubeEvents(gvr)) {
      yield change.type === 'DELETED' ? { ...item, skipped: 'event-deleted' } : { ...item, event: object };
      continue;
    }
    yield { ...item, event: { type: change.type, object, ...gvr, recorded: { atUs, source: KWOK_SOURCE, id: `${startUs}/${seq}` } } };
  }
}

type Change = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Record<string, unknown> | undefined } | { skipped: string };

/** What a document does to the object's last state (`before`, undefined when not seen). */
function nextChange(before: Record<string, unknown> | undefined, p: { method: string; template?: Record<string, unknown> }, startUs: number): Change {
  if (p.method === 'delete') return { type: 'DELETED', object: before };
  const template = resolveTimes(p.template, startUs) as Record<string, unknown>;
  if (p.method === 'create') return { type: before ? 'MODIFIED' : 'ADDED', object: template };
  if (!before) return { skipped: 'patch-of-unseen-object' };
  const after = applyStrategicMerge(before, template) as Record<string, unknown>;
  return isDeepStrictEqual(before, after) ? { skipped: 'unchanged' } : { type: 'MODIFIED', object: after };
}
