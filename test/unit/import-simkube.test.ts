// SimKube's trace files (msgpack, version 2) as a user meets them: `kubetrail import` of a small
// trace written here (the layout of SimKube's published example traces: objects sanitized of uid,
// resourceVersion and status; deletes as names only; an index of spec hashes; pod_lifecycles keyed
// by [owner kind, owner name] lists) becomes spans at the recorded seconds; `export --format
// simkube` of the recorded example scenario reads back to the same trace; bad input is refused
// before anything is written. No file of SimKube's is used: the fixtures are made in the test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { rustJsonHash } from '../../src/core/rust-json-hash.ts';
import { runCli as run, spawnCli } from '../helpers/cli.ts';
import { storedEvents } from '../helpers/store-spans.ts';

const SCENARIO = resolve(import.meta.dirname, '../../examples/kwok-scenario');
const T0 = 1_800_000_000; // Unix seconds, as SimKube's `ts`

const deployment = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { annotations: {}, labels: { app: 'web' }, name: 'web', namespace: 'shop' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ image: 'nginx:1', name: 'web' }] } },
  },
});
const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'bare', namespace: 'shop' },
  spec: { containers: [{ image: 'busybox', name: 'c' }], restartPolicy: 'Never' },
};

/** msgpack of a trace's top-level map; `lifecycles` raw, as JS cannot key a map by a list. */
function traceBytes(t: Record<string, unknown>, lifecycles?: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x80 + Object.keys(t).length + (lifecycles ? 1 : 0))];
  for (const [k, v] of Object.entries(t)) parts.push(encode(k), encode(v, { useBigInt64: true }));
  if (lifecycles) parts.push(encode('pod_lifecycles'), lifecycles);
  return Buffer.concat(parts);
}

/** `{[["apps/v1.Deployment", "shop/web"]]: {hash: [{Finished: [start, end]}, {Running: start}]}}`, as SimKube writes it. */
const lifecycles = Buffer.concat([
  Uint8Array.of(0x81),
  encode(['apps/v1.Deployment', 'shop/web']),
  Uint8Array.of(0x81),
  encode(12_345_678_901_234_567_890n, { useBigInt64: true }),
  encode([{ Finished: [T0 + 5, T0 + 65] }, { Running: T0 + 70 }]),
]);

const TRACE = {
  version: 2,
  config: { trackedObjects: { 'apps/v1.Deployment': {}, 'v1.Pod': { podSpecTemplatePaths: [''], trackLifecycle: true } } },
  events: [
    { ts: T0, applied_objs: [], deleted_objs: [] },
    { ts: T0, applied_objs: [deployment(1), pod], deleted_objs: [] },
    { ts: T0 + 600, applied_objs: [deployment(3)], deleted_objs: [] },
    { ts: T0 + 1200, applied_objs: [], deleted_objs: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' } }] },
  ],
  index: { 'apps/v1.Deployment': { 'shop/web': rustJsonHash(deployment(3).spec) }, 'v1.Pod': { 'shop/bare': rustJsonHash(pod.spec) } },
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-simkube-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Uint8Array | string): string => {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
};

describe('kubetrail import of a SimKube trace', () => {
  it('traces each applied object as a create or an update at its second, each deleted one as a delete, with no actor', async () => {
    const store = join(dir, 'trace.sqlite');
    const r = await run('import', write('trace.sktrace', traceBytes(TRACE, lifecycles)), '--store', store, '--cluster', 'sim');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('SimKube trace (version 2): 4 events, 4 objects applied or deleted, started 2027-01-15T08:00:00.000Z');
    const spans = await storedEvents(store);
    const seen = spans.map(
      (s) => `+${s.startUs / 1e6 - T0}s ${s.name} ${s.object.resource} ${s.object.namespace}/${s.object.name} ${s.attributes.attribution}`,
    );
    expect(seen).toEqual([
      '+0s create deployments shop/web unknown',
      '+0s create pods shop/bare unknown',
      '+600s update deployments shop/web unknown',
      '+1200s delete deployments shop/web unknown',
    ]);
    expect(new Set(spans.map((s) => s.attributes.source))).toEqual(new Set(['simkube-trace']));
    expect(spans.some((s) => s.attributes.user !== undefined)).toBe(false);
    expect(String(spans[2]!.attributes.diff)).toMatch(/spec\.replicas.*1.*3/);
  });

  it('moves the trace to --start, and stores nothing twice when the same file is imported again', async () => {
    const store = join(dir, 'moved.sqlite');
    const file = join(dir, 'trace.sktrace');
    const first = await run('import', file, '--store', store, '--start', '2026-12-01T10:00:00Z');
    expect(first.status, first.stderr).toBe(0);
    const spans = await storedEvents(store);
    expect(spans.map((s) => new Date(s.startUs / 1000).toISOString())).toEqual([
      '2026-12-01T10:00:00.000Z',
      '2026-12-01T10:00:00.000Z',
      '2026-12-01T10:10:00.000Z',
      '2026-12-01T10:20:00.000Z',
    ]);
    const again = await run('import', file, '--store', store, '--start', '2026-12-01T10:00:00Z');
    expect(again.status, again.stderr).toBe(0);
    expect((await storedEvents(store)).length).toBe(spans.length);
  });

  it('diagnoses the trace without claiming stuck rollouts or unscheduled pods: a SimKube trace holds no status', () => {
    const r = spawnCli(['diagnose', '--store', join(dir, 'trace.sqlite'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { findings: { detector: string; title: string }[] };
    expect(report.findings.map((f) => `${f.detector}: ${f.title}`)).toEqual([]);
  });
});

describe("SimKube's spec hash (the index)", () => {
  it("is Rust's DefaultHasher over the JSON value as SimKube feeds it", () => {
    // expected values printed by a Rust program (std DefaultHasher, serde_json 1, SimKube's way of
    // feeding a value) over the same JSON: keys in byte order, no length prefixes, floats by their bits
    expect(rustJsonHash(deployment(3).spec)).toBe(3451078106420958080n);
    expect(rustJsonHash({ b: [true, null, -1, 0.5, 'é'], a: { z: 1, Z: 2 } })).toBe(8406953068879763659n);
    expect(rustJsonHash(undefined)).toBe(13646096770106105413n);
  });
});

describe('kubetrail export --format simkube', () => {
  let store: string;
  let file: string;
  beforeAll(async () => {
    store = join(dir, 'scenario.sqlite');
    const rep = await run('replay', '--cluster', 'kwok', '--store', store, '--no-progress', join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json'));
    expect(rep.status, rep.stderr).toBe(0);
    file = join(dir, 'scenario.sktrace');
    const r = await run('export', '--store', store, '--format', 'simkube', '-o', file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /SimKube trace: 11 events, 10 objects applied, 1 deleted; tracked kinds: .*apps\/v1.Deployment.*; left out: 5 cluster-scoped object/,
    );
  }, 60_000);

  type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: unknown; status?: unknown };
  type Trace = {
    version: number;
    config: { trackedObjects: Record<string, unknown> };
    events: { ts: number; applied_objs: Obj[]; deleted_objs: Obj[] }[];
    index: Record<string, Record<string, bigint>>;
    pod_lifecycles: unknown;
  };
  const read = (f: string) => decode(readFileSync(f), { useBigInt64: true }) as Trace;

  it("writes the driving writes as SimKube keeps objects, with the tracer config and SimKube's spec hashes", () => {
    const t = read(file);
    expect(Object.keys(t)).toEqual(['version', 'config', 'events', 'index', 'pod_lifecycles']);
    expect(t.version).toBe(2);
    expect(Object.keys(t.config.trackedObjects).sort()).toEqual(['apps/v1.Deployment', 'apps/v1.StatefulSet', 'batch/v1.Job', 'v1.Pod']);
    expect(t.pod_lifecycles).toEqual({});
    const what = t.events.flatMap((e) => [
      ...e.applied_objs.map((o) => `apply ${o.kind} ${o.metadata.name}`),
      ...e.deleted_objs.map((o) => `delete ${o.kind} ${o.metadata.name}`),
    ]);
    expect(what).toEqual([
      'apply Service demo',
      'apply Deployment demo',
      'apply Deployment demo',
      'apply Deployment demo',
      'apply Deployment demo',
      'apply Secret demo-credentials',
      'apply Pod secret-reader',
      'apply Service web',
      'apply StatefulSet web',
      'apply Job pi',
      'delete Deployment demo',
    ]);
    expect(t.events.every((e, i) => i === 0 || e.ts > t.events[i - 1]!.ts)).toBe(true);
    const applied = t.events.flatMap((e) => e.applied_objs);
    for (const o of applied) {
      expect(Object.keys(o.metadata).filter((k) => ['uid', 'resourceVersion', 'managedFields', 'creationTimestamp', 'generation'].includes(k))).toEqual([]);
      expect(o.status).toBeUndefined();
    }
    expect(t.events.at(-1)!.deleted_objs[0]).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'demo', namespace: 'demo' } });
    const lastDeployment = applied.filter((o) => o.kind === 'Deployment').at(-1)!;
    expect(t.index['apps/v1.Deployment']!['demo/demo']).toBe(rustJsonHash(lastDeployment.spec));
  });

  it('is read back by import into a trace that exports to the same SimKube trace', async () => {
    const imported = join(dir, 'imported.sqlite');
    const imp = await run('import', file, '--store', imported, '--cluster', 'kwok');
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/rejected: +0/);
    const again = join(dir, 'again.sktrace');
    const r = await run('export', '--store', imported, '--format', 'simkube', '-o', again);
    expect(r.status, r.stderr).toBe(0);
    const [a, b] = [read(file), read(again)];
    const filled = (t: Trace) => t.events.filter((e) => e.applied_objs.length + e.deleted_objs.length > 0);
    expect(filled(b)).toEqual(filled(a));
    expect(b.index).toEqual(a.index);
    expect(b.config).toEqual(a.config);
  }, 60_000);

  it('wants --out: the trace is binary', async () => {
    const r = await run('export', '--store', store, '--format', 'simkube');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--format simkube writes a binary file \(msgpack\): give --out FILE/);
  });
});

describe('kubetrail import refuses a bad SimKube trace before writing anything', () => {
  const refused = async (name: string, bytes: Uint8Array, message: RegExp) => {
    const file = write(name, bytes);
    const store = join(dir, `${name}.sqlite`);
    const r = await run('import', file, '--store', store);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(store)).toBe(false);
  };
  const good = traceBytes(TRACE, lifecycles);

  it('a truncated file', async () => {
    await refused('cut.sktrace', good.subarray(0, good.length - 10), /nothing imported: .*truncated: the msgpack data ends inside a value/);
    await refused('cut-early.sktrace', good.subarray(0, 40), /nothing imported: .*truncated/);
  });

  it('foreign msgpack: a map of something else, a list (as SimKube wrote before version 2), data after the trace', async () => {
    await refused('other.msgpack', encode({ name: 'x', items: [1, 2] }), /not a SimKube trace: the msgpack value is not a map with version and events/);
    await refused('list.msgpack', encode([{ trackedObjects: {} }, [], {}, {}]), /a msgpack list, not a map with a version/);
    await refused('tail.sktrace', Buffer.concat([good, Uint8Array.of(0xc0)]), /not a SimKube trace: data after the trace/);
  });

  it('another version', async () => {
    await refused('v3.sktrace', traceBytes({ ...TRACE, version: 3 }), /SimKube trace version 3 is not one kubetrail reads \(it reads version 2\)/);
  });

  it('a malformed object inside a good trace: reported as file:event and skipped, the rest traced, exit 2', async () => {
    const events = [...TRACE.events, { ts: T0 + 1300, applied_objs: [{ kind: 'ConfigMap', metadata: { name: 'x' } }], deleted_objs: [] }];
    const file = write('one-bad.sktrace', traceBytes({ ...TRACE, events }));
    const store = join(dir, 'one-bad.sqlite');
    const r = await run('import', file, '--store', store);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/one-bad\.sktrace:5: applied_objs: an object without apiVersion, kind and metadata\.name/);
    expect((await storedEvents(store)).length).toBe(4);
  });
});
