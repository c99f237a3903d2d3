// The KWOK scale benchmark (bench/kwok-scale.ts) reports whether every pod's trace is complete and
// what the API server's audit backends lost; both are read by these helpers, checked here on a
// kube-apiserver /metrics excerpt and on the span rows a pod's trace holds.
import { describe, expect, it } from 'vitest';
import { apiserverAudit, auditDelta, missingPodParts, type PodSpanRow } from '../../bench/kwok-scale-check.ts';
import { histogramBuckets, metricSumWhere, quantileOfDiff } from '../../bench/lib.ts';

// as kube-apiserver 1.33 writes them (with a webhook that failed, and a full buffer)
const METRICS = `# HELP apiserver_audit_event_total [ALPHA] Counter of audit events generated and sent to the audit backend.
# TYPE apiserver_audit_event_total counter
apiserver_audit_event_total 48211
# HELP apiserver_audit_error_total [ALPHA] Counter of audit events that failed to be audited properly. Plugin identifies the plugin affected by the error.
# TYPE apiserver_audit_error_total counter
apiserver_audit_error_total{plugin="buffered"} 12
apiserver_audit_error_total{plugin="webhook"} 800
# TYPE apiserver_audit_requests_rejected_total counter
apiserver_audit_requests_rejected_total 0
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:36947",method="POST"} 120
rest_client_requests_total{code="<error>",host="127.0.0.1:36947",method="POST"} 3
rest_client_requests_total{code="200",host="[::1]:6443",method="GET"} 5
# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{component="apiserver",resource="pods",verb="POST",le="0.1"} 8
apiserver_request_duration_seconds_bucket{component="apiserver",resource="pods",verb="POST",le="1"} 10
apiserver_request_duration_seconds_bucket{component="apiserver",resource="pods",verb="POST",le="+Inf"} 10
apiserver_request_duration_seconds_bucket{component="apiserver",resource="nodes",verb="LIST",le="0.1"} 0
apiserver_request_duration_seconds_bucket{component="apiserver",resource="nodes",verb="LIST",le="1"} 0
apiserver_request_duration_seconds_bucket{component="apiserver",resource="nodes",verb="LIST",le="+Inf"} 50
apiserver_request_duration_seconds_bucket{component="apiserver",resource="deployments",verb="PATCH",le="0.1"} 2
apiserver_request_duration_seconds_bucket{component="apiserver",resource="deployments",verb="PATCH",le="1"} 10
apiserver_request_duration_seconds_bucket{component="apiserver",resource="deployments",verb="PATCH",le="+Inf"} 10
`;

describe('the API server audit counters', () => {
  it('reads generated events, losses per backend and rejected requests', () => {
    expect(apiserverAudit(METRICS)).toEqual({ events: 48211, errorsByPlugin: { buffered: 12, webhook: 800 }, requestsRejected: 0 });
  });

  it('gives what happened between two scrapes, also for a backend that first failed in between', () => {
    const before = apiserverAudit('apiserver_audit_event_total 1000\napiserver_audit_error_total{plugin="buffered"} 2\n');
    expect(auditDelta(before, apiserverAudit(METRICS))).toEqual({ events: 47211, errorsByPlugin: { buffered: 10, webhook: 800 }, requestsRejected: 0 });
  });

  it('counts the webhook POSTs to one host by code, and the write latency over the write verbs only', () => {
    const onHost = (code: string) => metricSumWhere(METRICS, 'rest_client_requests_total', (l) => l.host === '127.0.0.1:36947' && l.code === code);
    expect([onHost('200'), onHost('<error>')]).toEqual([120, 3]);
    const writes = histogramBuckets(METRICS, 'apiserver_request_duration_seconds', (l) => l.verb !== 'LIST');
    expect(Object.fromEntries(writes)).toEqual({ '0.1': 10, '1': 20, '+Inf': 20 });
    // half the writes took ≤ 0.1 s: the median is at that bucket's bound; the slow LISTs do not count
    expect(quantileOfDiff(new Map(), writes, 0.5).value).toBeCloseTo(0.1);
  });
});

describe("a pod's trace", () => {
  const life: PodSpanRow[] = [
    { kind: 'object' },
    { kind: 'event', verb: 'create', subresource: null },
    { kind: 'event', verb: 'create', subresource: 'binding' },
    { kind: 'link', linkClass: 'node' },
    { kind: 'link', linkClass: 'children' },
    { kind: 'event', verb: 'patch', subresource: 'status' },
    { kind: 'event', verb: 'delete', subresource: null },
  ];

  it('is complete with create, binding, a status update, delete and the link to its node', () => {
    expect(missingPodParts(life)).toEqual([]);
  });

  it('names what is missing', () => {
    const noBinding = life.filter((r) => r.subresource !== 'binding' && r.linkClass !== 'node');
    expect(missingPodParts(noBinding)).toEqual(['binding', 'node']);
    expect(missingPodParts([])).toEqual(['create', 'binding', 'status', 'delete', 'node']);
  });

  it('does not take other writes for the missing parts', () => {
    // an eviction (create pods/eviction), a label patch, a link to the owner
    const others: PodSpanRow[] = [
      { kind: 'event', verb: 'create', subresource: 'eviction' },
      { kind: 'event', verb: 'patch', subresource: null },
      { kind: 'link', linkClass: 'children' },
    ];
    expect(missingPodParts(others)).toEqual(['create', 'binding', 'status', 'delete', 'node']);
  });
});
