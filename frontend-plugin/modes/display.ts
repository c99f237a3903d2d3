// The display model: what every mode builds from the assembled object tree (spans with tags, logs,
// parents), before any wire format. The Jaeger v1 JSON (jaeger-json.ts toJaegerTrace) and the v3
// API's OTLP JSON (api-v3.ts toResourceSpans) are each made from it: one vocabulary for the spans a
// user sees, adapters at the edge (as Jaeger v2 keeps one internal model).
import { createHash } from 'node:crypto';
import type { AttrValue } from '../../src/core/model.ts';
import type { AssembledTrace, ObjectNode } from '../assemble.ts';
import { displayTimes, MIN_DURATION_US, type Range } from './times.ts';

export interface Tag {
  key: string;
  value: AttrValue;
}
export interface DisplayLog {
  /** Unix µs. */
  timestamp: number;
  fields: Tag[];
}
export interface DisplaySpan {
  spanId: string;
  /** The display parent first, then further parents (an object's other owners, a pod's node). */
  parents: string[];
  name: string;
  /** The process (v1) or resource (v3) the span belongs to. */
  cluster: string;
  /** Unix µs. */
  startTime: number;
  /** µs, at least MIN_DURATION_US. */
  duration: number;
  tags: Tag[];
  logs: DisplayLog[];
  warnings: string[];
}
export interface DisplayTrace {
  traceId: string;
  spans: DisplaySpan[];
  warnings: string[];
}

/** A display mode: assembled objects → one trace with the given (display) trace ID. */
export type ModeTransform = (t: AssembledTrace, traceId: string) => DisplayTrace;

/** A span ID for a display span that stands for no stored span (an actor group, a re-derived duplicate). */
export function hexId(input: string): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

export const tag = (key: string, value: AttrValue): Tag => ({ key, value });

/** The tag's value on a span, if it has the tag. */
export const tagOf = (s: { tags: Tag[] }, key: string): AttrValue | undefined => s.tags.find((t) => t.key === key)?.value;

/** A root span of the trace: one without parents. */
export const rootSpanOf = (t: DisplayTrace): DisplaySpan | undefined => t.spans.find((s) => s.parents.length === 0);

/** Whether the span is shown as failed (the `error` tag, failures.ts). */
export const isErrorSpan = (s: DisplaySpan): boolean => tagOf(s, 'error') === true;

/** Accumulates spans; keeps span IDs unique. */
export class TraceBuilder {
  readonly traceId: string;
  readonly spans: DisplaySpan[] = [];
  readonly #ids = new Set<string>();
  readonly warnings: string[];
  /** Display range of each object (modes/times.ts). */
  readonly times: Map<ObjectNode, Range>;

  constructor(traceId: string, t: AssembledTrace) {
    this.traceId = traceId;
    this.warnings = [...t.warnings];
    this.times = displayTimes(t);
  }

  rangeOf(n: ObjectNode): Range {
    return this.times.get(n) ?? { start: 0, end: MIN_DURATION_US };
  }

  /** Adds a span; returns its span ID (re-derived if `wanted` is already used in this trace). */
  add(span: Omit<DisplaySpan, 'spanId' | 'parents' | 'warnings'> & { wanted: string; parent?: string; warnings?: string[] }): string {
    let id = span.wanted;
    for (let i = 1; this.#ids.has(id); i++) id = hexId(`${span.wanted}|${i}`);
    this.#ids.add(id);
    this.spans.push({
      spanId: id,
      parents: span.parent ? [span.parent] : [],
      name: span.name,
      cluster: span.cluster,
      startTime: span.startTime,
      duration: Math.max(MIN_DURATION_US, span.duration),
      tags: span.tags,
      logs: span.logs,
      warnings: span.warnings ?? [],
    });
    return id;
  }

  build(): DisplayTrace {
    return { traceId: this.traceId, spans: this.spans, warnings: this.warnings };
  }
}
