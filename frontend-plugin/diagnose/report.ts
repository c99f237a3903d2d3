// Builds a diagnosis report from the spans of a time range: runs every detector (one that throws
// is reported as failed, the others still run), optionally the pod startup report and its SLO
// finding, and narrows findings to a selected object and its relatives.
import { objectKey, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { placeKubeEvents } from '../event-order.ts';
import { detectors as registry } from './detectors/index.ts';
import { podPhases, podStartupReport } from './pod-startup.ts';
import { evidenceOf, formatSec, isoOf, redirectUrl, SpanIndex } from './span-index.ts';
import { defaultThresholds, severityRank, type Detector, type Finding, type Report, type Thresholds } from './types.ts';

export interface ReportOptions {
  /** Range; default: the first to the last span given. */
  startUs?: number;
  endUs?: number;
  cluster?: string;
  thresholds?: Partial<Thresholds>;
  /** Keep only findings about this object, its owners and what it owns (transitively). */
  selector?: ObjectRef;
  podStartup?: boolean;
  /** Seconds: a create → Running p99 above it is an error finding (`pod-startup`). */
  podStartupThresholdSec?: number;
  detectors?: readonly Detector[];
  /** The spans are already unique by (trace, span) ID (loadSpans de-duplicates): skip that pass. */
  unique?: boolean;
}

export function buildReport(input: readonly SpanRecord[], o: ReportOptions = {}): Report {
  // Kubernetes Events after the writes they report (event-order.ts), as the UI shows them
  const spans = byStart(placeKubeEvents(o.unique ? input.filter((s) => s.kind !== 'object') : dedupe(input)));
  // default range: the first to the last event (a recording's own time, not now)
  let first = Infinity;
  let last = -Infinity;
  for (const s of spans) {
    if (s.kind !== 'event') continue;
    if (s.startUs < first) first = s.startUs;
    if (s.startUs > last) last = s.startUs;
  }
  const startUs = o.startUs ?? (Number.isFinite(first) ? first : 0);
  const endUs = o.endUs ?? (Number.isFinite(last) ? last : startUs);
  const thresholds = { ...defaultThresholds, ...o.thresholds };
  const index = new SpanIndex(spans);
  const findings: Finding[] = [];
  const status: Report['detectors'] = [];
  for (const d of o.detectors ?? registry) {
    try {
      const f = d.detect({ spans, index, startUs, endUs, thresholds, rangeFromRecordStart: o.startUs === undefined });
      findings.push(...f);
      status.push({ name: d.name, findings: f.length, failed: false });
    } catch (err) {
      status.push({ name: d.name, findings: 0, failed: true, error: (err as Error).message });
    }
  }
  const report: Report = { start: isoOf(startUs), end: isoOf(endUs), findings, detectors: status, spans: spans.length };
  if (o.cluster) report.cluster = o.cluster;
  if (o.podStartup || o.podStartupThresholdSec !== undefined) {
    const pods = podPhases(index);
    const ps = podStartupReport(pods);
    report.podStartup = ps;
    if (o.podStartupThresholdSec !== undefined) {
      const slo: Finding[] = [];
      if (ps.startup.count && ps.startup.p99 > o.podStartupThresholdSec) {
        const slowest = pods
          .filter((p) => p.run)
          .sort((a, b) => b.run!.startUs - b.create.startUs - (a.run!.startUs - a.create.startUs))
          .slice(0, 5);
        slo.push({
          detector: 'pod-startup',
          severity: 'error',
          title: `pod startup p99 is ${formatSec(ps.startup.p99)} (create → Running over ${ps.startup.count} pods), above ${formatSec(o.podStartupThresholdSec)}`,
          objects: slowest.map((p) => p.ref),
          evidence: slowest.flatMap((p) => [evidenceOf(p.create), evidenceOf(p.run!)]),
          traceId: slowest[0]!.create.traceId,
          redirect: redirectUrl(slowest[0]!.ref, slowest[0]!.create.startUs),
          data: { ...ps.startup, thresholdSec: o.podStartupThresholdSec },
        });
      }
      findings.push(...slo);
      status.push({ name: 'pod-startup', findings: slo.length, failed: false });
    }
  }
  if (o.selector) report.findings = findings.filter(relatedTo(index, o.selector));
  report.findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || (a.evidence[0]?.time ?? '').localeCompare(b.evidence[0]?.time ?? ''));
  // detector counts follow the selection
  if (o.selector) for (const s of status) s.findings = report.findings.filter((f) => f.detector === s.name).length;
  return report;
}

/** Spans de-duplicated by (trace, span) ID (at-least-once delivery), ordered by start time. */
function dedupe(spans: readonly SpanRecord[]): SpanRecord[] {
  const seen = new Set<string>();
  const out: SpanRecord[] = [];
  for (const s of spans) {
    if (s.kind === 'object') continue;
    const id = `${s.traceId}${s.spanId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(s);
  }
  return out;
}

/**
 * Sorted by start time, stable (ties keep their order), in place. Integer microseconds over a
 * range short enough that (start - first) × count + index fits a double exactly are sorted as one
 * typed array of numbers, without a comparator; anything else by a comparator.
 */
function byStart(spans: SpanRecord[]): SpanRecord[] {
  const n = spans.length;
  let lo = Infinity;
  let hi = -Infinity;
  let integers = true;
  for (const s of spans) {
    if (s.startUs < lo) lo = s.startUs;
    if (s.startUs > hi) hi = s.startUs;
    if (!Number.isInteger(s.startUs)) integers = false;
  }
  if (n < 2 || !integers || (hi - lo + 1) * n > Number.MAX_SAFE_INTEGER) return spans.sort((a, b) => a.startUs - b.startUs);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (spans[i]!.startUs - lo) * n + i;
  keys.sort();
  const copy = spans.slice();
  for (let i = 0; i < n; i++) spans[i] = copy[keys[i]! % n]!;
  return spans;
}

function relatedTo(index: SpanIndex, sel: ObjectRef): (f: Finding) => boolean {
  const root = objectKey(sel);
  const keep = new Set<string>([root, ...(index.parents.get(root)?.keys() ?? [])]);
  const todo = [root];
  while (todo.length) {
    const k = todo.pop()!;
    for (const [c, cls] of index.children.get(k) ?? []) {
      if (keep.has(c) || (cls === 'node' && k !== root)) continue;
      keep.add(c);
      todo.push(c);
    }
  }
  return (f) => f.objects.some((r) => keep.has(objectKey(r))) || f.evidence.some((e) => keep.has(objectKey(e.object)));
}

/** The highest severity among findings, or undefined. */
export function worstSeverity(findings: readonly Finding[]): Finding['severity'] | undefined {
  let w: Finding['severity'] | undefined;
  for (const f of findings) if (!w || severityRank(f.severity) > severityRank(w)) w = f.severity;
  return w;
}
