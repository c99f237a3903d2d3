// An index over the spans of a time range, built once per report and shared by the detectors:
// events per object in time order, parsed diff lines, owner and node relations (from link spans
// and create snapshots), and the helpers that turn a span into a finding's evidence and link.
import { isWrite } from '../../src/core/failed.ts';
import { Attr, objectKey, parseObjectKey, SIMKUBE_SOURCE, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { actorOf, codeOf, errorOf, isKubeEvent, linkOf, subresourceOf, verbOf } from '../../src/core/span-view.ts';
import type { Cause, Evidence } from './types.ts';

export const NONE = '<none>';

export interface DiffLine {
  path: string;
  /** JSON text of the old value, or `<none>`. */
  old: string;
  new: string;
}

export interface ObjectHistory {
  ref: ObjectRef;
  key: string;
  /** Event spans (audit, watch, Kubernetes Event) in time order. */
  events: SpanRecord[];
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/**
 * The built-in controllers' identities (kube-controller-manager's service accounts in kube-system,
 * the scheduler, the API server itself, kubelets and kwok's own controller): their routine
 * behaviour (a retried 409, a no-op status write, garbage collection) is information, not a warning.
 */
export function isRoutineActor(user: string): boolean {
  return (
    user.startsWith('system:serviceaccount:kube-system:') ||
    user.startsWith('system:node:') ||
    ['system:kube-scheduler', 'system:kube-controller-manager', 'system:apiserver', 'kwok', 'kwok-controller'].includes(user)
  );
}
/** The built-in components' clients, by user agent (kwok's controller runs with an admin kubeconfig). */
const ROUTINE_AGENTS = /^(kwok-controller|kube-controller-manager|kube-scheduler)\//;
/** A request of a built-in controller: by its identity, or by its client's user agent. */
export const isRoutine = (s: SpanRecord): boolean => isRoutineActor(actorOf(s)) || ROUTINE_AGENTS.test(str(s.attributes[Attr.userAgent]));
export const isCreate = (s: SpanRecord): boolean => isWrite(s) && verbOf(s) === 'create' && subresourceOf(s) === '';
/**
 * A request about objects of another resource shown on a namespace's trace (a deletecollection that
 * matched nothing, as the namespace controller sends many while it empties a namespace): named
 * `<verb> <resource>`, where an event of the namespace itself is named after its verb.
 */
export const isAboutNamespaceContent = (s: SpanRecord): boolean =>
  s.object.resource === 'namespaces' && s.name.startsWith(`${verbOf(s)} `) && subresourceOf(s) === '';
export const isDelete = (s: SpanRecord): boolean =>
  isWrite(s) && (verbOf(s) === 'delete' || verbOf(s) === 'deletecollection') && subresourceOf(s) === '' && !isAboutNamespaceContent(s);
export const isBinding = (s: SpanRecord): boolean => isWrite(s) && subresourceOf(s) === 'binding';

/** `path old -> new` lines of a diff (values are JSON, which may itself contain ` -> `). */
export function parseDiff(text: unknown): DiffLine[] {
  if (typeof text !== 'string' || text === '') return [];
  const out: DiffLine[] = [];
  for (const line of text.split('\n')) {
    const sp = pathEnd(line);
    if (sp <= 0) continue;
    const path = line.slice(0, sp);
    const rest = line.slice(sp + 1);
    let at = rest.indexOf(' -> ');
    while (at >= 0) {
      const left = rest.slice(0, at);
      if (left === NONE || isJson(left)) break;
      at = rest.indexOf(' -> ', at + 1);
    }
    if (at < 0) continue;
    out.push({ path, old: rest.slice(0, at), new: rest.slice(at + 4) });
  }
  return out;
}

/** Index of the space ending the path (spaces inside `["…"]` are part of it). */
function pathEnd(line: string): number {
  const sp = line.indexOf(' ');
  const quote = line.indexOf('"');
  // most paths have no quote before their end: the first space ends them
  if (quote < 0 || quote > sp) return sp;
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"' && line[i - 1] !== '\\') inQuote = !inQuote;
    else if (c === ' ' && !inQuote) return i;
  }
  return -1;
}

/** JSON text of the common shapes (a number, true/false/null, a string without escapes), told without parsing it. */
const SIMPLE_JSON = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|"[^"\\\u0000-\u001f]*")$/;

function isJson(s: string): boolean {
  if (SIMPLE_JSON.test(s)) return true;
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

/** A diff value as JS (numbers, strings…); undefined for `<none>` or unparsable text. */
export function diffValue(text: string): unknown {
  if (text === NONE) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A span's time as ISO 8601 (millisecond precision). */
export const isoOf = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

/** The UI link that opens `ref` around `us`. */
export function redirectUrl(ref: ObjectRef, us: number): string {
  const q = new URLSearchParams({
    cluster: ref.cluster,
    group: ref.group,
    resource: ref.resource,
    namespace: ref.namespace,
    name: ref.name,
    ts: isoOf(us),
  });
  return `/redirect?${q.toString()}`;
}

/** A span as evidence; `diffFilter` keeps only the diff lines that matter to the finding. */
export function evidenceOf(s: SpanRecord, diffFilter?: (line: DiffLine) => boolean): Evidence {
  const a = s.attributes;
  const ev: Evidence = {
    time: isoOf(s.startUs),
    user: actorOf(s),
    verb: isKubeEvent(s) ? `event ${str(a[Attr.eventReason])}` : verbOf(s),
    object: s.object,
  };
  const sub = subresourceOf(s);
  if (sub) ev.subresource = sub;
  const code = codeOf(s);
  if (code) ev.code = code;
  const diff = typeof a[Attr.diff] === 'string' ? (a[Attr.diff] as string) : '';
  if (diff) {
    const lines = diffFilter
      ? parseDiff(diff)
          .filter(diffFilter)
          .map((l) => `${l.path} ${l.old} -> ${l.new}`)
      : diff.split('\n');
    if (lines.length) ev.diff = (lines.length > 5 ? [...lines.slice(0, 5), `… ${lines.length - 5} more lines`] : lines).join('\n');
  }
  const msg = errorOf(s) ?? (typeof a[Attr.eventMessage] === 'string' ? a[Attr.eventMessage] : undefined);
  if (msg) ev.message = String(msg);
  return ev;
}

const PAST: Record<string, string> = { create: 'created', update: 'updated', patch: 'patched', apply: 'applied', delete: 'deleted' };
/** `created`, `patched`, … of a write's verb. */
export const pastOf = (s: SpanRecord): string => PAST[verbOf(s)] ?? `${verbOf(s)} (verb)`;

/** A write as a finding's cause: its actor, verb, object and time, with a summary (and the refusal message). */
export function writeCause(s: SpanRecord, summary: string, message?: string): Cause {
  const c: Cause = { actor: actorOf(s), verb: verbOf(s), object: s.object, time: isoOf(s.startUs), summary, redirect: redirectUrl(s.object, s.startUs) };
  const sub = subresourceOf(s);
  if (sub) c.subresource = sub;
  if (message) c.message = message;
  return c;
}

/** Up to `max` evidence items: the first ones and the last one (the story's start and end). */
export function sampleEvidence(spans: readonly SpanRecord[], max = 8, diffFilter?: (line: DiffLine) => boolean): Evidence[] {
  const pick = spans.length <= max ? spans : [...spans.slice(0, max - 1), spans[spans.length - 1]!];
  return pick.map((s) => evidenceOf(s, diffFilter));
}

export function percentile(sortedAsc: readonly number[], p: number): number {
  if (sortedAsc.length === 0) return 0;
  const i = Math.min(sortedAsc.length - 1, Math.max(0, Math.ceil((p / 100) * sortedAsc.length) - 1));
  return sortedAsc[i]!;
}

export interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Percentiles of values (seconds), rounded to ms. */
export function stats(values: number[]): Stats {
  const v = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { count: v.length, p50: r(percentile(v, 50)), p90: r(percentile(v, 90)), p99: r(percentile(v, 99)), max: r(v[v.length - 1] ?? 0) };
}

export const formatSec = (s: number): string =>
  s < 1 ? `${Math.round(s * 1000)} ms` : s < 120 ? `${Math.round(s * 10) / 10} s` : `${Math.round(s / 6) / 10} min`;
const KINDS: Record<string, string> = {
  pods: 'Pod',
  nodes: 'Node',
  services: 'Service',
  configmaps: 'ConfigMap',
  secrets: 'Secret',
  namespaces: 'Namespace',
  'apps/deployments': 'Deployment',
  'apps/replicasets': 'ReplicaSet',
  'apps/statefulsets': 'StatefulSet',
  'apps/daemonsets': 'DaemonSet',
  'batch/jobs': 'Job',
  'batch/cronjobs': 'CronJob',
  persistentvolumeclaims: 'PersistentVolumeClaim',
  persistentvolumes: 'PersistentVolume',
  'policy/poddisruptionbudgets': 'PodDisruptionBudget',
};
/** `Deployment demo/web`, `Node kwok-node-1`, `widgets.example.com ns/x` for kinds it does not know. */
export const refText = (r: ObjectRef): string =>
  `${KINDS[r.group ? `${r.group}/${r.resource}` : r.resource] ?? `${r.resource}${r.group ? `.${r.group}` : ''}`} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

export class SpanIndex {
  readonly spans: readonly SpanRecord[];
  readonly objects = new Map<string, ObjectHistory>();
  /** child key → parent key → link class (from link spans with role `parent`, and the mirror with role `child`). */
  readonly parents = new Map<string, Map<string, string>>();
  readonly children = new Map<string, Map<string, string>>();
  /** `child|parent` of the controlling owner references (link.controller). */
  readonly #controllers = new Set<string>();
  // a Map, not a WeakMap: the index lives for one report, and weak entries cost the collector more
  #snapshots = new Map<SpanRecord, Record<string, unknown> | null>();
  #memo = new Map<string, unknown>();

  constructor(spans: readonly SpanRecord[]) {
    this.spans = spans;
    // spans of one object mostly share one ObjectRef (the loader's): its history found by identity first
    const byRef = new Map<ObjectRef, ObjectHistory>();
    const keys = new Map<ObjectRef, string>();
    const keyOf = (ref: ObjectRef): string => {
      let key = keys.get(ref);
      if (key === undefined) keys.set(ref, (key = objectKey(ref)));
      return key;
    };
    for (const s of spans) {
      if (s.kind === 'event') {
        let h = byRef.get(s.object);
        if (!h) {
          const key = keyOf(s.object);
          h = this.objects.get(key);
          if (!h) this.objects.set(key, (h = { ref: s.object, key, events: [] }));
          byRef.set(s.object, h);
        }
        h.events.push(s);
      } else {
        const l = linkOf(s);
        if (!l) continue;
        const me = keyOf(s.object);
        const [child, parent] = l.role === 'parent' ? [me, l.other] : [l.other, me];
        this.#relate(child, parent, l.class);
        if (l.controller) this.#controllers.add(`${child}|${parent}`);
      }
    }
    for (const h of this.objects.values()) h.events.sort((a, b) => a.startUs - b.startUs);
  }

  #relate(child: string, parent: string, cls: string): void {
    let p = this.parents.get(child);
    if (!p) this.parents.set(child, (p = new Map()));
    p.set(parent, cls);
    let c = this.children.get(parent);
    if (!c) this.children.set(parent, (c = new Map()));
    c.set(child, cls);
  }

  /** Parsed diff lines (not cached: a large range would hold every line of every span twice). */
  diff(s: SpanRecord): DiffLine[] {
    return parseDiff(s.attributes[Attr.diff]);
  }

  /** The create/delete snapshot as an object, or undefined. */
  snapshot(s: SpanRecord): Record<string, unknown> | undefined {
    let v = this.#snapshots.get(s);
    if (v === undefined) {
      v = null;
      const text = s.attributes[Attr.snapshot];
      if (typeof text === 'string') {
        try {
          const o = JSON.parse(text) as unknown;
          if (o && typeof o === 'object' && !Array.isArray(o)) v = o as Record<string, unknown>;
        } catch {
          // a truncated or odd snapshot: no facts from it
        }
      }
      this.#snapshots.set(s, v);
    }
    return v ?? undefined;
  }

  /** Parent keys of an object of a link class (`children` = owner, `node` = node). */
  parentsOf(key: string, cls: string): string[] {
    const out: string[] = [];
    for (const [k, c] of this.parents.get(key) ?? []) if (c === cls) out.push(k);
    return out;
  }

  childrenOf(key: string, cls: string): string[] {
    const out: string[] = [];
    for (const [k, c] of this.children.get(key) ?? []) if (c === cls) out.push(k);
    return out;
  }

  /** The controlling owner of an object (owner-reference link), else its first owner, if any. */
  ownerOf(key: string): string | undefined {
    const owners = this.parentsOf(key, 'children');
    return owners.find((o) => this.#controllers.has(`${key}|${o}`)) ?? owners[0];
  }

  /** A value derived from the index once and shared by detectors (e.g. pod phases). */
  memo<T>(name: string, derive: () => T): T {
    if (!this.#memo.has(name)) this.#memo.set(name, derive());
    return this.#memo.get(name) as T;
  }

  history(key: string): ObjectHistory | undefined {
    return this.objects.get(key);
  }

  refOf(key: string): ObjectRef {
    return this.objects.get(key)?.ref ?? parseObjectKey(key);
  }

  ofResource(group: string, resource: string): ObjectHistory[] {
    const out: ObjectHistory[] = [];
    for (const h of this.objects.values()) if (h.ref.resource === resource && h.ref.group === group) out.push(h);
    return out;
  }

  /** Time of the first successful delete at or after `fromUs`, if any. */
  deletedAt(key: string, fromUs = -Infinity): SpanRecord | undefined {
    return this.objects.get(key)?.events.find((e) => e.startUs >= fromUs && isDelete(e));
  }
}

/** `kind` of a pod's snapshot fields, tolerant of anything odd. */
export function field(obj: unknown, ...path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/**
 * Whether the record can hold the object's status: not when every write of it comes from a SimKube
 * trace, which keeps objects' specs only (no status, no bindings, no pods its owners made), from
 * which no progress can be told. Detectors of progress leave such objects alone.
 */
export function statusRecorded(h: ObjectHistory): boolean {
  return h.events.some((e) => isWrite(e) && e.attributes[Attr.source] !== SIMKUBE_SOURCE);
}

/**
 * The values of simple fields (`spec.replicas`, `status.readyReplicas`) after each event of an
 * object: from the create snapshot, then each diff line of the path. A value unknown so far is undefined.
 */
export function trackFields(
  index: SpanIndex,
  h: ObjectHistory,
  paths: readonly string[],
): { span: SpanRecord; values: Record<string, unknown>; changed: string[] }[] {
  const values: Record<string, unknown> = {};
  const out: { span: SpanRecord; values: Record<string, unknown>; changed: string[] }[] = [];
  const wanted = new Set(paths);
  for (const e of h.events) {
    if (!isWrite(e)) continue;
    const changed: string[] = [];
    if (isCreate(e)) {
      const snap = index.snapshot(e);
      if (snap)
        for (const p of paths) {
          values[p] = field(snap, ...p.split('.'));
          changed.push(p);
        }
    } else {
      for (const l of index.diff(e)) {
        if (!wanted.has(l.path)) continue;
        values[l.path] = diffValue(l.new);
        changed.push(l.path);
      }
    }
    out.push({ span: e, values: { ...values }, changed });
  }
  return out;
}
