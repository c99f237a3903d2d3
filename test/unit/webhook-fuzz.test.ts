// Fuzz-style robustness of the audit webhook: thousands of seeded, mutated EventLists against the real
// fastify server (inject), the real pipeline and a real SQLite store. The process must never crash,
// never answer 5xx except by design (503 draining/sink down, 429 full), never hang, never pollute
// Object.prototype — and afterwards a valid EventList must still be traced.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Pipeline } from '../../src/pipeline/pipeline.ts';
import { SqliteStore } from '../../src/sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { buildWebhookServer, type WebhookServer } from '../../src/sources/webhook.ts';
import { rawTraceId } from '../../src/core/ids.ts';
import { auditEvent, deploymentEvents, eventList } from './webhook.fixtures.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/audit');
// Fixed seed so a failure reproduces; KUBETRAIL_FUZZ_SEED / KUBETRAIL_FUZZ_REQUESTS explore further.
const REQUESTS = Number(process.env.KUBETRAIL_FUZZ_REQUESTS ?? 3000);
const SEED = Number(process.env.KUBETRAIL_FUZZ_SEED ?? 0x6b75627e);
const ALL = { startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 100 };

/** mulberry32: small, seeded, good enough to pick mutations reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function loadFixtures(): unknown[] {
  const out: unknown[] = [];
  for (const f of readdirSync(FIXTURES).sort()) {
    const text = readFileSync(join(FIXTURES, f), 'utf8');
    if (f.endsWith('.json')) {
      const v = JSON.parse(text) as unknown;
      if (Array.isArray(v)) out.push(...v);
      else out.push(v);
    } else if (f.endsWith('.log')) {
      for (const line of text.split('\n')) {
        try {
          out.push(JSON.parse(line)); // the log fixture ends with a truncated line on purpose
        } catch {
          /* skip */
        }
      }
    }
  }
  return out;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Objects whose own keys include `__proto__`/`constructor`/`prototype` (JSON.parse makes them own keys). */
const POLLUTERS: Json[] = [
  JSON.parse('{"__proto__":{"polluted":"yes","isAdmin":true}}') as Json,
  JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}') as Json,
  JSON.parse('{"prototype":{"polluted":"yes"},"__proto__":[1,2]}') as Json,
  JSON.parse('{"metadata":{"__proto__":{"polluted":"yes"},"name":"__proto__"}}') as Json,
];

function mutate(root: Json, rnd: () => number): Json {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const deep = (depth: number): Json => {
    let v: Json = 'bottom';
    for (let i = 0; i < depth; i++) v = rnd() < 0.5 ? [v] : { a: v };
    return v;
  };
  const garbage = (): Json =>
    pick<() => Json>([
      () => null,
      () => true,
      () => 0,
      () => -1,
      () => 1e308,
      () => -0.5,
      () => Number.MAX_SAFE_INTEGER * 4,
      () => '',
      () => '42',
      () => 'x'.repeat(1 + Math.floor(rnd() * 200_000)),
      () => '\u0000\ud800\udfff\u202e\ufeff𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ \\"\'`${}',
      () => [],
      () => {
        return {};
      },
      () => [1, 'two', null, { three: 3 }],
      () => deep(5 + Math.floor(rnd() * 3000)),
      () => JSON.parse(JSON.stringify(pick(POLLUTERS))) as Json,
      () => 'not-a-timestamp',
      () => '2026-13-45T99:99:99Z',
      () => '__proto__',
      () => 'constructor',
      () => 'toString',
      () => '../../etc/passwd',
      () => 'a/b/c/d/e/f',
    ])();

  // Collect every (container, key) so a mutation can hit any depth.
  const slots: [Record<string, Json> | Json[], string | number][] = [];
  const walk = (v: Json, depth: number): void => {
    if (depth > 12 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v))
      v.forEach((c, i) => {
        slots.push([v, i]);
        walk(c, depth + 1);
      });
    else
      for (const k of Object.keys(v)) {
        slots.push([v, k]);
        walk(v[k]!, depth + 1);
      }
  };
  walk(root, 0);
  if (slots.length === 0) return garbage();
  const [container, key] = pick(slots);
  const c = container as Record<string | number, Json>;
  const old = c[key];
  switch (Math.floor(rnd() * 8)) {
    case 0:
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete c[key];
      break;
    case 1: // numbers as strings, strings as numbers
      c[key] = typeof old === 'number' ? String(old) : typeof old === 'string' ? Number(old) || 7 : garbage();
      break;
    case 2: // wrap in an array / object
      c[key] = rnd() < 0.5 ? [old ?? null] : { value: old ?? null };
      break;
    case 3: // a prototype-pollution key next to the real ones
      if (!Array.isArray(container)) {
        Object.defineProperty(c, pick(['__proto__', 'constructor', 'prototype']), {
          value: garbage(),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      } else c[key] = JSON.parse(JSON.stringify(pick(POLLUTERS))) as Json;
      break;
    default:
      c[key] = garbage();
  }
  return root;
}

/** Fields the pipeline reads (normalize, diff, snapshot, linkers, redaction). */
const FIELDS = [
  'kind',
  'apiVersion',
  'auditID',
  'stage',
  'verb',
  'level',
  'requestURI',
  'user',
  'user.username',
  'user.groups',
  'impersonatedUser',
  'impersonatedUser.username',
  'sourceIPs',
  'userAgent',
  'annotations',
  'objectRef',
  'objectRef.resource',
  'objectRef.namespace',
  'objectRef.name',
  'objectRef.apiGroup',
  'objectRef.apiVersion',
  'objectRef.subresource',
  'objectRef.uid',
  'objectRef.resourceVersion',
  'responseStatus',
  'responseStatus.code',
  'responseStatus.reason',
  'responseStatus.message',
  'responseStatus.status',
  'requestReceivedTimestamp',
  'stageTimestamp',
  'requestObject',
  'requestObject.kind',
  'requestObject.target',
  'requestObject.target.name',
  'requestObject.data',
  'requestObject.stringData',
  'requestObject.metadata',
  'requestObject.spec',
  'responseObject',
  'responseObject.kind',
  'responseObject.apiVersion',
  'responseObject.metadata',
  'responseObject.metadata.name',
  'responseObject.metadata.namespace',
  'responseObject.metadata.uid',
  'responseObject.metadata.resourceVersion',
  'responseObject.metadata.generation',
  'responseObject.metadata.ownerReferences',
  'responseObject.metadata.ownerReferences.0',
  'responseObject.metadata.ownerReferences.0.kind',
  'responseObject.metadata.ownerReferences.0.controller',
  'responseObject.metadata.annotations',
  'responseObject.metadata.labels',
  'responseObject.metadata.managedFields',
  'responseObject.metadata.deletionTimestamp',
  'responseObject.metadata.creationTimestamp',
  'responseObject.metadata.generateName',
  'responseObject.spec',
  'responseObject.spec.nodeName',
  'responseObject.spec.replicas',
  'responseObject.spec.template',
  'responseObject.spec.template.spec.containers',
  'responseObject.spec.containers',
  'responseObject.spec.containers.0',
  'responseObject.status',
  'responseObject.status.conditions',
  'responseObject.status.conditions.0',
  'responseObject.data',
  'responseObject.stringData',
  'responseObject.type',
  'responseObject.items',
  'responseObject.involvedObject',
  'responseObject.involvedObject.kind',
  'responseObject.involvedObject.name',
  'responseObject.reason',
  'responseObject.message',
  'responseObject.count',
  'responseObject.firstTimestamp',
  'responseObject.lastTimestamp',
  'responseObject.eventTime',
  'responseObject.regarding',
  'responseObject.source',
];

/** Sets one well-known field (creating the path if needed) to garbage or a wrong type. */
function mutateField(item: unknown, rnd: () => number): void {
  if (item === null || typeof item !== 'object') return;
  const path = FIELDS[Math.floor(rnd() * FIELDS.length)]!.split('.');
  let cur = item as Record<string, Json>;
  for (const part of path.slice(0, -1)) {
    const next = cur[part];
    if (next === null || typeof next !== 'object') {
      if (rnd() < 0.5) return;
      cur[part] = {};
    }
    cur = cur[part] as Record<string, Json>;
  }
  const last = path[path.length - 1]!;
  if (rnd() < 0.15) delete cur[last];
  else cur[last] = mutateValue(cur[last] ?? null, rnd);
}

function mutateValue(v: Json, rnd: () => number): Json {
  const holder = { v } as { [k: string]: Json };
  // mutate() picks a random slot; with one slot at the top it usually replaces the value itself
  return (mutate(holder, rnd) as { v?: Json }).v ?? null;
}

/** Mutations of the whole body, including ones that are not an EventList at all. */
function mutatedBody(events: unknown[], rnd: () => number): string {
  const clone = <T>(v: T): T => structuredClone(v);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const items: Json[] = [];
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) items.push(clone(pick(events)) as Json);
  // Half the mutations aim at the fields the pipeline reads; the others hit anything anywhere.
  for (const item of items) if (rnd() < 0.7) mutateField(item, rnd);
  let list: Json = eventList(items) as Json;
  const rounds = Math.floor(rnd() * 3);
  for (let i = 0; i < rounds; i++) list = mutate(list, rnd);
  const whole = rnd();
  if (whole < 0.03) list = { kind: 'EventList', items: 'not-an-array' };
  else if (whole < 0.06) list = { kind: 'EventList', apiVersion: 'audit.k8s.io/v9', items: { 0: items[0] ?? null } };
  else if (whole < 0.08) list = pick([null, 42, 'EventList', [], [items[0] ?? null], true]);
  else if (whole < 0.1) list = { kind: 'Event', ...(clone(pick(events)) as Record<string, Json>), apiVersion: 'v1', items: null };
  let text = JSON.stringify(list);
  const t = rnd();
  if (t < 0.05)
    text = text.slice(0, Math.floor(rnd() * text.length)); // truncated JSON
  else if (t < 0.07)
    text = text.replace(/"/g, "'"); // not JSON at all
  else if (t < 0.08)
    text = '\ufeff' + text; // BOM
  else if (t < 0.09) text = '[' + '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) + ']'; // deep nesting in the parser
  return text;
}

describe('audit webhook under fuzzed input', () => {
  let dir: string;
  let store: SqliteStore;
  let server: WebhookServer;
  const protoKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const arrayProtoKeysBefore = Object.getOwnPropertyNames(Array.prototype).sort();
  /** Log lines at error level: the pipeline threw instead of reporting a bad event. */
  const errors: string[] = [];
  /** Longest log line: bad input is quoted briefly, never echoed whole. */
  let longest = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kt-webhook-fuzz-'));
    store = new SqliteStore(join(dir, 'kt.sqlite'));
    const logger = pino(
      { level: 'warn' },
      {
        write: (line: string) => {
          longest = Math.max(longest, line.length);
          if ((JSON.parse(line) as { level: number }).level >= 50) errors.push(line);
        },
      },
    );
    server = buildWebhookServer({ pipeline: new Pipeline(), sink: store, defaultCluster: 'dev', maxBodyBytes: 4 * 1024 * 1024, logger });
  });
  afterAll(async () => {
    await server.app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} mutated EventLists with 2xx/4xx JSON, then still traces a valid one`, async () => {
    const events = loadFixtures();
    expect(events.length).toBeGreaterThan(10);
    const rnd = prng(SEED);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const payload = mutatedBody(events, rnd);
      const cluster = rnd() < 0.02 ? encodeURIComponent(pick(['__proto__', 'constructor', '..', 'a'.repeat(100), 'ü'])) : 'kwok';
      const headers: Record<string, string> =
        rnd() < 0.05
          ? { 'content-type': pick(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x']) }
          : { 'content-type': 'application/json' };
      if (rnd() < 0.02) headers['content-encoding'] = 'gzip';
      let timer: NodeJS.Timeout | undefined;
      const res = await Promise.race([
        server.app.inject({ method: 'POST', url: `/audit/${cluster}`, headers, payload }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`request ${i} hung (payload starts ${payload.slice(0, 200)})`)), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const byDesign = res.statusCode < 500 || res.statusCode === 503;
      let json = true;
      try {
        JSON.parse(res.body);
      } catch {
        json = false;
      }
      if (!byDesign || !json || res.statusCode === 503 || (res.statusCode >= 300 && res.statusCode < 400)) {
        if (failures.length < 5) failures.push(`#${i}: ${res.statusCode} ${res.body.slice(0, 300)} <- ${payload.slice(0, 300)}`);
      }
      function pick<T>(xs: readonly T[]): T {
        return xs[Math.floor(rnd() * xs.length)]!;
      }
    }
    expect(failures).toEqual([]);
    // Bad events are reported and skipped by validation, never by an exception escaping the pipeline.
    expect(errors.slice(0, 5)).toEqual([]);
    expect(longest).toBeGreaterThan(0);
    expect(longest).toBeLessThan(2048);
    // Most requests are accepted batches (bad items skipped), the rest refused with a reason.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(REQUESTS / 4);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);

    // No Object.prototype / Array.prototype pollution anywhere in the process.
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeysBefore);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayProtoKeysBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();

    // The server still answers, and a valid EventList is traced.
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ok = await server.app.inject({
      method: 'POST',
      url: '/audit/after-fuzz',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(eventList(deploymentEvents('still-traced', 'fuzz'))),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ received: 2, rejected: 0 });
    const found = await new SqliteBackend(store).findObjects({
      ...ALL,
      cluster: 'after-fuzz',
      resource: 'deployments',
      namespace: 'fuzz',
      name: 'still-traced',
    });
    expect(found).toHaveLength(1);
    const spans = await new SqliteBackend(store).getRawTrace(rawTraceId('after-fuzz/apps/deployments/fuzz/still-traced', found[0]!.windows[0]!));
    expect(spans.filter((s) => s.kind === 'event').map((s) => s.attributes.verb)).toEqual(['create', 'update']);
  }, 600_000);

  it('a hostile version of an object does not stop its later versions from being traced', async () => {
    // JSON.stringify recurses too: deep values go in as markers, replaced in the JSON text
    const deepText = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const deep = (n: number): string => `DEEP_${n}`;
    const hostile: [string, (o: Record<string, unknown>) => void][] = [
      ['nested 20,000 levels', (o) => void (o.spec = deep(20_000))],
      ['nested 2,000 levels', (o) => void (o.spec = deep(2_000))],
      ['a __proto__ key', (o) => void (o.spec = JSON.parse('{"__proto__":{"polluted":"yes"},"replicas":{"constructor":{"prototype":{"polluted":1}}}}'))],
      ['metadata as an array', (o) => void (o.metadata = [o.metadata])],
      ['ownerReferences of garbage', (o) => void ((o.metadata as Record<string, unknown>).ownerReferences = [null, 1, { kind: {}, name: [] }])],
      ['a 1 MB string', (o) => void (o.spec = { replicas: 'x'.repeat(1 << 20) })],
    ];
    // (A version whose resourceVersion is garbage is traced too, but the next version shows no diff:
    // its order is unknown, and the version cache never diffs backwards.)
    for (const [i, [what, spoil]] of hostile.entries()) {
      const name = `hostile-${i}`;
      const at = (s: number, replicas: number) =>
        auditEvent({
          verb: 'update',
          group: 'apps',
          resource: 'deployments',
          kind: 'Deployment',
          namespace: 'fuzz',
          name,
          at: s,
          rv: String(1000 + s),
          object: { spec: { replicas } },
        });
      // The hostile version comes first, so nothing older protects the later diffs from it.
      const bad = at(5, 2);
      spoil(bad.responseObject as Record<string, unknown>);
      spoil(bad.requestObject as Record<string, unknown>);
      for (const batch of [[bad], [at(10, 3)], [at(15, 4)]]) {
        const payload = JSON.stringify(eventList(batch)).replace(/"DEEP_(\d+)"/g, (_, n: string) => deepText(Number(n)));
        const res = await server.app.inject({ method: 'POST', url: '/audit/hostile', headers: { 'content-type': 'application/json' }, payload });
        expect(res.statusCode, what).toBe(200);
      }
      const key = `hostile/apps/deployments/fuzz/${name}`;
      const found = await new SqliteBackend(store).findObjects({ ...ALL, cluster: 'hostile', name });
      const spans = await new SqliteBackend(store).getRawTrace(rawTraceId(key, found[0]!.windows[0]!));
      const last = spans.filter((s) => s.kind === 'event').at(-1)!;
      expect(last.attributes['resourceVersion.new'], what).toBe('1015');
      expect(String(last.attributes.diff ?? ''), what).toMatch(/spec\.replicas 3 -> 4/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
