// `kubetrail import` of kwok recordings as a user runs it (a real process): a small recording
// written here (the shape `kwokctl snapshot record` writes: the snapshot, then ResourcePatch
// documents with strategic merge patches and `$(time-offset-nanosecond N)` times) becomes spans at
// the recorded offsets; kubetrail's own `export --format kwok` of the recorded example scenario
// reads back to the same objects and final states; bad input is refused before anything is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli as run } from '../helpers/cli.ts';
import { storedEvents } from '../helpers/store-spans.ts';
import { kwokChanges, parseKwokRecording } from '../../src/sources/kwok-recording.ts';
import { applyStrategicMerge } from '../../src/normalize/strategic-merge.ts';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/kwok/recording.yaml');
const SCENARIO = resolve(import.meta.dirname, '../../examples/kwok-scenario');
const START = '2026-12-01T10:00:00Z';
const startUs = Date.parse(START) * 1000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every object's last state in a recording (objects deleted by its end left out). */
function finalStates(text: string): Map<string, unknown> {
  const state = new Map<string, unknown>();
  for (const item of kwokChanges(parseKwokRecording(text), startUs, 'x')) {
    const c = item.event as { type?: string; object: { metadata: { namespace?: string; name: string } }; resource?: string } | undefined;
    if (!c?.type) continue;
    const key = `${c.resource}/${c.object.metadata.namespace ?? ''}/${c.object.metadata.name}`;
    if (c.type === 'DELETED') state.delete(key);
    else state.set(key, c.object);
  }
  return state;
}

describe('kubetrail import of a kwok recording', () => {
  it('traces the snapshot as creates at the start and each patch as the change it made at its offset', async () => {
    const store = join(dir, 'fixture.sqlite');
    const r = await run('import', FIXTURE, '--store', store, '--cluster', 'kwok', '--start', START);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('kwok recording: 2 objects in the snapshot, 6 ResourcePatch documents, started 2026-12-01T10:00:00.000Z');
    const spans = await storedEvents(store);
    const seen = spans.map((s) => `+${(s.startUs - startUs) / 1e6}s ${s.name} ${s.object.resource} ${s.object.name} ${s.attributes.attribution}`);
    expect(seen).toEqual([
      '+0s create namespaces shop unknown',
      '+0s create deployments web fields',
      '+1s update deployments web fields',
      '+1.5s create configmaps settings unknown',
      '+2s update configmaps settings unknown',
      '+2.5s create secrets creds unknown',
      '+2.6s update secrets creds unknown',
      '+3s delete configmaps settings unknown',
    ]);
    expect(new Set(spans.map((s) => s.attributes.source))).toEqual(new Set(['kwok-recording']));
    expect(spans[1]!.attributes.user).toBe('kubectl-create');
    const diff = String(spans[2]!.attributes.diff);
    expect(diff).toContain('nginx:2');
    expect(diff).not.toContain('sidecar'); // merged by name: the sidecar is kept, unchanged
  });

  it('keeps Secret values out of the store, and stores nothing twice when the same file is imported again', async () => {
    const store = join(dir, 'fixture.sqlite');
    const bytes = readFileSync(store).toString('latin1');
    for (const plain of ['hunter2-first', 'hunter2-second']) {
      expect(bytes).not.toContain(plain);
      expect(bytes).not.toContain(Buffer.from(plain).toString('base64'));
    }
    const before = (await storedEvents(store)).length;
    const again = await run('import', FIXTURE, '--store', store, '--cluster', 'kwok', '--start', START);
    expect(again.status, again.stderr).toBe(0);
    expect((await storedEvents(store)).length).toBe(before);
    // a second recording of the same cluster (here: the same file, recorded a minute later) adds its own
    const later = await run('import', FIXTURE, '--store', store, '--cluster', 'kwok', '--start', '2026-12-01T10:01:00Z');
    expect(later.status, later.stderr).toBe(0);
    expect((await storedEvents(store)).length).toBe(2 * before);
  });

  it("applies kwok's strategic merge patches: lists merge by their key, in $setElementOrder's order", () => {
    const web = finalStates(readFileSync(FIXTURE, 'utf8')).get('deployments/shop/web') as Record<string, any>;
    expect(web.spec.replicas).toBe(3);
    expect(web.spec.template.spec.containers).toEqual([
      { image: 'nginx:2', name: 'nginx' },
      { image: 'busybox', name: 'sidecar' },
    ]);
    expect(web.status.conditions.map((c: { type: string }) => c.type)).toEqual(['Available', 'Progressing']);
    expect(web.metadata.creationTimestamp).toBe('2026-12-01T09:59:56.000Z');
    expect(applyStrategicMerge({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } })).toEqual({
      metadata: { finalizers: ['b'] },
    });
  });

  it("reads back kubetrail's own export --format kwok of the recorded scenario: same objects, same final states", async () => {
    const store = join(dir, 'scenario.sqlite');
    const rep = await run('replay', '--cluster', 'kwok', '--store', store, '--no-progress', join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json'));
    expect(rep.status, rep.stderr).toBe(0);
    const first = await run('export', '--store', store, '--format', 'kwok');
    expect(first.status, first.stderr).toBe(0);
    const file = join(dir, 'scenario.kwok.yaml');
    writeFileSync(file, first.stdout);
    const imported = join(dir, 'imported.sqlite');
    const imp = await run('import', file, '--store', imported, '--cluster', 'kwok', '--start', START);
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stdout).toMatch(/rejected: +0/);
    const again = await run('export', '--store', imported, '--format', 'kwok');
    expect(again.status, again.stderr).toBe(0);
    const before = finalStates(first.stdout);
    const after = finalStates(again.stdout);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(before.size).toBeGreaterThan(10);
    for (const [k, v] of before) expect(after.get(k), k).toEqual(v);
  }, 60_000);
});

describe('kubetrail import refuses bad input before writing anything', () => {
  const text = () => readFileSync(FIXTURE, 'utf8');
  const refused = async (name: string, content: string, message: RegExp) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    const store = join(dir, `${name}.sqlite`);
    const r = await run('import', file, '--store', store, '--start', START);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(store)).toBe(false);
  };

  it('a truncated file (the last document cut mid-way)', async () => {
    const t = text();
    await refused('cut.yaml', t.slice(0, t.indexOf('method: delete') - 30), /nothing imported: .*truncated/);
  });

  it('a foreign file: an audit log, or a manifest rather than a recorded cluster', async () => {
    await refused('audit.jsonl', '{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a"}\n{"kind":"Event"}\n', /not a kwok recording/);
    await refused('manifest.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n', /not a kwok recording: no ResourcePatch/);
  });

  it('an unknown version or kind of kwok action', async () => {
    await refused(
      'v2.yaml',
      text().replaceAll('action.kwok.x-k8s.io/v1alpha1', 'action.kwok.x-k8s.io/v1beta9'),
      /ResourcePatch of action.kwok.x-k8s.io\/v1beta9 is not a kind or version/,
    );
    await refused('kind.yaml', text().replace('kind: ResourcePatch', 'kind: ResourceChaos'), /ResourceChaos .* is not a kind or version/);
  });

  it('a malformed document inside a good file: reported and skipped, the rest traced, exit 2', async () => {
    const file = join(dir, 'one-bad.yaml');
    writeFileSync(file, text().replace('method: create', 'method: teleport'));
    const store = join(dir, 'one-bad.sqlite');
    const r = await run('import', file, '--store', store, '--start', START);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/1 of 8 items read was rejected/);
    expect(r.stdout).toMatch(/one-bad.yaml:\d+: ResourcePatch with method "teleport"/);
    const names = (await storedEvents(store)).map((s) => `${s.name} ${s.object.name}`);
    expect(names).toContain('update web');
    expect(names).not.toContain('create settings');
  });
});
