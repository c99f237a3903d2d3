// `kubetrail export`: the driving actors' writes of a recorded range as a re-enactment file
// (format.ts, docs/reenact.md). Driving = not a built-in controller (isRoutine of the diagnosis:
// kube-controller-manager, scheduler, kubelets, kwok, the API server), overridable with
// --include-actor / --exclude-actor patterns. Every write of every object is walked in time order
// to rebuild each object's state (clean.ts); only the driving ones become actions.
import { Attr, objectKey, type SpanRecord } from '../../src/core/model.ts';
import { KNOWN } from '../../src/core/kinds.ts';
import { isRecord } from '../../src/core/audit-event.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { isRoutine } from '../diagnose/span-index.ts';
import { isKubeEvent, subresourceOf, actorOf, verbOf } from '../../src/core/span-view.ts';
import { isFailed } from '../../src/core/failed.ts';
import { applyChanges, cleanForCreate, type DiffChange, findPlaceholders, mergePatch } from './clean.ts';
import { FORMAT, FORMAT_VERSION, type ActionRef, type ReenactAction, type ReenactFile } from './format.ts';

export interface ExportOptions {
  /** Needed when the store holds several clusters. */
  cluster?: string;
  /** Only these namespaces' objects and the Namespace objects themselves; empty: everything. */
  namespaces: string[];
  startUs?: number;
  endUs?: number;
  /** Glob patterns (`*`) of users: included even when routine / left out even when driving. */
  includeActors: string[];
  excludeActors: string[];
}

export class ExportError extends Error {}

const glob = (p: string): RegExp =>
  new RegExp(
    `^${p
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** The documented actor rule: a user matching --exclude-actor is left out, one matching --include-actor kept, else the routine ones left out. */
export function drivingRule(include: string[], exclude: string[]): (s: SpanRecord) => boolean {
  const inc = include.map(glob);
  const exc = exclude.map(glob);
  return (s) => {
    const user = actorOf(s);
    if (exc.some((r) => r.test(user))) return false;
    return inc.some((r) => r.test(user)) || !isRoutine(s);
  };
}

/** RFC 3339 with microseconds. */
export const isoUs = (us: number): string => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 23)}${String(Math.floor(us % 1000)).padStart(3, '0')}Z`;

const rvNum = (s: SpanRecord): number => Number(s.attributes[Attr.newResourceVersion] ?? 0) || 0;
const byTime = (a: SpanRecord, b: SpanRecord): number => a.startUs - b.startUs || rvNum(a) - rvNum(b) || a.endUs - b.endUs;

function parseJson(text: unknown): Record<string, unknown> | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The writes of the range (audit and watch event spans, not Kubernetes Events), de-duplicated, in time order. */
export async function writesOf(backend: TraceBackend, o: ExportOptions, cluster: string): Promise<SpanRecord[]> {
  const wanted = new Set(o.namespaces);
  const keep = (s: SpanRecord): boolean =>
    wanted.size === 0 || wanted.has(s.object.namespace) || (s.object.group === '' && s.object.resource === 'namespaces' && wanted.has(s.object.name));
  const seen = new Set<string>();
  const out: SpanRecord[] = [];
  // from the start of the record, not --since: the state of an object created before the range is rebuilt from its create
  const scan = {
    cluster,
    namespace: o.namespaces.length === 1 ? o.namespaces[0] : undefined,
    startUs: 0,
    endUs: o.endUs ?? Number.MAX_SAFE_INTEGER,
    snapshots: 'all' as const,
  };
  for await (const batch of backend.scanSpans(scan)) {
    for (const s of batch) {
      if (s.kind !== 'event' || isKubeEvent(s) || verbOf(s) === '' || s.startUs > scan.endUs || !keep(s)) continue;
      const id = s.traceId + s.spanId;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(slim(s));
    }
  }
  return out.sort(byTime);
}

/** What the walk reads of a span; the rest (links, verbose diffs, most of the diff text) is not held while the range is sorted. */
const WALKED = new Set<string>([
  Attr.source,
  Attr.user,
  Attr.fieldManager,
  Attr.userAgent,
  Attr.auditId,
  Attr.verb,
  Attr.subresource,
  Attr.code,
  Attr.version,
  Attr.newResourceVersion,
  Attr.diffEntries,
  Attr.snapshot,
  Attr.firstSeen,
]);

function slim(s: SpanRecord): SpanRecord {
  const a: SpanRecord['attributes'] = {};
  for (const k in s.attributes) if (WALKED.has(k)) a[k] = s.attributes[k]!;
  // the diff text only for its last line: "... N more changed paths" when it was cut
  const diff = s.attributes[Attr.diff];
  if (typeof diff === 'string' && diff.endsWith(' more changed paths')) a[Attr.diff] = diff.slice(diff.lastIndexOf('\n'));
  return { ...s, attributes: a };
}

export async function pickCluster(backend: TraceBackend, asked: string | undefined): Promise<string> {
  if (asked !== undefined) return asked;
  const clusters = await backend.clusters();
  if (clusters.length === 1) return clusters[0]!;
  throw new ExportError(
    clusters.length === 0 ? 'the store holds no cluster' : `give --cluster: the store holds ${clusters.length} clusters (${clusters.join(', ')})`,
  );
}

/** apiVersion and kind of an object: from a recorded version of it, else the built-in kinds table. */
function refOf(s: SpanRecord, known: Record<string, unknown> | undefined): ActionRef | undefined {
  const { group, resource, namespace, name } = s.object;
  let apiVersion = typeof known?.apiVersion === 'string' ? known.apiVersion : '';
  let kind = typeof known?.kind === 'string' ? known.kind : '';
  if (!kind) {
    const version = String(s.attributes[Attr.version] ?? '') || 'v1';
    const entry = Object.entries(KNOWN).find(([, [g, r]]) => g === group && r === resource);
    if (!entry) return undefined;
    kind = entry[0];
    apiVersion = group === '' ? version : `${group}/${version}`;
  }
  return { apiVersion, kind, group, resource, namespace, name };
}

/** Walks the writes in time order, keeping each object's rebuilt state; the driving ones in range become actions. */
class Walk {
  readonly actions: ReenactAction[] = [];
  readonly skipped: Record<string, number> = {};
  readonly #state = new Map<string, Record<string, unknown> | undefined>();
  /** `group|kind|namespace|name` of the objects the file creates (owner references to them are kept). */
  readonly #created = new Set<string>();
  readonly #driving: (s: SpanRecord) => boolean;
  readonly #startUs: number;

  constructor(o: ExportOptions) {
    this.#driving = drivingRule(o.includeActors, o.excludeActors);
    this.#startUs = o.startUs ?? 0;
  }

  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  step(s: SpanRecord): void {
    const key = objectKey(s.object);
    const before = this.#state.get(key);
    const verb = verbOf(s);
    const failed = isFailed(s);
    const snapshot = parseJson(s.attributes[Attr.snapshot]);
    const entries = parseEntries(s.attributes[Attr.diffEntries]);
    const after = failed ? before : nextState(before, s, snapshot, entries);
    if (s.startUs >= this.#startUs && this.#driving(s)) {
      if (failed) this.skip('failed request (the API server refused it when recorded)');
      else {
        const skipped = this.#action(s, verb, before, after, snapshot, entries ?? []);
        if (skipped) this.skip(skipped);
      }
    }
    this.#state.set(key, isDelete(verb) ? undefined : after);
  }

  /** Pushes the action of a driving write; or says why it is left out. */
  #action(
    s: SpanRecord,
    verb: string,
    before: Record<string, unknown> | undefined,
    after: Record<string, unknown> | undefined,
    snapshot: Record<string, unknown> | undefined,
    entries: DiffChange[],
  ): string | undefined {
    const sub = subresourceOf(s);
    const ref = refOf(s, after ?? before ?? snapshot);
    if (!ref) return 'unknown kind (no recorded version of the object)';
    const recorded = {
      verb,
      ...(sub ? { subresource: sub } : {}),
      user: actorOf(s),
      ...(s.attributes[Attr.userAgent] ? { userAgent: String(s.attributes[Attr.userAgent]) } : {}),
      ...(s.attributes[Attr.auditId] ? { auditId: String(s.attributes[Attr.auditId]) } : {}),
    };
    const base = { seq: 0, offsetMs: s.startUs, time: isoUs(s.startUs), ref, recorded };
    if (sub === '' && verb === 'create') {
      if (!snapshot) return 'create whose object was not recorded whole (Metadata-level audit, or cut at --max-attribute-bytes)';
      const cleaned = cleanForCreate(snapshot, (o) => this.#created.has(`${groupOf(o.apiVersion)}|${o.kind}|${ref.namespace}|${o.name}`));
      this.#created.add(`${ref.group}|${ref.kind}|${ref.namespace}|${ref.name}`);
      this.#push({ ...base, verb: 'create', object: cleaned.object }, cleaned.notes, cleaned.object);
      return undefined;
    }
    if (sub === '' && (verb === 'delete' || verb === 'deletecollection')) {
      this.#push({ ...base, verb: 'delete' }, [], undefined);
      return undefined;
    }
    if ((verb !== 'update' && verb !== 'patch') || (sub !== '' && sub !== 'status' && sub !== 'scale')) return `${verb} ${sub || 'object'} (not re-enacted)`;
    const { patch, changed, unknownLists } = mergePatch(entries, after, sub === 'status' ? 'status' : '');
    if (Object.keys(patch).length === 0) return 'write that changed nothing re-appliable';
    const notes = unknownLists.map((p) => `${p} left out: the list it is in was never recorded whole`);
    const more = /\n\.\.\. (\d+) more changed paths$/.exec(String(s.attributes[Attr.diff] ?? ''));
    if (more) notes.push(`${more[1]} more changed paths were not recorded (the diff was cut at 500 lines): not in the patch`);
    const action: ReenactAction = { ...base, verb: 'patch', patch, ...(sub === 'status' ? { subresource: 'status' } : {}) };
    action.recorded.changed = changed;
    this.#push(action, notes, patch);
    return undefined;
  }

  /** Adds the action, its fields in reading order: when, what, on which object, with what, as recorded. */
  #push(a: ReenactAction, notes: string[], body: unknown): void {
    const secrets = findPlaceholders(body, a.ref.group === '' && a.ref.resource === 'secrets');
    const { seq, offsetMs, time, verb, subresource, ref, object, patch, recorded } = a;
    this.actions.push({
      seq,
      offsetMs,
      time,
      verb,
      ...(subresource ? { subresource } : {}),
      ref,
      ...(object ? { object } : {}),
      ...(patch ? { patch } : {}),
      ...(secrets.length > 0 ? { secrets } : {}),
      ...(notes.length > 0 ? { notes } : {}),
      recorded,
    });
  }
}

const isDelete = (verb: string): boolean => verb === 'delete' || verb === 'deletecollection';

/**
 * The object after an accepted write: the recorded object of a create, a delete or a first-seen
 * write; else the state before with the write's diff applied; undefined when it cannot be known.
 */
export function nextState(
  before: Record<string, unknown> | undefined,
  s: SpanRecord,
  snapshot = parseJson(s.attributes[Attr.snapshot]),
  entries = parseEntries(s.attributes[Attr.diffEntries]),
): Record<string, unknown> | undefined {
  const verb = verbOf(s);
  if (snapshot && (verb === 'create' || s.attributes[Attr.firstSeen] === true || isDelete(verb))) return snapshot;
  if (!entries) return before;
  return before ? applyChanges(before, entries) : undefined;
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

function parseEntries(text: unknown): DiffChange[] | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as DiffChange[]) : undefined;
  } catch {
    return undefined;
  }
}

/** The re-enactment file of a store's range (docs/reenact.md). */
export async function exportReenact(backend: TraceBackend, o: ExportOptions, now = new Date()): Promise<ReenactFile> {
  const cluster = await pickCluster(backend, o.cluster);
  const walk = new Walk(o);
  for (const s of await writesOf(backend, o, cluster)) walk.step(s);
  const actions = walk.actions;
  const t0 = actions[0]?.offsetMs ?? 0;
  actions.forEach((a, i) => {
    a.seq = i + 1;
    a.offsetMs = (a.offsetMs - t0) / 1000;
  });
  const firstUs = o.startUs ?? t0;
  return {
    header: {
      format: FORMAT,
      version: FORMAT_VERSION,
      cluster,
      from: isoUs(firstUs),
      until: isoUs(o.endUs ?? t0 + (actions.at(-1)?.offsetMs ?? 0) * 1000),
      exportedAt: now.toISOString(),
      namespaces: o.namespaces,
      actors: { routineExcluded: true, include: o.includeActors, exclude: o.excludeActors },
      skipped: walk.skipped,
    },
    actions,
  };
}
