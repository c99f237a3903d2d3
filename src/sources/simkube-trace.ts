// SimKube's trace file (sk-tracer / `skctl export`; also `kubetrail export --format simkube`) read
// back as watch changes for `kubetrail import` (docs/import.md). The file is msgpack: a map of
// `version` (2), `config` (the tracer's `trackedObjects`), `events` (each a `ts` in Unix seconds
// with the whole objects applied then and the objects deleted), `index` (per group/version.kind,
// `namespace/name` -> a hash of the spec) and `pod_lifecycles` (pods' run times per owner). The
// objects are sanitized by the tracer: no uid, resourceVersion, creationTimestamp, managedFields —
// so who made a change is not in the file.
//
// parseSimkubeTrace checks the whole file before anything is traced: not msgpack, a foreign
// msgpack value, another version, or a file cut short (msgpack is length-prefixed: a cut always
// shows) refuse it all (RecordingError); a malformed event or object inside is an item with an
// error, the rest is used.
import { isDeepStrictEqual } from 'node:util';
import { DecodeError, Decoder } from '@msgpack/msgpack';
import { isRecord } from '../core/audit-event.ts';
import { kindToResource } from '../core/kinds.ts';
import { SIMKUBE_SOURCE } from '../core/model.ts';
import { type RecordedItem, RecordingError } from './kwok-recording.ts';

/** The trace format version SimKube writes and reads (sk-core CURRENT_TRACE_FORMAT_VERSION). */
export const SIMKUBE_TRACE_VERSION = 2;

export interface SimkubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, unknown>;
  [field: string]: unknown;
}

/** One object of an event, or why it cannot be used; `event` is the event's position (1 = the first). */
export type SimkubeEntry = { event: number; ts: number; deleted: boolean; object: SimkubeObject } | { event: number; error: string };

export interface SimkubeTrace {
  version: number;
  /** `trackedObjects` keys: group/version.kind */
  tracked: string[];
  entries: SimkubeEntry[];
  events: number;
  /** First and last event times (Unix seconds); 0 with no events. */
  firstTs: number;
  lastTs: number;
}

/** A msgpack map or list starts with one of these bytes; text (YAML, JSON) never does. */
export function looksLikeMsgpack(bytes: Uint8Array): boolean {
  const b = bytes[0];
  return b !== undefined && ((b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf));
}

/** bigint (int64 on the wire) back to a number where it fits; map keys of any type as strings. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plain);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function decodeWhole(bytes: Uint8Array): unknown {
  // pod_lifecycles is keyed by (owner kind, owner name) lists: keys of any type become strings
  const decoder = new Decoder({ useBigInt64: true, mapKeyConverter: (k) => (typeof k === 'string' || typeof k === 'number' ? k : JSON.stringify(plain(k))) });
  try {
    return decoder.decode(bytes);
  } catch (err) {
    const msg = (err as Error).message;
    if (/^Extra \d+ of \d+ byte/.test(msg)) throw new RecordingError(`not a SimKube trace: data after the trace (${msg})`);
    if (!(err instanceof DecodeError) && /insufficient data|outside the bounds/i.test(msg)) {
      throw new RecordingError(`truncated: the msgpack data ends inside a value (${msg})`);
    }
    throw new RecordingError(`not a SimKube trace: not msgpack (${msg})`);
  }
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
const tsOf = (v: unknown): number | undefined => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' && Number.isInteger(v) ? v : undefined);

function readObject(v: unknown): SimkubeObject | string {
  if (!isRecord(v)) return `an object that is not a map (${v === null ? 'nil' : Array.isArray(v) ? 'a list' : typeof v})`;
  const md = v.metadata;
  if (!str(v.apiVersion) || !str(v.kind) || !isRecord(md) || !str(md.name)) return 'an object without apiVersion, kind and metadata.name';
  return plain(v) as SimkubeObject;
}

function readEvent(v: unknown, event: number): SimkubeEntry[] {
  if (!isRecord(v)) return [{ event, error: 'an event that is not a map' }];
  const ts = tsOf(v.ts);
  if (ts === undefined) return [{ event, error: 'an event without an integer ts' }];
  const out: SimkubeEntry[] = [];
  for (const [field, deleted] of [
    ['applied_objs', false],
    ['deleted_objs', true],
  ] as const) {
    const list = v[field] ?? [];
    if (!Array.isArray(list)) {
      out.push({ event, error: `${field} is not a list` });
      continue;
    }
    for (const o of list) {
      const object = readObject(o);
      out.push(typeof object === 'string' ? { event, error: `${field}: ${object}` } : { event, ts, deleted, object });
    }
  }
  return out;
}

/** The whole trace checked (see the top); throws RecordingError when it cannot be used at all. */
export function parseSimkubeTrace(bytes: Uint8Array): SimkubeTrace {
  const top = decodeWhole(bytes);
  if (Array.isArray(top)) {
    throw new RecordingError('not a SimKube trace kubetrail reads: a msgpack list, not a map with a version (SimKube wrote lists before trace version 2)');
  }
  if (!isRecord(top) || !('version' in top) || !('events' in top)) {
    throw new RecordingError('not a SimKube trace: the msgpack value is not a map with version and events');
  }
  const version = tsOf(top.version);
  if (version !== SIMKUBE_TRACE_VERSION) {
    throw new RecordingError(`SimKube trace version ${String(top.version)} is not one kubetrail reads (it reads version ${SIMKUBE_TRACE_VERSION})`);
  }
  if (!Array.isArray(top.events)) throw new RecordingError('not a SimKube trace: events is not a list');
  const config = isRecord(top.config) ? top.config : {};
  const tracked = isRecord(config.trackedObjects) ? Object.keys(config.trackedObjects) : [];
  const entries = top.events.flatMap((e, i) => readEvent(e, i + 1));
  const times = top.events.map((e) => (isRecord(e) ? tsOf(e.ts) : undefined)).filter((t): t is number => t !== undefined);
  return { version, tracked, entries, events: top.events.length, firstTs: times[0] ?? 0, lastTs: times.at(-1) ?? 0 };
}

const isKubeEvents = (g: { group: string; resource: string }) => g.resource === 'events' && (g.group === '' || g.group === 'events.k8s.io');

/**
 * The trace as items for replay(): each applied object as ADDED (first seen) or MODIFIED at its
 * event's time + `shiftUs`, each deleted object as DELETED with its last seen state. `file` names
 * the items (`file:N`, N the event's position).
 */
export function* simkubeChanges(trace: SimkubeTrace, shiftUs: number, file: string): Generator<RecordedItem> {
  const state = new Map<string, Record<string, unknown>>();
  for (const [seq, e] of trace.entries.entries()) {
    const item = { file, line: e.event };
    if ('error' in e) {
      yield { ...item, error: e.error };
      continue;
    }
    const { object, deleted } = e;
    const gvr = kindToResource(object.apiVersion, object.kind);
    const ns = typeof object.metadata.namespace === 'string' ? object.metadata.namespace : '';
    const key = `${gvr.group}/${gvr.resource}/${ns}/${object.metadata.name}`;
    const before = state.get(key);
    if (isKubeEvents(gvr)) {
      yield deleted ? { ...item, skipped: 'event-deleted' } : { ...item, event: object };
      continue;
    }
    if (!deleted && before && isDeepStrictEqual(before, object)) {
      yield { ...item, skipped: 'unchanged' };
      continue;
    }
    if (deleted) state.delete(key);
    else state.set(key, object);
    const type = deleted ? 'DELETED' : before ? 'MODIFIED' : 'ADDED';
    const recorded = { atUs: e.ts * 1e6 + shiftUs, source: SIMKUBE_SOURCE, id: `${trace.firstTs}/${seq}` };
    yield { ...item, event: { type, object: deleted ? (before ?? object) : object, ...gvr, recorded } };
  }
}
