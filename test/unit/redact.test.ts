import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { Redactor } from '../../src/decorate/redact.ts';
import { Attr } from '../../src/core/model.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { fx } from './audit-fixtures.ts';

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
