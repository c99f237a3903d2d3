// Jaeger's query JSON (the shape the Jaeger UI and Kelemetry's users read) and the helpers every
// display mode shares: object span, event tags, event log fields, unique span IDs.
import { createHash } from 'node:crypto';
import { Attr, type AttrValue, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { errorOf, verbLabel, writerOf } from '../../src/core/span-view.ts';
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { classifyFailures, describeExpected, type Failure } from '../failures.ts';
import { displayTimes, eventRange, MIN_DURATION_US, type Range } from './times.ts';

export interface JaegerKeyValue {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | number | boolean;
}
export interface JaegerLog {
  timestamp: number;
  fields: JaegerKeyValue[];
}
export interface JaegerReference {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  flags?: number;
  startTime: number;
  duration: number;
  tags: JaegerKeyValue[];
  logs: JaegerLog[];
  processID: string;
  warnings: string[] | null;
}
export interface JaegerProcess {
  serviceName: string;
  tags: JaegerKeyValue[];
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, JaegerProcess>;
  warnings: string[] | null;
}

/** A display mode: assembled objects → one Jaeger trace with the given (display) trace ID. */
export type ModeTransform = (t: AssembledTrace, traceId: string) => JaegerTrace;

export function kv(key: string, value: AttrValue): JaegerKeyValue {
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'number') return { key, type: Number.isInteger(value) ? 'int64' : 'float64', value };
  return { key, type: 'string', value };
}

export function hexId(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** Defensive: managedFields never reach a diff, whatever the write path stored. */
export function cleanDiff(diff: AttrValue | undefined): string | undefined {
  if (diff === undefined) return undefined;
  const lines = String(diff)
    .split('\n')
    .filter((l) => l.trim() !== '' && !/(^|[.\s])managedFields\b/.test(l));
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** `diff.entries` without managedFields entries (as cleanDiff); undefined when none remain or not JSON. */
export function cleanEntries(v: AttrValue | undefined): string | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  try {
    const list = JSON.parse(v) as { path?: unknown }[];
    if (!Array.isArray(list)) return undefined;
    const kept = list.filter((e) => !/(^|\.)managedFields\b/.test(String(e?.path ?? '')));
    return kept.length === 0 ? undefined : kept.length === list.length ? v : JSON.stringify(kept);
  } catch {
    return undefined;
  }
}

function cleanAttributes(attrs: Record<string, AttrValue>): [string, AttrValue][] {
  const out: [string, AttrValue][] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (k === Attr.diff || k === Attr.diffVerbose) {
      const d = cleanDiff(v);
      if (d !== undefined) out.push([k, d]);
    } else {
      out.push([k, v]);
    }
  }
  return out;
}

/** `deployments default/demo` (cluster-scoped: `nodes node-1`). */
export function refLabel(o: ObjectRef): string {
  return `${o.resource} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** The object's span name: refLabel() of its object. */
export function objectLabel(n: ObjectNode): string {
  return refLabel(n.object);
}

/** The failed requests of an object's events, classified (frontend-plugin/failures.ts); cached per node. */
const failureCache = new WeakMap<ObjectNode, Map<string, Failure>>();
export function failuresOf(n: ObjectNode): Map<string, Failure> {
  let f = failureCache.get(n);
  if (!f) failureCache.set(n, (f = classifyFailures(n.events)));
  return f;
}

/** Accumulates spans; keeps span IDs unique and one process per cluster. */
export class TraceBuilder {
  readonly traceID: string;
  readonly spans: JaegerSpan[] = [];
  readonly #ids = new Set<string>();
  readonly #processes = new Map<string, string>();
  readonly warnings: string[];
  /** Display range of each object (modes/times.ts). */
  readonly times: Map<ObjectNode, Range>;

  constructor(traceID: string, t: AssembledTrace) {
    this.traceID = traceID;
    this.warnings = [...t.warnings];
    this.times = displayTimes(t);
  }

  rangeOf(n: ObjectNode): Range {
    return this.times.get(n) ?? { start: 0, end: MIN_DURATION_US };
  }

  processFor(cluster: string): string {
    let id = this.#processes.get(cluster);
    if (!id) this.#processes.set(cluster, (id = `p${this.#processes.size + 1}`));
    return id;
  }

  /** Adds a span; returns its span ID (re-derived if `wanted` is already used in this trace). */
  add(
    span: Omit<JaegerSpan, 'traceID' | 'spanID' | 'references' | 'processID' | 'warnings' | 'flags'> & {
      wanted: string;
      parent?: string;
      cluster: string;
      warnings?: string[];
    },
  ): string {
    let id = span.wanted;
    for (let i = 1; this.#ids.has(id); i++) id = hexId(`${span.wanted}|${i}`);
    this.#ids.add(id);
    this.spans.push({
      traceID: this.traceID,
      spanID: id,
      operationName: span.operationName,
      references: span.parent ? [{ refType: 'CHILD_OF', traceID: this.traceID, spanID: span.parent }] : [],
      flags: 1,
      startTime: span.startTime,
      duration: Math.max(MIN_DURATION_US, span.duration),
      tags: span.tags,
      logs: span.logs,
      processID: this.processFor(span.cluster),
      warnings: span.warnings && span.warnings.length > 0 ? span.warnings : null,
    });
    return id;
  }

  build(): JaegerTrace {
    const processes: Record<string, JaegerProcess> = {};
    for (const [cluster, id] of this.#processes) {
      processes[id] = { serviceName: cluster, tags: [kv('cluster', cluster)] };
    }
    return { traceID: this.traceID, spans: this.spans, processes, warnings: this.warnings.length ? this.warnings : null };
  }
}

/**
 * The newest non-empty value of an event fact (uid, API version): from the object's events, newest
 * first; then from its object spans (written before these facts moved to event spans only).
 */
function newestTag(n: ObjectNode, key: string): AttrValue | undefined {
  for (const spans of [n.events, n.objectSpans]) {
    for (let i = spans.length - 1; i >= 0; i--) {
      const v = spans[i]!.attributes[key];
      if (v !== undefined && v !== '') return v;
    }
  }
  return undefined;
}

/** Tags of an object's display span. */
export function objectTags(n: ObjectNode): JaegerKeyValue[] {
  const o = n.object;
  const tags = [
    kv(Attr.cluster, o.cluster),
    kv(Attr.group, o.group),
    kv(Attr.resource, o.resource),
    kv(Attr.namespace, o.namespace),
    kv(Attr.name, o.name),
    kv(Attr.nestLevel, 'object'),
  ];
  for (const k of [Attr.uid, Attr.version]) {
    const v = newestTag(n, k);
    if (v !== undefined) tags.push(kv(k, v));
  }
  if (n.relation) {
    tags.push(kv(Attr.linkClass, n.relation.class), kv(Attr.linkRole, n.relation.role));
  }
  const failures = [...failuresOf(n).values()];
  const firstError = failures.find((f) => f.class === 'error');
  if (firstError) tags.push(kv('error', true), kv('error.message', firstError.message));
  else if (failures.length > 0) tags.push(kv('failure', 'expected'));
  return tags;
}

/** Adds the object's display span; returns its span ID. */
export function addObjectSpan(b: TraceBuilder, n: ObjectNode, _t: AssembledTrace, parent?: string, logs: JaegerLog[] = []): string {
  const warnings = n.objectSpans.length === 0 ? ['no object span in these windows (shown because another object links to it)'] : [];
  for (const f of failuresOf(n).values()) if (f.class === 'expected') warnings.push(describeExpected(f));
  const r = b.rangeOf(n);
  return b.add({
    wanted: hexId(`object|${n.key}`),
    parent,
    cluster: n.object.cluster,
    operationName: objectLabel(n),
    startTime: r.start,
    duration: r.end - r.start,
    tags: objectTags(n),
    logs,
    warnings,
  });
}

/** Tags of an event shown as a span (tree, timeline, grouped). */
export function eventTags(s: SpanRecord, failure?: Failure): JaegerKeyValue[] {
  const tags = cleanAttributes(s.attributes)
    .filter(([k]) => k !== Attr.error)
    .map(([k, v]) => kv(k, v));
  const err = errorOf(s);
  if (failure?.class === 'expected') tags.push(kv('failure', 'expected'), kv('failure.reason', failure.reason), kv('warning', failure.message));
  else if (err !== undefined || failure) tags.push(kv('error', true), kv('error.message', err ?? failure!.message));
  return tags;
}

/** `"<user> <verb>[ <subresource>]"` (Kelemetry's `audit` field); just the verb without a user. */
export function auditOf(s: SpanRecord): string | undefined {
  const verb = verbLabel(s);
  if (verb === undefined) return undefined;
  const who = writerOf(s);
  return who !== '' ? `${who} ${verb}` : verb;
}

/**
 * The `event` field of an event's span log: what the Jaeger UI titles the log with (it reads
 * `event`, else shows "log") and what the OTLP event is named. A Kubernetes Event: its reason; a
 * write: `audit` (`kwok-admin update status`); anything else: the event span's name.
 */
export function eventName(s: SpanRecord): string {
  const reason = s.attributes[Attr.eventReason];
  if (reason !== undefined && reason !== '') return String(reason);
  return auditOf(s) ?? s.name;
}

/** An event as a span log (tracing mode): the fields users read, `audit` first. */
export function eventLog(s: SpanRecord, failure?: Failure): JaegerLog {
  const a = s.attributes;
  const fields: JaegerKeyValue[] = [];
  const audit = auditOf(s);
  const who = writerOf(s);
  if (audit !== undefined) fields.push(kv('audit', audit));
  // The same facts as their own fields, so a reader never splits `audit` (Kelemetry's field, kept).
  if (who !== '') fields.push(kv('user', who));
  if (a[Attr.verb] !== undefined) fields.push(kv('verb', a[Attr.verb]!));
  if (a[Attr.subresource] !== undefined && a[Attr.subresource] !== '') fields.push(kv('subresource', a[Attr.subresource]!));
  fields.push(kv('event', eventName(s)));
  if (a[Attr.eventMessage] !== undefined) fields.push(kv('message', a[Attr.eventMessage]!));
  const err = errorOf(s);
  // An expected failure (failures.ts) is a warning, not an error: the UI and `error=true` follow.
  if (failure?.class === 'expected') fields.push(kv('warning', failure.message), kv('failure', failure.reason));
  else if (err !== undefined) fields.push(kv('error', err));
  const diff = cleanDiff(a[Attr.diff]);
  if (diff !== undefined) fields.push(kv('diff', diff));
  const entries = cleanEntries(a[Attr.diffEntries]);
  if (entries !== undefined) fields.push(kv('diff.entries', entries));
  const verbose = cleanDiff(a[Attr.diffVerbose]);
  if (verbose !== undefined) fields.push(kv('diff.verbose', verbose));
  const optional: [string, string][] = [
    ['snapshot', Attr.snapshot],
    ['noop', Attr.noop],
    ['source', Attr.source],
    ['impersonatedBy', Attr.impersonatedBy],
    ['fieldManager', Attr.fieldManager],
    ['attribution', Attr.attribution],
    ['userAgent', Attr.userAgent],
    ['sourceIP', Attr.sourceIP],
    ['code', Attr.code],
    ['auditId', Attr.auditId],
    ['event.type', Attr.eventType],
    ['event.component', Attr.eventComponent],
    ['event.count', Attr.eventCount],
    ['resourceVersion.old', Attr.oldResourceVersion],
    ['resourceVersion.new', Attr.newResourceVersion],
  ];
  for (const [field, attr] of optional) {
    const v = a[attr];
    if (v !== undefined && v !== '') fields.push(kv(field, v));
  }
  return { timestamp: s.startUs, fields };
}

/** Adds one event as a span under `parent`. */
/** Adds one event as a span under `parent` (whose display range is `outer`), inside that range. */
export function addEventSpan(b: TraceBuilder, s: SpanRecord, parent: string, outer: Range, failure?: Failure, operationName = s.name): string {
  const r = eventRange(s, outer);
  const tags = eventTags(s, failure);
  // Clipped into a parent that starts later (a related object's event before the root's first):
  // the real time stays readable.
  if (r.start !== s.startUs) tags.push(kv('startTime.actual', new Date(s.startUs / 1000).toISOString()));
  return b.add({
    wanted: s.spanId,
    parent,
    cluster: s.object.cluster,
    operationName,
    startTime: r.start,
    duration: r.end - r.start,
    tags,
    logs: [],
  });
}
