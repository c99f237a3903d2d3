// Secret values where they must never arrive: audit events of Secret creates and updates with
// distinctive values (the Kafka tests and `node bench/faults.ts`), and the search for those values
// in raw bytes (files, process output), in clear and in base64 at every byte alignment.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The value, its base64, and the stable middle of its base64 at the two other byte alignments. */
export function forms(value: string): string[] {
  const out = [value, Buffer.from(value).toString('base64')];
  for (const pad of ['x', 'xy']) {
    const b = Buffer.from(pad + value).toString('base64');
    out.push(b.slice(4, b.length - 4));
  }
  return out;
}

/** The forms of `values` found in `haystack`. */
export function leaks(haystack: Buffer | string, values: string[]): string[] {
  const buf = typeof haystack === 'string' ? Buffer.from(haystack) : haystack;
  return values.flatMap(forms).filter((f) => buf.includes(f));
}

/** Every file under `dir` whose bytes hold a form of one of `values`, with what it holds. */
export function leaksInDir(dir: string, values: string[]): { file: string; found: string[] }[] {
  const out: { file: string; found: string[] }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = join(e.parentPath, e.name);
    const found = leaks(readFileSync(file), values);
    if (found.length) out.push({ file, found });
  }
  return out;
}

export interface SecretStream {
  /** Audit events (RequestResponse): each Secret created, then its password changed (same length). */
  events: Record<string, unknown>[];
  /** Every secret value the events carry. */
  values: string[];
}

/**
 * `secrets` Secrets, each created with `data.password` and `stringData.token` (as `kubectl apply`
 * does: the last-applied annotation holds the token in clear), then updated with another password
 * of the same length: its diff must still say that the password changed.
 */
export function secretStream(secrets: number, namespace: string, startMs = Date.now()): SecretStream {
  const events: Record<string, unknown>[] = [];
  const values: string[] = [];
  const tag = () => `kt-secret-${randomBytes(9).toString('hex')}`;
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  for (let i = 0; i < secrets; i++) {
    const [p1, p2, token] = [tag(), tag(), tag()];
    values.push(p1, p2, token);
    const name = `secret-${i}`;
    const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: { token } });
    const metadata = (rv: number) => ({
      name,
      namespace,
      uid: `uid-${namespace}-${i}`,
      resourceVersion: String(rv),
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied },
    });
    for (const [v, password] of [p1, p2].entries()) {
      const ts = new Date(startMs + events.length).toISOString().replace('Z', '000Z');
      const stored = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: metadata(100 + 2 * i + v),
        type: 'Opaque',
        data: { password: b64(password), token: b64(token) },
      };
      events.push({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'RequestResponse',
        auditID: `s-${namespace}-${i}-${v}`,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/${namespace}/secrets${v === 0 ? '' : `/${name}`}`,
        verb: v === 0 ? 'create' : 'update',
        user: { username: 'secret-test' },
        sourceIPs: ['127.0.0.1'],
        objectRef: { resource: 'secrets', namespace, name, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: v === 0 ? 201 : 200 },
        requestObject: { ...stored, data: { password: b64(password) }, stringData: { token } },
        responseObject: stored,
        requestReceivedTimestamp: ts,
        stageTimestamp: ts,
      });
    }
  }
  return { events, values };
}
