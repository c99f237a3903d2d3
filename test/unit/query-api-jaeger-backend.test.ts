// Jaeger JSON → SpanRecord, as the Jaeger backend reads what the OTLP sink exported
// (fixture shaped like Jaeger v2's /api/traces/<id> answer, OTLP-added tags included).
import { describe, expect, it } from 'vitest';
import { fromJaegerSpan } from '../../frontend-plugin/backend/jaeger.ts';

const obj = [
  { key: 'cluster', type: 'string', value: 'kwok' },
  { key: 'group', type: 'string', value: 'apps' },
  { key: 'resource', type: 'string', value: 'replicasets' },
  { key: 'namespace', type: 'string', value: 'default' },
  { key: 'name', type: 'string', value: 'demo-aaa' },
];

describe('Jaeger span conversion', () => {
  it('turns a failed event span back into the stored record', () => {
    const r = fromJaegerSpan({
      traceID: '5a1b2c3d4e5f6000000000006553f0e8',
      spanID: '0123456789abcdef',
      operationName: 'update',
      references: [{ refType: 'CHILD_OF', traceID: '5a1b2c3d4e5f6000000000006553f0e8', spanID: 'fedcba9876543210' }],
      startTime: 1_700_000_000_000_000,
      duration: 1500,
      tags: [
        ...obj,
        { key: 'nestLevel', type: 'string', value: 'event' },
        { key: 'verb', type: 'string', value: 'update' },
        { key: 'code', type: 'int64', value: 409 },
        { key: 'noop', type: 'bool', value: false },
        { key: 'error', type: 'bool', value: true },
        { key: 'otel.status_code', type: 'string', value: 'ERROR' },
        { key: 'otel.status_description', type: 'string', value: 'Conflict: the object has been modified' },
        { key: 'span.kind', type: 'string', value: 'internal' },
        { key: 'otel.scope.name', type: 'string', value: 'kubetrail' },
      ],
    })!;
    expect(r).toMatchObject({
      traceId: '5a1b2c3d4e5f6000000000006553f0e8',
      spanId: '0123456789abcdef',
      parentSpanId: 'fedcba9876543210',
      kind: 'event',
      name: 'update',
      startUs: 1_700_000_000_000_000,
      endUs: 1_700_000_000_001_500,
      object: { cluster: 'kwok', group: 'apps', resource: 'replicasets', namespace: 'default', name: 'demo-aaa' },
      error: 'Conflict: the object has been modified',
    });
    // the write path sets the `error` attribute and the span's error to the same Status text
    expect(r.attributes).toEqual({
      ...Object.fromEntries(obj.map((t) => [t.key, t.value])),
      nestLevel: 'event',
      verb: 'update',
      code: 409,
      noop: false,
      error: 'Conflict: the object has been modified',
    });
  });

  it('infers the kind when nestLevel is missing and skips foreign spans', () => {
    const base = { traceID: 'a'.repeat(32), spanID: 'b'.repeat(16), operationName: 'x', startTime: 1, duration: 1 };
    expect(fromJaegerSpan({ ...base, tags: obj })!.kind).toBe('object');
    const ref = [{ refType: 'CHILD_OF', traceID: 'a'.repeat(32), spanID: 'c'.repeat(16) }];
    expect(fromJaegerSpan({ ...base, references: ref, tags: [...obj, { key: 'link.key', value: 'kwok/apps/deployments/default/demo' }] })!.kind).toBe('link');
    expect(fromJaegerSpan({ ...base, references: ref, tags: obj })!.kind).toBe('event');
    expect(fromJaegerSpan({ ...base, tags: [{ key: 'http.method', value: 'GET' }] })).toBeUndefined();
  });
});

describe('Jaeger backend when Jaeger is down', () => {
  it('answers 502 with the reason through the query API', async () => {
    const { JaegerBackend } = await import('../../frontend-plugin/backend/jaeger.ts');
    const { createQueryServer } = await import('../../frontend-plugin/server.ts');
    const app = await createQueryServer({
      backend: new JaegerBackend({ url: 'http://127.0.0.1:1', timeoutMs: 2000 }),
      windowSec: 1800,
      uiDir: '/nonexistent',
      logger: false,
    });
    const r = await app.inject({ method: 'GET', url: '/api/traces?service=tracing&tags=name%3Ddemo' });
    expect(r.statusCode).toBe(502);
    expect(r.json()).toMatchObject({ data: null, errors: [{ code: 502 }] });
    expect(r.json().errors[0].msg).toMatch(/unreachable/);
    await app.close();
  });
});
