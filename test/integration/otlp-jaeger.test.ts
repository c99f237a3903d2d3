// The OTLP sink against a real Jaeger: spans written through OTLP gRPC are what Jaeger's query API
// returns, with our derived IDs, parent, tags, error status and the kubetrail service name.
import { describe, expect, inject, it } from 'vitest';
import { OtlpSink } from '../../src/sinks/otlp.ts';
import { instrument } from '../../src/sinks/index.ts';
import { registry } from '../../src/core/metrics.ts';
import { objectKey, type ObjectRef, type SpanRecord } from '../../src/core/model.ts';
import { eventSpanId, objectSpanId, rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { waitFor } from '../setup/wait.ts';

const stack = inject('stack');

interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  startTime: number;
  duration: number;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
}
interface JaegerTraceJson {
  data: { traceID: string; spans: JaegerSpan[]; processes: Record<string, { serviceName: string }> }[];
}

function traceOf(o: ObjectRef, nowUs: number): SpanRecord[] {
  const key = objectKey(o);
  const w = windowStartSec(nowUs, 1800);
  const traceId = rawTraceId(key, w);
  const root = objectSpanId(key, w);
  const attrs = { cluster: o.cluster, group: o.group, resource: o.resource, namespace: o.namespace, name: o.name };
  return [
    {
      traceId,
      spanId: root,
      kind: 'object',
      name: 'deployments',
      startUs: w * 1e6,
      endUs: (w + 1800) * 1e6,
      object: o,
      attributes: { ...attrs, nestLevel: 'object' },
    },
    {
      traceId,
      spanId: eventSpanId('audit-1', key),
      parentSpanId: root,
      kind: 'event',
      name: 'update',
      startUs: nowUs,
      endUs: nowUs + 1500,
      object: o,
      attributes: {
        ...attrs,
        nestLevel: 'event',
        verb: 'update',
        user: 'system:serviceaccount:kube-system:deployment-controller',
        code: 409,
        diff: 'spec.replicas 2 -> 4',
      },
      error: 'Conflict: the object has been modified',
    },
  ];
}

describe('OTLP sink → Jaeger', () => {
  it('exports spans that Jaeger returns with their IDs, parent, tags and error', async () => {
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    const o: ObjectRef = { cluster: 'kt-otlp', group: 'apps', resource: 'deployments', namespace: 'default', name: `web-${Date.now()}` };
    const spans = traceOf(o, Date.now() * 1000);
    await sink.write(spans); // resolves once Jaeger acknowledged
    expect(sink.pending()).toBe(0);
    const trace = await waitFor(
      async () => {
        const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${spans[0]!.traceId}`);
        if (!res.ok) return undefined;
        const body = (await res.json()) as JaegerTraceJson;
        return body.data?.[0]?.spans.length === 2 ? body.data[0] : undefined;
      },
      'the trace in Jaeger',
      60_000,
    );
    expect(trace.traceID).toBe(spans[0]!.traceId);
    const event = trace.spans.find((s) => s.spanID === spans[1]!.spanId)!;
    expect(event.operationName).toBe('update');
    expect(event.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: spans[0]!.spanId }));
    const tags = Object.fromEntries(event.tags.map((t) => [t.key, t.value]));
    expect(tags).toMatchObject({ cluster: 'kt-otlp', name: o.name, verb: 'update', diff: 'spec.replicas 2 -> 4', code: 409, error: true });
    expect(tags['otel.status_code']).toBe('ERROR');
    expect(String(tags['otel.status_description'])).toContain('Conflict');
    expect(event.startTime).toBe(spans[1]!.startUs);
    expect(event.duration).toBe(1500);
    expect(trace.processes[event.processID]!.serviceName).toBe('kubetrail');
    const services = (await (await fetch(`${stack.jaegerQueryUrl}/api/services`)).json()) as { data: string[] };
    expect(services.data).toContain('kubetrail');
    await sink.close();
  });

  it('re-exporting the same spans keeps one copy per span ID in the trace', async () => {
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint, batchSize: 1 });
    const o: ObjectRef = { cluster: 'kt-otlp', group: 'apps', resource: 'deployments', namespace: 'default', name: `dup-${Date.now()}` };
    const spans = traceOf(o, Date.now() * 1000);
    await sink.write(spans);
    await sink.write(spans);
    // a later span of the same trace: once Jaeger returns it with both others, the re-export is
    // stored too (one span per request, so the root, the event and the copies may land apart)
    const marker = { ...spans[1]!, spanId: eventSpanId('audit-2', objectKey(o)), startUs: spans[1]!.startUs + 1 };
    await sink.write([marker]);
    const ids = [...spans, marker].map((s) => s.spanId).sort();
    const trace = await waitFor(
      async () => {
        const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${spans[0]!.traceId}`);
        const t = res.ok ? ((await res.json()) as JaegerTraceJson).data?.[0] : undefined;
        return t && ids.every((id) => t.spans.some((x) => x.spanID === id)) ? t : undefined;
      },
      'the trace with all three spans',
      60_000,
    );
    expect(trace.spans.map((s) => s.spanID).sort()).toEqual(ids);
    await sink.close();
  });

  it('acknowledges many concurrent writers, each once its own spans are in Jaeger, and refuses writes after close', async () => {
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint, batchSize: 3, concurrency: 2 });
    const nowUs = Date.now() * 1000;
    const objects: ObjectRef[] = Array.from({ length: 20 }, (_, i) => ({
      cluster: 'kt-otlp',
      group: 'apps',
      resource: 'deployments',
      namespace: 'default',
      name: `many-${nowUs}-${i}`,
    }));
    const traces = objects.map((o) => traceOf(o, nowUs));
    await Promise.all(traces.map((t) => sink.write(t)));
    expect(sink.pending()).toBe(0);
    for (const t of [traces[0]!, traces[19]!]) {
      const trace = await waitFor(
        async () => {
          const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${t[0]!.traceId}`);
          const body = res.ok ? ((await res.json()) as JaegerTraceJson) : undefined;
          return body?.data?.[0]?.spans.length === 2 ? body.data[0] : undefined;
        },
        'the trace in Jaeger',
        60_000,
      );
      expect(trace.spans.map((s) => s.spanID).sort()).toEqual(t.map((s) => s.spanId).sort());
    }
    await sink.close();
    await expect(sink.write(traces[0]!)).rejects.toThrow(/closed/);
  });

  it('tells the writer and counts the spans when the collector is unreachable', async () => {
    const sink = instrument(new OtlpSink({ endpoint: 'http://127.0.0.1:1', maxAttempts: 2, timeoutMs: 2000 }), 'otlp');
    const o: ObjectRef = { cluster: 'kt-otlp', group: '', resource: 'pods', namespace: 'default', name: 'lost' };
    await expect(sink.write(traceOf(o, Date.now() * 1000))).rejects.toThrow(/OTLP export .* failed/);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/kubetrail_spans_failed_total\{sink="otlp"\} [1-9]/);
    await sink.close();
  });
});
