// Pure helpers of bench/kwok-scale.ts: what a complete pod trace holds, and the API server's audit
// counters read from its /metrics text.
import { metricSumWhere, samples } from './lib.ts';

/** What every pod's trace must show after it was created, scheduled, run and deleted. */
export const POD_TRACE_PARTS = ['create', 'binding', 'status', 'delete', 'node'] as const;
export type PodTracePart = (typeof POD_TRACE_PARTS)[number];

/** One span of a pod's trace as the store holds it (attributes verb, subresource, link.class). */
export interface PodSpanRow {
  kind: string;
  verb?: string | null;
  subresource?: string | null;
  linkClass?: string | null;
}

/** The parts of a pod's life one span shows (none for an unrelated span). */
function partOf(r: PodSpanRow): PodTracePart | undefined {
  if (r.kind === 'link') return r.linkClass === 'node' ? 'node' : undefined;
  if (r.kind !== 'event') return undefined;
  if (r.verb === 'create') return r.subresource === 'binding' ? 'binding' : r.subresource ? undefined : 'create';
  if ((r.verb === 'patch' || r.verb === 'update') && r.subresource === 'status') return 'status';
  if (r.verb === 'delete' && !r.subresource) return 'delete';
  return undefined;
}

/** The parts missing from a pod's trace, in POD_TRACE_PARTS order (empty: complete). */
export function missingPodParts(rows: Iterable<PodSpanRow>): PodTracePart[] {
  const seen = new Set<PodTracePart>();
  for (const r of rows) {
    const p = partOf(r);
    if (p) seen.add(p);
  }
  return POD_TRACE_PARTS.filter((p) => !seen.has(p));
}

/** The API server's audit counters (kube-apiserver /metrics, `apiserver_audit_*`). */
export interface ApiserverAudit {
  /** Audit events the API server generated. */
  events: number;
  /** Events an audit backend failed to deliver, by plugin (webhook: dropped after its retries; buffered: its queue was full). */
  errorsByPlugin: Record<string, number>;
  /** Requests refused because auditing them failed (only in blocking mode). */
  requestsRejected: number;
}

export function apiserverAudit(metricsText: string): ApiserverAudit {
  const errorsByPlugin: Record<string, number> = {};
  for (const s of samples(metricsText, 'apiserver_audit_error_total')) {
    const plugin = s.labels.plugin ?? '';
    errorsByPlugin[plugin] = (errorsByPlugin[plugin] ?? 0) + s.value;
  }
  return {
    events: metricSumWhere(metricsText, 'apiserver_audit_event_total'),
    errorsByPlugin,
    requestsRejected: metricSumWhere(metricsText, 'apiserver_audit_requests_rejected_total'),
  };
}

/** What happened between two snapshots of the audit counters. */
export function auditDelta(before: ApiserverAudit, after: ApiserverAudit): ApiserverAudit {
  const errorsByPlugin: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.errorsByPlugin)) errorsByPlugin[k] = v - (before.errorsByPlugin[k] ?? 0);
  return { events: after.events - before.events, errorsByPlugin, requestsRejected: after.requestsRejected - before.requestsRejected };
}
