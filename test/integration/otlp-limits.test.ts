// Exports larger than the collector's message limit (issue 8, item 1), against the real Jaeger v2
// with its default 4 MiB gRPC limit: one audit batch of 400 creates of ~18 KB pods must reach
// Jaeger through the webhook, a replay of such a log must succeed, and a 5 MB object is stored
// with its snapshot cut and marked.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { OtlpSink } from '../../src/sinks/otlp.ts';
import { buildWebhookServer } from '../../src/sources/webhook.ts';
import { replay } from '../../src/sources/replay.ts';
import { classifyItem, readAuditLogs } from '../../src/sources/audit-log.ts';
import { objectKey, type ObjectRef } from '../../src/core/model.ts';
import { rawTraceId, windowStartSec } from '../../src/core/ids.ts';
import { BASE_MS, auditEvent, eventList } from '../unit/webhook.fixtures.ts';
import { waitFor } from '../setup/wait.ts';
import { registry } from '../../src/core/metrics.ts';
import { fromJaegerSpan } from '../../frontend-plugin/backend/jaeger.ts';

const stack = inject('stack');

interface JaegerTraceJson {
  data: { spans: { spanID: string; operationName: string; tags: { key: string; value: unknown }[] }[] }[];
}

/** A pod of about 18 KB of JSON, like one with many env variables and a long annotation. */
function bigPodEvents(prefix: string, n: number, at = 0) {
  return Array.from({ length: n }, (_, i) =>
    auditEvent({
      verb: 'create',
      resource: 'pods',
      kind: 'Pod',
      namespace: 'default',
      name: `${prefix}-${i}`,
      at: at + i / 1000,
      object: {
        metadata: { name: `${prefix}-${i}`, namespace: 'default', uid: `uid-${prefix}-${i}`, annotations: { 'example.com/config': 'c'.repeat(9000) } },
        spec: {
          containers: [
            { name: 'app', image: 'busybox', env: Array.from({ length: 60 }, (_, j) => ({ name: `VAR_${j}`, value: `value-${j}-`.padEnd(120, 'v') })) },
          ],
        },
      },
    }),
  );
}

const podRef = (name: string): ObjectRef => ({ cluster: 'kt-limits', group: '', resource: 'pods', namespace: 'default', name });

async function jaegerTrace(o: ObjectRef, atMs: number) {
  const id = rawTraceId(objectKey(o), windowStartSec(atMs * 1000, 1800));
  return waitFor(
    async () => {
      const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${id}`);
      if (!res.ok) return undefined;
      const t = ((await res.json()) as JaegerTraceJson).data?.[0];
      return t?.spans.some((s) => s.operationName === 'create') ? t : undefined;
    },
    `the trace of ${o.name} in Jaeger`,
    60_000,
  );
}

describe('OTLP exports above the collector message limit → real Jaeger (4 MiB)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-otlp-limits-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one webhook batch of 400 creates of ~18 KB pods ends up in Jaeger', async () => {
    const prefix = `big-${Date.now()}`;
    const items = bigPodEvents(prefix, 400);
    expect(JSON.stringify(items[0]!.responseObject).length).toBeGreaterThan(17_000);
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    const server = buildWebhookServer({ pipeline: new Pipeline(), sink });
    const res = await server.app.inject({ method: 'POST', url: '/audit/kt-limits', payload: eventList(items) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 400, traced: 400, rejected: 0 });
    for (const i of [0, 199, 399]) {
      const t = await jaegerTrace(podRef(`${prefix}-${i}`), BASE_MS);
      const create = t.spans.find((s) => s.operationName === 'create')!;
      const snapshot = String(create.tags.find((x) => x.key === 'snapshot')?.value ?? '');
      expect(snapshot).toContain(`${prefix}-${i}`);
      expect(snapshot).not.toContain('truncated by kubetrail');
    }
    await server.app.close();
    await sink.close();
  });

  it('a replay of such a log succeeds and every pod is in Jaeger', async () => {
    const prefix = `replay-${Date.now()}`;
    const file = join(dir, 'audit.log');
    writeFileSync(
      file,
      `${bigPodEvents(prefix, 400)
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    const s = await replay({ items: readAuditLogs([file]), classify: classifyItem, pipeline: new Pipeline(), sink, cluster: 'kt-limits' });
    expect(s).toMatchObject({ eventsRead: 400, traced: 400, errors: 0 });
    for (const i of [0, 399]) await jaegerTrace(podRef(`${prefix}-${i}`), BASE_MS);
    await sink.close();
  });

  it('a 5 MB object is stored with its snapshot cut to the attribute limit and marked', async () => {
    const name = `huge-${Date.now()}`;
    const ev = auditEvent({
      verb: 'create',
      resource: 'configmaps',
      kind: 'ConfigMap',
      namespace: 'default',
      name,
      at: 1,
      object: { data: { blob: 'b'.repeat(5 * 1024 * 1024) } },
    });
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint });
    const server = buildWebhookServer({ pipeline: new Pipeline(), sink, maxBodyBytes: 64 * 1024 * 1024 });
    const res = await server.app.inject({ method: 'POST', url: '/audit/kt-limits', payload: eventList([ev]) });
    expect(res.statusCode).toBe(200);
    const t = await jaegerTrace({ cluster: 'kt-limits', group: '', resource: 'configmaps', namespace: 'default', name }, BASE_MS + 1000);
    const create = t.spans.find((s) => s.operationName === 'create')!;
    // Jaeger holds it in parts of 32,000 bytes (src/core/attr-chunks.ts); the read side joins them
    expect(Math.max(...create.tags.map((x) => Buffer.byteLength(String(x.value))))).toBeLessThanOrEqual(32_000);
    const snapshot = String(fromJaegerSpan(create as never)!.attributes.snapshot);
    expect(Buffer.byteLength(snapshot)).toBeLessThanOrEqual(1024 * 1024);
    expect(snapshot).toMatch(/\[truncated by kubetrail: \d+ bytes, limit 1048576\]$/);
    await server.app.close();
    await sink.close();
  });

  it('a batch the collector refuses as too large is split and resent; a single too-large span is cut to fit, counted', async () => {
    const prefix = `split-${Date.now()}`;
    // the writer believes 64 MiB fit in one request: Jaeger answers RESOURCE_EXHAUSTED
    const sink = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint, maxBatchBytes: 64 * 1024 ** 2, name: 'otlp-split' });
    const server = buildWebhookServer({ pipeline: new Pipeline(), sink });
    const res = await server.app.inject({ method: 'POST', url: '/audit/kt-limits', payload: eventList(bigPodEvents(prefix, 400)) });
    expect(res.statusCode).toBe(200);
    await jaegerTrace(podRef(`${prefix}-399`), BASE_MS);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/kubetrail_sink_export_failures_total\{sink="otlp-split",kind="too_large"\} [1-9]/);
    expect(metrics).not.toMatch(/kubetrail_spans_failed_total\{sink="otlp-split"\} [1-9]/);

    // no attribute limit and a writer that believes 64 MiB fit: Jaeger refuses the 5 MB span alone;
    // it is cut to half and resent (issue 21, item 3: it must never fail its write, i.e. its batch)
    const huge = new OtlpSink({ endpoint: stack.otlpGrpcEndpoint, maxAttributeBytes: 0, maxBatchBytes: 64 * 1024 ** 2, name: 'otlp-huge' });
    const span = {
      traceId: 'ab'.repeat(12) + Date.now().toString(16).padStart(8, '0').slice(-8),
      spanId: 'cd'.repeat(8),
      kind: 'event' as const,
      name: 'create',
      startUs: Date.now() * 1000,
      endUs: Date.now() * 1000,
      object: podRef('huge'),
      attributes: { ...podRef('huge'), nestLevel: 'event', snapshot: 'x'.repeat(5 * 1024 ** 2) },
    };
    await huge.write([span]);
    expect(await registry.metrics()).not.toMatch(/kubetrail_spans_failed_total\{sink="otlp-huge"\} [1-9]/);
    expect(await registry.metrics()).toMatch(/kubetrail_sink_export_failures_total\{sink="otlp-huge",kind="too_large"\} 1\n/); // refused once, then fit
    const stored = await waitFor(
      async () => {
        const res = await fetch(`${stack.jaegerQueryUrl}/api/traces/${span.traceId}`);
        return res.ok ? ((await res.json()) as JaegerTraceJson).data?.[0]?.spans[0] : undefined;
      },
      'the cut span in Jaeger',
      60_000,
    );
    expect(stored.tags.find((t) => t.key === 'truncated')?.value).toBe('snapshot');
    await server.app.close();
    await sink.close();
    await huge.close();
  });
});
