import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Redactor } from '../../src/decorate/redact.ts';
import { Attr } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { fx } from './audit-fixtures.ts';
import { factsSpans } from '../../src/core/fact-spans.ts';
import { MessageRedactor } from '../../src/sources/kafka/redact-message.ts';
import { decodeMessage, encodeMessage } from '../../src/sources/kafka/messages.ts';

const C = 'kwok';
const SECRETS = ['c3VwZXItc2VjcmV0LXB3', 'super-secret-pw', 'b3RoZXItc2VjcmV0LXB3', 'other-secret-pw', 'plain-token-value', 'cGxhaW4tdG9rZW4tdmFsdWU='];

function leaks(spans: SpanRecord[]): string[] {
  const json = JSON.stringify(spans);
  return SECRETS.filter((s) => json.includes(s));
}

describe('redaction', () => {
  it('a Secret value never appears in any span (create, update, watch, list-watch-only)', () => {
    const p = new Pipeline();
    p.setListWatchOnly('lw', true);
    const all: SpanRecord[] = [];
    all.push(...p.auditEvent(fx('secret-create'), C).spans);
    all.push(...p.auditEvent(fx('secret-update'), C).spans);
    all.push(...p.watchChange({ type: 'ADDED', object: fx('secret-create').responseObject, group: '', version: 'v1', resource: 'secrets' }, 'lw').spans);
    all.push(...p.watchChange({ type: 'MODIFIED', object: fx('secret-update').responseObject, group: '', version: 'v1', resource: 'secrets' }, 'lw').spans);
    all.push(...p.watchChange({ type: 'DELETED', object: fx('secret-update').responseObject, group: '', version: 'v1', resource: 'secrets' }, 'lw').spans);
    expect(all.filter((s) => s.kind === 'event')).toHaveLength(5);
    expect(leaks(all)).toEqual([]);
    // nor in the diagnosis' facts the OTLP export sends beside them (src/core/fact-spans.ts)
    const facts = JSON.stringify(factsSpans(all));
    expect(facts).toContain('redacted');
    expect(SECRETS.filter((v) => facts.includes(v))).toEqual([]);
    const snap = JSON.parse(all.find((s) => s.attributes[Attr.snapshot])!.attributes[Attr.snapshot] as string);
    expect(snap.data.password).toBe('<redacted 15 bytes>');
    expect(snap.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toMatch(/^<redacted \d+ bytes>$/);
  });

  it('a changed secret value of the same length still shows a diff line, without the value', () => {
    const p = new Pipeline();
    p.auditEvent(fx('secret-create'), C);
    const e = p.auditEvent(fx('secret-update'), C).spans.find((s) => s.kind === 'event')!;
    const diff = String(e.attributes[Attr.diff]);
    expect(diff).toContain('data.password "<redacted 15 bytes>" -> "<redacted 15 bytes, changed>"');
    expect(diff).not.toContain('data.token');
    expect(leaks([e])).toEqual([]);
  });

  it("the caller's object is not modified", () => {
    const raw = fx('secret-create');
    new Pipeline().auditEvent(raw, C);
    expect(raw.responseObject.data.password).toBe('c3VwZXItc2VjcmV0LXB3');
  });

  it('configured rules redact other paths, with wildcards, for a group/resource', () => {
    const p = new Pipeline({ redact: [{ resource: 'configmaps', path: 'data.*' }, { path: 'spec.template.spec.containers.*.env.*.value' }] });
    const e = p.auditEvent(fx('configmap-create-impersonated'), C).spans.find((s) => s.kind === 'event')!;
    expect(e.attributes[Attr.snapshot]).not.toContain('worker_processes');
    expect(JSON.parse(e.attributes[Attr.snapshot] as string).data['nginx.conf']).toBe('<redacted 19 bytes>');
    const r = new Redactor([{ path: 'spec.template.spec.containers.*.env.*.value' }]);
    const out = r.redact(
      { spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'PW', value: 'hunter2' }] }] } } } },
      'apps',
      'deployments',
    ) as any;
    expect(out.spec.template.spec.containers[0].env[0]).toEqual({ name: 'PW', value: '<redacted 7 bytes>' });
  });
});

describe('credentials in other payloads', () => {
  it('a TokenRequest (serviceaccounts/token) is traced on the ServiceAccount without its token', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.secret-jwt-payload.sig';
    const raw = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: 'tok-1',
      stage: 'ResponseComplete',
      verb: 'create',
      user: { username: 'system:node:kwok-node-0' },
      sourceIPs: ['172.18.0.3'],
      userAgent: 'kubelet/v1.33.1',
      objectRef: { resource: 'serviceaccounts', namespace: 'default', name: 'default', apiVersion: 'v1', subresource: 'token' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name: 'default', namespace: 'default' },
        spec: { audiences: ['https://kubernetes.default.svc'] },
      },
      responseObject: {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name: 'default', namespace: 'default' },
        spec: {},
        status: { token, expirationTimestamp: '2025-06-01T11:00:00Z' },
      },
      requestReceivedTimestamp: '2025-06-01T10:00:00.000000Z',
      stageTimestamp: '2025-06-01T10:00:00.001000Z',
    };
    const spans = new Pipeline().auditEvent(raw, C).spans;
    expect(spans.find((s) => s.kind === 'event')!.name).toBe('create token');
    expect(JSON.stringify(spans)).not.toContain('secret-jwt-payload');
  });
});

describe('receive role: redacted before the message leaves the receiver (Kafka)', () => {
  const asMessage = (item: unknown, kind: 'audit' | 'watch' = 'audit') => ({ v: 1 as const, cluster: C, kind, item });

  it('no Secret value in the published message; the tracer still shows which key changed', () => {
    const receiver = new MessageRedactor();
    const sent = [fx('secret-create'), fx('secret-update')].map((e) => encodeMessage(receiver.redact(asMessage(e))));
    expect(SECRETS.filter((s) => sent.some((m) => m.value.includes(s)))).toEqual([]);
    expect(sent[0]!.key).toBe(encodeMessage(asMessage(fx('secret-create'))).key);

    const tracer = new Pipeline();
    const spans = sent.flatMap((m) => {
      const msg = decodeMessage(m.value);
      if ('error' in msg) throw new Error(msg.error);
      return tracer.auditEvent(msg.item, C).spans;
    });
    expect(leaks(spans)).toEqual([]);
    const update = spans.filter((s) => s.kind === 'event')[1]!;
    expect(String(update.attributes[Attr.diff])).toContain('data.password "<redacted 15 bytes>" -> "<redacted 15 bytes, changed>"');
    expect(String(update.attributes[Attr.diff])).not.toContain('data.token');
    expect(JSON.stringify(spans)).not.toContain('digest');
  });

  it('watch changes, Secret lists and bearer tokens are redacted too; the caller keeps its object', () => {
    const receiver = new MessageRedactor();
    const secret = fx('secret-create').responseObject;
    const watch = receiver.redact(asMessage({ type: 'ADDED', object: secret, group: '', version: 'v1', resource: 'secrets' }, 'watch'));
    const list = receiver.redact(
      asMessage({
        ...fx('secret-create'),
        verb: 'list',
        objectRef: { resource: 'secrets', apiVersion: 'v1' },
        responseObject: { kind: 'SecretList', items: [secret] },
      }),
    );
    const token = receiver.redact(
      asMessage({
        ...fx('secret-create'),
        objectRef: { resource: 'serviceaccounts', subresource: 'token', name: 'x' },
        responseObject: { kind: 'TokenRequest', status: { token: 'plain-token-value' } },
      }),
    );
    expect(leaks([watch, list, token] as never)).toEqual([]);
    expect(secret.data.password).toBe('c3VwZXItc2VjcmV0LXB3');
  });

  it('redaction is idempotent: a placeholder is not redacted again', () => {
    const r = new Redactor();
    const once = r.redact(fx('secret-create').responseObject, '', 'secrets');
    expect(r.redact(once, '', 'secrets')).toEqual(once);
  });

  it('digests made under different keys (two receivers) are not compared', () => {
    const [a, b] = [new MessageRedactor(), new MessageRedactor()];
    const tracer = new Pipeline();
    tracer.auditEvent(decodeItem(encodeMessage(a.redact(asMessage(fx('secret-create')))).value), C);
    const e = tracer.auditEvent(decodeItem(encodeMessage(b.redact(asMessage(fx('secret-create')))).value), C).spans.find((s) => s.kind === 'event')!;
    expect(String(e.attributes[Attr.diff] ?? '')).not.toContain('changed');
  });
});

function decodeItem(value: string): unknown {
  const m = decodeMessage(value);
  if ('error' in m) throw new Error(m.error);
  return m.item;
}
