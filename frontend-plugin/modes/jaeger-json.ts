// The helpers every display mode shares (object span, event tags, event log fields), and Jaeger's
// query JSON (the shape the Jaeger UI and Kelemetry's users read), made from the display model.
import { Attr, type AttrValue, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { errorOf, verbLabel, writerOf } from '../../src/core/span-view.ts';
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { classifyFailures, describeExpected, type Failure } from '../failures.ts';
import { hexId, tag, type DisplayLog, type DisplayTrace, type Tag, type TraceBuilder } from './display.ts';
import { eventRange, type Range } from './times.ts';

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

export function kv(key: string, value: AttrValue): JaegerKeyValue {
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'number') return { key, type: Number.isInteger(value) ? 'int64' : 'float64', value };
  return { key, type: 'string', value };
}

const kvs = (tags: Tag[]): JaegerKeyValue[] => tags.map((t) => kv(t.key, t.value));

/** A display trace as Jaeger's v1 JSON: one process per cluster, in order of first use. */
export function toJaegerTrace(t: DisplayTrace): JaegerTrace {
  const processes: Record<string, JaegerProcess> = {};
  const pid = new Map<string, string>();
  const processOf = (cluster: string): string => {
    let id = pid.get(cluster);
    if (!id) {
      pid.set(cluster, (id = `p${pid.size + 1}`));
      processes[id] = { serviceName: cluster, tags: [kv('cluster', cluster)] };
    }
    return id;
  };
  const spans = t.spans.map(
    (s): JaegerSpan => ({
      traceID: t.traceId,
      spanID: s.spanId,
      operationName: s.name,
      references: s.parents.map((p) => ({ refType: 'CHILD_OF', traceID: t.traceId, spanID: p })),
      flags: 1,
      startTime: s.startTime,
      duration: s.duration,
      tags: kvs(s.tags),
      logs: s.logs.map((l) => ({ timestamp: l.timestamp, fields: kvs(l.fields) })),
      processID: processOf(s.cluster),
      warnings: s.warnings.length > 0 ? s.warnings : null,
    }),
  );
  return { traceID: t.traceId, spans, processes, warnings: t.warnings.length > 0 ? t.warnings : null };
}

/**
 * Jaeger's v1 JSON back into the display model: an upstream Jaeger's trace (the trace view of a
 * foreign trace ID) or a captured answer. The cluster is the process's service name.
 */
export function fromJaegerTrace(t: JaegerTrace): DisplayTrace {
  const values = (list: JaegerKeyValue[] | undefined): Tag[] => (list ?? []).map((f) => tag(f.key, f.value));
  return {
    traceId: t.traceID,
    spans: (t.spans ?? []).map((s) => ({
      spanId: s.spanID,
      // the first reference places the span (as Jaeger UIs nest it); further ones are parents only as CHILD_OF
      parents: (s.references ?? []).filter((r, i) => i === 0 || r.refType === 'CHILD_OF').map((r) => r.spanID),
      name: s.operationName,
      cluster: t.processes?.[s.processID]?.serviceName ?? '',
      startTime: s.startTime,
      duration: s.duration ?? 0,
      tags: values(s.tags),
      logs: (s.logs ?? []).map((l) => ({ timestamp: l.timestamp, fields: values(l.fields) })),
      warnings: s.warnings ?? [],
    })),
    warnings: t.warnings ?? [],
  };
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
export function objectTags(n: ObjectNode): Tag[] {
  const o = n.object;
  const tags = [
    tag(Attr.cluster, o.cluster),
    tag(Attr.group, o.group),
    tag(Attr.resource, o.resource),
    tag(Attr.namespace, o.namespace),
    tag(Attr.name, o.name),
    tag(Attr.nestLevel, 'object'),
  ];
  for (const k of [Attr.uid, Attr.version]) {
    const v = newestTag(n, k);
    if (v !== undefined) tags.push(tag(k, v));
  }
  if (n.relation) {
    tags.push(tag(Attr.linkClass, n.relation.class), tag(Attr.linkRole, n.relation.role));
  }
  const failures = [...failuresOf(n).values()];
  const firstError = failures.find((f) => f.class === 'error');
  if (firstError) tags.push(tag('error', true), tag('error.message', firstError.message));
  else if (failures.length > 0) tags.push(tag('failure', 'expected'));
  return tags;
}

/** Adds the object's display span; returns its span ID. */
export function addObjectSpan(b: TraceBuilder, n: ObjectNode, _t: AssembledTrace, parent?: string, logs: DisplayLog[] = []): string {
  const warnings = n.objectSpans.length === 0 ? ['no object span in these windows (shown because another object links to it)'] : [];
  for (const f of failuresOf(n).values()) if (f.class === 'expected') warnings.push(describeExpected(f));
  const r = b.rangeOf(n);
  return b.add({
    wanted: hexId(`object|${n.key}`),
    parent,
    cluster: n.object.cluster,
    name: objectLabel(n),
    startTime: r.start,
    duration: r.end - r.start,
    tags: objectTags(n),
    logs,
    warnings,
  });
}

/** Tags of an event shown as a span (tree, timeline, grouped). */
export function eventTags(s: SpanRecord, failure?: Failure): Tag[] {
  const tags = cleanAttributes(s.attributes)
    .filter(([k]) => k !== Attr.error)
    .map(([k, v]) => tag(k, v));
  const err = errorOf(s);
  if (failure?.class === 'expected') tags.push(tag('failure', 'expected'), tag('failure.reason', failure.reason), tag('warning', failure.message));
  else if (err !== undefined || failure) tags.push(tag('error', true), tag('error.message', err ?? failure!.message));
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
export function eventLog(s: SpanRecord, failure?: Failure): DisplayLog {
  const a = s.attributes;
  const fields: Tag[] = [];
  const audit = auditOf(s);
  const who = writerOf(s);
  if (audit !== undefined) fields.push(tag('audit', audit));
  // The same facts as their own fields, so a reader never splits `audit` (Kelemetry's field, kept).
  if (who !== '') fields.push(tag('user', who));
  if (a[Attr.verb] !== undefined) fields.push(tag('verb', a[Attr.verb]!));
  if (a[Attr.subresource] !== undefined && a[Attr.subresource] !== '') fields.push(tag('subresource', a[Attr.subresource]!));
  fields.push(tag('event', eventName(s)));
  if (a[Attr.eventMessage] !== undefined) fields.push(tag('message', a[Attr.eventMessage]!));
  const err = errorOf(s);
  // An expected failure (failures.ts) is a warning, not an error: the UI and `error=true` follow.
  if (failure?.class === 'expected') fields.push(tag('warning', failure.message), tag('failure', failure.reason));
  else if (err !== undefined) fields.push(tag('error', err));
  const diff = cleanDiff(a[Attr.diff]);
  if (diff !== undefined) fields.push(tag('diff', diff));
  const entries = cleanEntries(a[Attr.diffEntries]);
  if (entries !== undefined) fields.push(tag('diff.entries', entries));
  const verbose = cleanDiff(a[Attr.diffVerbose]);
  if (verbose !== undefined) fields.push(tag('diff.verbose', verbose));
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
    if (v !== undefined && v !== '') fields.push(tag(field, v));
  }
  return { timestamp: s.startUs, fields };
}

/** Adds one event as a span under `parent` (whose display range is `outer`), inside that range. */
export function addEventSpan(b: TraceBuilder, s: SpanRecord, parent: string, outer: Range, failure?: Failure, name = s.name): string {
  const r = eventRange(s, outer);
  const tags = eventTags(s, failure);
  // Clipped into a parent that starts later (a related object's event before the root's first):
  // the real time stays readable.
  if (r.start !== s.startUs) tags.push(tag('startTime.actual', new Date(s.startUs / 1000).toISOString()));
  return b.add({
    wanted: s.spanId,
    parent,
    cluster: s.object.cluster,
    name,
    startTime: r.start,
    duration: r.end - r.start,
    tags,
    logs: [],
  });
}
