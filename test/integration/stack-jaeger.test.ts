// Proof that the Jaeger of the test stack is real: a span sent over OTLP gRPC with the
// OpenTelemetry JS exporter comes back from Jaeger's query HTTP API with its tags.
import { describe, expect, inject, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { waitFor } from '../setup/wait.ts';
import '../setup/types.ts';

describe('Jaeger (real, from the Go module proxy)', () => {
  it('stores a span exported over OTLP gRPC and serves it at /api/traces/<id>', async () => {
    const stack = inject('stack');
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'stack-proof' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: stack.otlpGrpcEndpoint }))],
    });
    const span = provider.getTracer('stack-jaeger-test').startSpan('create deployments', {
      attributes: { 'k8s.resource': 'deployments', 'k8s.name': 'web', replicas: 3 },
    });
    span.addEvent('audit', { verb: 'create' });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    const traceId = span.spanContext().traceId;

    const trace = await waitFor(
      async () => {
        const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${traceId}`);
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { data: any[] };
        return body.data?.[0];
      },
      `trace ${traceId} in Jaeger`,
      30_000,
    );

    expect(trace.traceID).toBe(traceId);
    expect(trace.spans).toHaveLength(1);
    const got = trace.spans[0];
    expect(got.operationName).toBe('create deployments');
    expect(got.spanID).toBe(span.spanContext().spanId);
    const tags = Object.fromEntries(got.tags.map((t: any) => [t.key, t.value]));
    expect(tags).toMatchObject({ 'k8s.resource': 'deployments', 'k8s.name': 'web', replicas: 3 });
    expect(got.logs[0].fields).toEqual(expect.arrayContaining([{ key: 'verb', type: 'string', value: 'create' }]));
    expect(trace.processes[got.processID].serviceName).toBe('stack-proof');
  });
});
