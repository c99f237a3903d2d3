// Prometheus metrics of the write path (prom-client), one registry per process. Served at /metrics
// by src/sources/health.ts; sinks, sources and the pipeline count into them.
// Labels carry only bounded values (reason codes, sink kinds, HTTP codes), never object names or data;
// kubetrail_findings carries namespaces, bounded (LIVE_MAX_NAMESPACES).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'kubetrail_process_' });

export const auditEventsReceived = new Counter({
  name: 'kubetrail_audit_events_received_total',
  help: 'Audit events received by the webhook (items of EventLists).',
  registers: [registry],
});
export const auditEventsAccepted = new Counter({
  name: 'kubetrail_audit_events_accepted_total',
  help: 'Audit events processed and made durable (traced, or intentionally skipped such as reads).',
  registers: [registry],
});
export const auditEventsRejected = new Counter({
  name: 'kubetrail_audit_events_rejected_total',
  help: 'Audit events not traced, by reason (malformed, pipeline_error, sink_full, sink_unavailable, draining, publish_failed: Kafka did not acknowledge).',
  labelNames: ['reason'] as const,
  registers: [registry],
});
export const spansWritten = new Counter({
  name: 'kubetrail_spans_written_total',
  help: 'Spans made durable by a sink (stored, or acknowledged by the collector).',
  labelNames: ['sink'] as const,
  registers: [registry],
});
export const spansFailed = new Counter({
  name: 'kubetrail_spans_failed_total',
  help: 'Spans a sink could not make durable after its retries (each failure is also logged).',
  labelNames: ['sink'] as const,
  registers: [registry],
});
/** Sinks whose queue is read at scrape time (queues drain between writes). */
interface TrackedSink {
  pending: () => number;
  bytes?: () => number;
  healthy?: () => boolean;
}
const trackedSinks = new Map<string, TrackedSink>();
export function trackSinkQueue(sink: string, pending: () => number, more: Omit<TrackedSink, 'pending'> = {}): void {
  trackedSinks.set(sink, { pending, ...more });
}
export const sinkQueueDepth = new Gauge({
  name: 'kubetrail_sink_queue_depth',
  help: 'Spans accepted by the sink but not yet durable.',
  labelNames: ['sink'] as const,
  registers: [registry],
  collect() {
    for (const [sink, t] of trackedSinks) this.set({ sink }, t.pending());
  },
});
export const sinkQueueBytes = new Gauge({
  name: 'kubetrail_sink_queue_bytes',
  help: 'Estimated encoded size of the spans accepted by the sink but not yet durable.',
  labelNames: ['sink'] as const,
  registers: [registry],
  collect() {
    for (const [sink, t] of trackedSinks) if (t.bytes) this.set({ sink }, t.bytes());
  },
});
export const sinkHealthy = new Gauge({
  name: 'kubetrail_sink_healthy',
  help: "1 while the sink's exports succeed, 0 while they fail (readiness is off then).",
  labelNames: ['sink'] as const,
  registers: [registry],
  collect() {
    for (const [sink, t] of trackedSinks) if (t.healthy) this.set({ sink }, t.healthy() ? 1 : 0);
  },
});
export const sinkExportFailures = new Counter({
  name: 'kubetrail_sink_export_failures_total',
  help: 'Failed export attempts by kind: transient (retried), too_large (batch split and resent), permanent (spans failed).',
  labelNames: ['sink', 'kind'] as const,
  registers: [registry],
});
export const sinkRefusals = new Counter({
  name: 'kubetrail_sink_refused_writes_total',
  help: 'Writes refused because the sink queue was full (backpressure: the caller answers 429 or waits).',
  labelNames: ['sink'] as const,
  registers: [registry],
});
export const attributesTruncated = new Counter({
  name: 'kubetrail_attributes_truncated_total',
  help: 'Span attribute values (snapshots, diffs) cut to the attribute size limit, with a marker in the value.',
  labelNames: ['sink'] as const,
  registers: [registry],
});
export const informerPauses = new Counter({
  name: 'kubetrail_informer_pauses_total',
  help: 'Times the informers stopped reading watch events because the sink was full (backpressure; they re-list on resume).',
  registers: [registry],
});
export const eventLag = new Histogram({
  name: 'kubetrail_event_lag_seconds',
  help: 'Time from an audit event stageTimestamp to its spans being durable.',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 5, 10, 30, 60, 300], // 1.5 and 2 s: the lag aim (p99 ≤ 2 s) is readable
  registers: [registry],
});
export const webhookRequestSeconds = new Histogram({
  name: 'kubetrail_webhook_request_seconds',
  help: "Time kubetrail took for an audit webhook request, from its arrival to the answer (200: spans durable): kubetrail's own share of kubetrail_event_lag_seconds; the rest is the API server's batching and sending.",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 5, 10, 30],
  registers: [registry],
});
export const webhookRequests = new Counter({
  name: 'kubetrail_webhook_requests_total',
  help: 'Audit webhook HTTP requests by response code.',
  labelNames: ['code'] as const,
  registers: [registry],
});
export const watchEvents = new Counter({
  name: 'kubetrail_watch_events_total',
  help: 'Informer notifications (list-watch and Events) by source and type.',
  labelNames: ['source', 'type'] as const,
  registers: [registry],
});
export const watchErrors = new Counter({
  name: 'kubetrail_watch_errors_total',
  help: 'Informer watch failures (each is followed by a re-list with backoff).',
  registers: [registry],
});

// Scale-out on Kafka (src/sources/kafka/, docs/scale-out.md). No data in single-process mode.
export const kafkaProduceSeconds = new Histogram({
  name: 'kubetrail_kafka_produce_seconds',
  help: 'Time from handing a batch of messages to the Kafka producer to its acknowledgement by all in-sync replicas.',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const kafkaProduceErrors = new Counter({
  name: 'kubetrail_kafka_produce_errors_total',
  help: 'Batches Kafka did not acknowledge (the webhook answered 503, informer changes are retried).',
  registers: [registry],
});
export const kafkaMessagesProduced = new Counter({
  name: 'kubetrail_kafka_messages_produced_total',
  help: 'Messages acknowledged by Kafka, by kind (audit, kube-event, watch).',
  labelNames: ['kind'] as const,
  registers: [registry],
});
export const kafkaMessagesConsumed = new Counter({
  name: 'kubetrail_kafka_messages_consumed_total',
  help: 'Messages a tracer processed and committed, by outcome (traced, warm: replayed into state only, bad: skipped).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const kafkaConsumerLag = new Gauge({
  name: 'kubetrail_kafka_consumer_lag',
  help: 'Messages behind the newest offset, per assigned partition (as of the last fetched batch).',
  labelNames: ['topic', 'partition'] as const,
  registers: [registry],
});
export const kafkaRebalances = new Counter({
  name: 'kubetrail_kafka_rebalances_total',
  help: 'Consumer group joins (start and every rebalance).',
  registers: [registry],
});
export const kafkaWarmupSeconds = new Histogram({
  name: 'kubetrail_kafka_warmup_seconds',
  help: 'Time a newly assigned partition spent re-reading its warm-up span before tracing.',
  buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  registers: [registry],
});

// Live findings (frontend-plugin/diagnose/live.ts, docs/diagnose.md "Live findings"): the diagnosis
// detectors run every --live-interval over the spans made durable in the last --live-window.
// kubetrail_findings' namespace label is bounded: the LIVE_MAX_NAMESPACES namespaces with the most
// findings keep their name, the others are summed under namespace="_other".
export const LIVE_MAX_NAMESPACES = 50;
export const liveFindings = new Gauge({
  name: 'kubetrail_findings',
  help: 'Findings of the live diagnosis over the sliding window, by detector, severity and namespace of the first object ("" cluster-scoped, "_other" beyond the 50 namespaces with the most).',
  labelNames: ['detector', 'severity', 'namespace'] as const,
  registers: [registry],
});
export const liveRuns = new Counter({
  name: 'kubetrail_live_diagnosis_runs_total',
  help: 'Live diagnosis runs over the sliding window, by outcome (ok, failed: a detector or the run threw; the others still report).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const liveSeconds = new Histogram({
  name: 'kubetrail_live_diagnosis_seconds',
  help: 'Time one live diagnosis run took (the process does nothing else meanwhile).',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
export const liveWindowFacts = new Gauge({
  name: 'kubetrail_live_window_facts',
  help: 'Facts (compacted event and link spans) the live window holds.',
  registers: [registry],
});
export const liveWindowDropped = new Counter({
  name: 'kubetrail_live_window_dropped_facts_total',
  help: 'Facts dropped from the live window before their time: it held --live-max-facts (the oldest go first), or its worker was too far behind to take them.',
  registers: [registry],
});
