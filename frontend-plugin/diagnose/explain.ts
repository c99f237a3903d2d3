// `kubetrail explain` and GET /api/explain: why one object is in the state it is in at a time T —
// its state, the last change of each field that matters (who, verb, when, link), what it waits for
// (the scheduler's refusal, a controller's refused creates, finalizers and who added them) and the
// findings that touch it or its owners and dependents (docs/diagnose.md, "Explain").
import { objectKey, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import type { TraceBackend } from '../backend/backend.ts';
import { deletionsOf } from './detectors/stuck-deletions.ts';
import { placeKubeEvents } from '../event-order.ts';
import { loadSpans } from './loader.ts';
import { buildReport } from './report.ts';
import { diffValue, field, isCreate, isDelete, isoOf, NONE, redirectUrl, refText, SpanIndex, type ObjectHistory } from './span-index.ts';
import { isKubeEvent, subresourceOf, actorOf, verbOf } from '../../src/core/span-view.ts';
import { isWrite } from '../../src/core/failed.ts';
import { Attr } from '../../src/core/model.ts';
import type { Cause, Report, Severity } from './types.ts';

export type ObjectState = 'exists' | 'terminating' | 'deleted';

/** One write of one field: the last change of the field at or before T. */
export interface FieldChange {
  path: string;
  /** JSON text of the old value, or `<none>` (a create: `<none>`). */
  old: string;
  new: string;
  actor: string;
  verb: string;
  subresource?: string;
  /** ISO 8601. */
  time: string;
  redirect: string;
}

/** Something the object waits for: a refusal, a Warning Event, a finalizer nobody removed yet. */
export interface Wait {
  /** One line, plain words. */
  summary: string;
  /** Who refused / reported / added it. */
  actor?: string;
  /** The Kubernetes Event's reason (FailedScheduling, FailedCreate, …), for a Warning Event. */
  reason?: string;
  time?: string;
  message?: string;
  object: ObjectRef;
  redirect: string;
}

export interface ExplainedFinding {
  detector: string;
  severity: Severity;
  title: string;
  cause?: Cause;
  chain?: string[];
  redirect: string;
}

export interface Explanation {
  object: ObjectRef;
  /** ISO 8601: the time explained. */
  at: string;
  state: ObjectState;
  /** One line: `Pod ns/x: exists, phase Pending, not bound to a node`. */
  summary: string;
  phase?: string;
  /** Condition type → status (`True`, `False`, `Unknown`; `?` when the record cut its value). */
  conditions: Record<string, string>;
  finalizers: string[];
  created?: { actor: string; time: string; redirect: string };
  /** The last change of each field that matters, most recent first. */
  fields: FieldChange[];
  waitingFor: Wait[];
  findings: ExplainedFinding[];
}

/** Paths whose changes explain a state: spec, finalizers, deletionTimestamp, phase, conditions, replica counts. */
const MATTERS = /^(spec\.|metadata\.finalizers|metadata\.deletionTimestamp|metadata\.ownerReferences|status\.phase|status\.conditions|status\.\w*[rR]eplicas$)/;
/** Condition timestamps move on every status write: they explain nothing. */
const NOISE = /\.(lastUpdateTime|lastTransitionTime|lastHeartbeatTime|lastProbeTime)$/;
/** Where finalizers live: every object's, and a namespace's own (`kubernetes`). */
const FINALIZER_PATHS = ['metadata.finalizers', 'spec.finalizers'] as const;
/** A Terminating namespace's conditions that say what holds it (the namespace controller's). */
const NS_HOLDING = ['NamespaceContentRemaining', 'NamespaceFinalizersRemaining', 'NamespaceDeletionContentFailure', 'NamespaceDeletionDiscoveryFailure'];
/** Fields a create snapshot (as the loader keeps it) states, reported as set by the creator. */
const CREATE_FIELDS = [
  'metadata.finalizers',
  'spec.finalizers',
  'spec.replicas',
  'spec.nodeName',
  'spec.nodeSelector',
  'spec.template.spec.nodeSelector',
  'status.phase',
];

const change = (s: SpanRecord, path: string, old: string, next: string): FieldChange => {
  const c: FieldChange = { path, old, new: next, actor: actorOf(s), verb: verbOf(s), time: isoOf(s.startUs), redirect: redirectUrl(s.object, s.startUs) };
  const sub = subresourceOf(s);
  if (sub) c.subresource = sub;
  return c;
};

/** The current incarnation's events up to T (from its last create; Kubernetes Events, whose time has second precision, from a second before it). */
function eventsUpTo(h: ObjectHistory, atUs: number): SpanRecord[] {
  const upto = h.events.filter((e) => e.startUs <= atUs);
  const from = upto.findLast(isCreate)?.startUs ?? -Infinity;
  return upto.filter((e) => e.startUs >= from || (isKubeEvent(e) && e.startUs >= from - 1e6));
}

/** Condition type → status (`?` when cut), and → message, after one diff line of a condition. */
function applyCondition(path: string, text: string, conditions: Record<string, string>, messages: Record<string, string>): void {
  const m = /^status\.conditions\[type=([^\]]+)\](\.status|\.message)?$/.exec(path);
  if (!m) return;
  const type = m[1]!;
  const v = diffValue(text);
  if (m[2] === '.message') {
    if (typeof v === 'string') messages[type] = v;
    return;
  }
  if (v === undefined) {
    delete conditions[type];
    delete messages[type];
    return;
  }
  const st = m[2] ? v : field(v, 'status');
  conditions[type] = typeof st === 'string' ? st : '?';
  const msg = m[2] ? undefined : field(v, 'message');
  if (typeof msg === 'string') messages[type] = msg;
}

/** Field path → its last change; finalizer → the write that added it (metadata's, a namespace's spec's); the conditions. */
function fieldsAt(index: SpanIndex, events: SpanRecord[]) {
  const last = new Map<string, FieldChange>();
  const finalizers = new Map<string, SpanRecord>();
  const finalizerPath = new Map<string, string>();
  const conditions: Record<string, string> = {};
  const messages: Record<string, string> = {};
  const setFinalizers = (path: string, list: unknown, s: SpanRecord) => {
    const next = new Set(Array.isArray(list) ? list.map(String) : []);
    for (const f of [...finalizers.keys()]) if (finalizerPath.get(f) === path && !next.has(f)) finalizers.delete(f);
    for (const f of next) {
      if (!finalizers.has(f)) finalizers.set(f, s);
      finalizerPath.set(f, path);
    }
  };
  for (const e of events) {
    if (!isWrite(e)) continue;
    if (isCreate(e)) {
      const snap = index.snapshot(e);
      for (const p of CREATE_FIELDS) {
        const v = field(snap, ...p.split('.'));
        if (v !== undefined) last.set(p, change(e, p, NONE, JSON.stringify(v)));
      }
      for (const p of FINALIZER_PATHS) setFinalizers(p, field(snap, ...p.split('.')), e);
      continue;
    }
    if (isDelete(e)) {
      // the delete request set deletionTimestamp (its answer's snapshot holds it when finalizers keep the object)
      const ts = field(index.snapshot(e), 'metadata', 'deletionTimestamp');
      last.set('metadata.deletionTimestamp', change(e, 'metadata.deletionTimestamp', NONE, JSON.stringify(ts ?? isoOf(e.startUs))));
      // the API server sets a namespace's phase Terminating in the delete itself: no later diff line says so
      if (e.object.resource === 'namespaces' && e.object.group === '') {
        last.set('status.phase', change(e, 'status.phase', last.get('status.phase')?.new ?? NONE, '"Terminating"'));
      }
    }
    for (const l of index.diff(e)) {
      if (!MATTERS.test(l.path) || NOISE.test(l.path)) continue;
      last.set(l.path, change(e, l.path, l.old, l.new));
      if ((FINALIZER_PATHS as readonly string[]).includes(l.path)) setFinalizers(l.path, diffValue(l.new), e);
      applyCondition(l.path, l.new, conditions, messages);
    }
  }
  return { last, finalizers, conditions, messages };
}

/** Exists, Terminating (deletionTimestamp set, not gone) or deleted, at T (stuck-deletions' facts). */
function stateAt(index: SpanIndex, h: ObjectHistory, atUs: number, events: SpanRecord[], deletionTs: string | undefined): ObjectState {
  const created = events.find(isCreate)?.startUs ?? -Infinity;
  const d = deletionsOf(index, h)
    .filter((x) => x.del.startUs <= atUs && x.del.startUs >= created)
    .at(-1);
  if (d?.done && d.done.startUs <= atUs) return 'deleted';
  if (d || (deletionTs !== undefined && deletionTs !== NONE)) return 'terminating';
  return 'exists';
}

/** The object and what it owns, transitively (a Deployment's ReplicaSets and their pods). */
function withDependents(index: SpanIndex, key: string): string[] {
  const out = [key];
  for (let i = 0; i < out.length && out.length < 200; i++) for (const c of index.childrenOf(out[i]!, 'children')) if (!out.includes(c)) out.push(c);
  return out;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** The last Warning Event per (object, reason) of the object and its dependents, at or before T; a pod's FailedScheduling only while unbound. */
function warningsAt(index: SpanIndex, key: string, atUs: number): Wait[] {
  const last = new Map<string, SpanRecord>();
  for (const k of withDependents(index, key)) {
    const h = index.history(k);
    if (!h) continue;
    const events = eventsUpTo(h, atUs);
    const bound = events.some((e) => isWrite(e) && subresourceOf(e) === 'binding');
    for (const e of events) {
      if (!isKubeEvent(e) || e.attributes[Attr.eventType] !== 'Warning') continue;
      const reason = str(e.attributes[Attr.eventReason]);
      if (reason === 'FailedScheduling' && bound) continue;
      last.set(`${k}|${reason}`, e);
    }
  }
  // the same word about several objects (three pods FailedScheduling alike): one line
  const alike = new Map<string, SpanRecord[]>();
  for (const e of last.values()) {
    const k = `${str(e.attributes[Attr.eventReason])}|${str(e.attributes[Attr.eventMessage]).replace(/\S*-[a-z0-9]{5}\b/g, '')}`;
    alike.set(k, [...(alike.get(k) ?? []), e]);
  }
  return [...alike.values()]
    .map((group) => ({ e: group.reduce((a, b) => (b.startUs > a.startUs ? b : a)), more: group.length - 1 }))
    .sort((a, b) => b.e.startUs - a.e.startUs)
    .slice(0, 5)
    .map(({ e, more }) => ({
      summary: `${refText(e.object)}${more ? ` (and ${more} more)` : ''}: ${str(e.attributes[Attr.eventReason])} (reported by ${actorOf(e)})`,
      actor: actorOf(e),
      reason: str(e.attributes[Attr.eventReason]),
      time: isoOf(e.startUs),
      message: str(e.attributes[Attr.eventMessage]) || undefined,
      object: e.object,
      redirect: redirectUrl(e.object, e.startUs),
    }));
}

/** What the object waits for at T: finalizers (and who added them), a node for a pod, Warning Events. */
function waitsAt(index: SpanIndex, h: ObjectHistory, atUs: number, f: ReturnType<typeof fieldsAt>, state: ObjectState): Wait[] {
  const out: Wait[] = [];
  if (state === 'terminating')
    for (const [fin, s] of f.finalizers)
      out.push({
        summary: `finalizer ${fin} (added by ${actorOf(s)}, ${verbOf(s)}) not removed yet`,
        actor: actorOf(s),
        time: isoOf(s.startUs),
        object: s.object,
        redirect: redirectUrl(s.object, s.startUs),
      });
  if (state === 'terminating')
    for (const type of NS_HOLDING) {
      const c = f.last.get(`status.conditions[type=${type}]`) ?? f.last.get(`status.conditions[type=${type}].status`);
      if (f.conditions[type] !== 'True' || !c) continue;
      out.push({ summary: `${type} (said by ${c.actor})`, actor: c.actor, time: c.time, message: f.messages[type], object: h.ref, redirect: c.redirect });
    }
  const warnings = warningsAt(index, h.key, atUs);
  const node = f.last.get('spec.nodeName');
  if (h.ref.resource === 'pods' && h.ref.group === '' && state === 'exists' && (!node || node.new === NONE)) {
    // the scheduler's last word on it says why
    const i = warnings.findIndex((w) => objectKey(w.object) === h.key && w.reason === 'FailedScheduling');
    const said = i >= 0 ? warnings.splice(i, 1)[0] : undefined;
    out.push({
      ...said,
      summary: `a node: not bound yet${said ? ` (FailedScheduling, reported by ${said.actor})` : ', no word from the scheduler'}`,
      object: h.ref,
      redirect: said?.redirect ?? redirectUrl(h.ref, atUs),
    });
  }
  const short = replicasShort(f);
  if (short && state === 'exists') out.push({ ...short, object: h.ref });
  out.push(...warnings);
  return out;
}

/** A workload with fewer available replicas than its spec asks: the last status write that said so. */
function replicasShort(f: ReturnType<typeof fieldsAt>): Omit<Wait, 'object'> | undefined {
  const num = (p: string): number | undefined => {
    const c = f.last.get(p);
    const v = c ? diffValue(c.new) : undefined;
    return typeof v === 'number' ? v : c ? 0 : undefined;
  };
  const want = num('spec.replicas');
  const unavailable = num('status.unavailableReplicas') ?? 0;
  const avail = num('status.availableReplicas') ?? (want === undefined ? undefined : want - unavailable);
  const said = f.last.get('status.unavailableReplicas') ?? f.last.get('status.availableReplicas');
  if (want === undefined || avail === undefined || (avail >= want && unavailable === 0) || !said) return undefined;
  return {
    summary: `replicas: ${avail} of ${want} available${unavailable ? `, ${unavailable} unavailable` : ''} (last said by ${said.actor})`,
    actor: said.actor,
    time: said.time,
    redirect: said.redirect,
  };
}

function summaryOf(ref: ObjectRef, state: ObjectState, phase: string | undefined, f: ReturnType<typeof fieldsAt>): string {
  const parts: string[] = [state === 'terminating' ? 'Terminating' : state];
  if (phase) parts.push(`phase ${phase}`);
  const conds = Object.entries(f.conditions).map(([t, s]) => `${t}=${s}`);
  if (conds.length) parts.push(conds.join(' '));
  const node = f.last.get('spec.nodeName');
  if (ref.resource === 'pods' && ref.group === '') parts.push(node && node.new !== NONE ? `on node ${String(diffValue(node.new))}` : 'not bound to a node');
  if (f.finalizers.size) parts.push(`finalizers ${[...f.finalizers.keys()].join(', ')}`);
  return `${refText(ref)}: ${parts.join(', ')}`;
}

/**
 * Why `ref` is in its state at `atUs` (default: the last event of the spans), from the spans of its
 * namespace and the report of the detectors up to T; undefined when the record holds no event of it
 * at or before T.
 */
export function explain(spans: readonly SpanRecord[], ref: ObjectRef, atUs?: number, report?: Report): Explanation | undefined {
  const T = atUs ?? spans.reduce((m, s) => (s.kind === 'event' && s.startUs > m ? s.startUs : m), 0);
  const rep = report ?? buildReport(spans, { endUs: T, selector: ref, cluster: ref.cluster });
  // Kubernetes Events after the writes they report, as the report places them
  const index = new SpanIndex(placeKubeEvents(spans.filter((s) => s.kind !== 'object')));
  const h = index.history(objectKey(ref));
  if (!h) return undefined;
  const events = eventsUpTo(h, T);
  if (events.length === 0) return undefined;
  const f = fieldsAt(index, events);
  const phaseLine = f.last.get('status.phase');
  const phase = phaseLine && phaseLine.new !== NONE ? String(diffValue(phaseLine.new)) : undefined;
  const state = stateAt(index, h, T, events, f.last.get('metadata.deletionTimestamp')?.new);
  const create = events.find(isCreate);
  const ex: Explanation = {
    object: h.ref,
    at: isoOf(T),
    state,
    summary: summaryOf(h.ref, state, phase, f),
    conditions: f.conditions,
    finalizers: [...f.finalizers.keys()],
    fields: [...f.last.values()].sort((a, b) => b.time.localeCompare(a.time)),
    waitingFor: state === 'deleted' ? [] : waitsAt(index, h, T, f, state),
    findings: rep.findings.map((x) => ({ detector: x.detector, severity: x.severity, title: x.title, cause: x.cause, chain: x.chain, redirect: x.redirect })),
  };
  if (phase) ex.phase = phase;
  if (create) ex.created = { actor: actorOf(create), time: isoOf(create.startUs), redirect: redirectUrl(h.ref, create.startUs) };
  return ex;
}

export interface ExplainOptions {
  /** Unix µs; default: the last stored event. */
  atUs?: number;
}

/** Loads the spans of the object's namespace (and cluster-scoped ones) up to T from a backend and explains it. */
export async function explainObject(backend: TraceBackend, ref: ObjectRef, o: ExplainOptions = {}): Promise<Explanation | undefined> {
  const spans = await loadSpans(backend, {
    cluster: ref.cluster || undefined,
    namespace: ref.namespace || undefined,
    startUs: 0,
    endUs: o.atUs ?? Number.MAX_SAFE_INTEGER,
  });
  return explain(spans, ref, o.atUs);
}

const short = (v: string, n = 80): string => (v.length > n ? `${v.slice(0, n - 1)}…` : v);

/** The explanation as text a tester reads in about ten lines; `base` makes links absolute. */
export function explanationText(ex: Explanation, base = ''): string {
  const link = (r: string) => `${base.replace(/\/$/, '')}${r}`;
  const lines = [`${ex.summary}  (at ${ex.at})`];
  if (ex.created) lines.push(`  created by ${ex.created.actor} at ${ex.created.time}`);
  if (ex.waitingFor.length) lines.push('  waiting for:');
  for (const w of ex.waitingFor) lines.push(`    - ${w.summary}${w.time ? ` at ${w.time}` : ''}${w.message ? `: ${short(w.message, 160)}` : ''}`);
  if (ex.findings.length) lines.push('  findings:');
  for (const f of ex.findings) {
    lines.push(`    - ${f.severity} [${f.detector}] ${short(f.title, 140)}`);
    if (f.cause) lines.push(`      cause: ${f.cause.actor} ${f.cause.verb} ${refText(f.cause.object)} at ${f.cause.time}  ${link(f.cause.redirect)}`);
  }
  if (ex.fields.length) lines.push('  last changes:');
  for (const c of ex.fields.slice(0, 8))
    lines.push(`    ${c.time}  ${c.path} ${short(c.old, 40)} -> ${short(c.new, 60)}  by ${c.actor} (${c.verb}${c.subresource ? ` ${c.subresource}` : ''})`);
  if (ex.fields.length > 8) lines.push(`    … ${ex.fields.length - 8} more (--json)`);
  return `${lines.join('\n')}\n`;
}
