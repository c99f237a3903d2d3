// Issue 17, import: the stack's own kwokctl records the test cluster (`kwokctl snapshot record`)
// while kubectl creates, scales, patches and deletes; `kubetrail import` traces the recording into
// a store, and the store's traces show those objects with their changes at the recorded offsets,
// the controllers' and kwok's reactions among them, and `diagnose` reads it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { CLI } from '../setup/kubetrail.ts';
import { exec, STACK_LIB } from '../setup/kwok-cluster.ts';
import { storedEvents } from '../helpers/store-spans.ts';
import type { SpanRecord } from '../../src/core/model.ts';
import { parseKwokRecording, type RecordedPatch } from '../../src/sources/kwok-recording.ts';

const stack = inject('stack');
const cli = (args: string[]) => exec(process.execPath, [CLI, ...args]);

describe('kubetrail import ← a recording made by kwokctl snapshot record of the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-import-'));
  const recording = join(dir, 'recording.yaml');
  const store = join(dir, 'imported.sqlite');
  let ns = '';
  let recorder: ChildProcess | undefined;
  let imported: { code: number; out: string; err: string };
  let spans: SpanRecord[] = [];

  beforeAll(async () => {
    ns = await createNamespace('import');
    const kwokctl = (await exec('bash', ['-c', `. '${STACK_LIB}' >/dev/null; echo "$STACK_BIN/kwok-$KWOK_VERSION/kwokctl"`])).out.trim();
    // the cluster lives in <workdir>/clusters/<name>/, beside its kubeconfig
    const workdir = dirname(dirname(dirname(stack.kubeconfig)));
    recorder = spawn(kwokctl, ['--name', stack.clusterName, 'snapshot', 'record', '--path', recording], {
      env: { ...process.env, KWOK_WORKDIR: workdir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    recorder.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<number | null>((done) => recorder!.once('exit', (code) => done(code)));
    await waitFor(async () => log.includes('"msg":"Recording"') || undefined, `kwokctl recording (${log})`, 60_000, 200);
    const k = (args: string[]) => kubectl([...args, '-n', ns]);
    await k(['create', 'deployment', 'web', '--image=nginx:1', '--replicas=2']);
    await k(['create', 'configmap', 'settings', '--from-literal=mode=a']);
    await k(['scale', 'deployment/web', '--replicas=3']);
    await k(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"mode":"b"}}']);
    await k(['delete', 'configmap', 'settings']);
    await waitFor(
      async () => (await kubectlJson(['get', 'deployment', 'web', '-n', ns])).status?.readyReplicas === 3 || undefined,
      'web ready with 3 replicas',
      90_000,
      500,
    );
    // kwokctl keeps the changes in memory until it stops, and drops those its watches delivered but
    // it had not yet taken in when it is stopped (its snapshot Saver.Record): give it time to catch up
    await new Promise((r) => setTimeout(r, 5000));
    recorder.kill('SIGINT');
    expect(await exited).toBe(0);
    recorder = undefined;
    // what the test needs from kwokctl (not from kubetrail): the last write and all three bindings
    const patches = parseKwokRecording(readFileSync(recording, 'utf8')).docs.flatMap((d) => ('patch' in d && d.patch.namespace === ns ? [d.patch] : []));
    const lastWrite = patches.some((p) => p.gvr.resource === 'configmaps' && p.method === 'delete');
    const nodeOf = (p: RecordedPatch) => (p.template?.spec as { nodeName?: string } | undefined)?.nodeName;
    const bound = new Set(patches.filter((p) => p.gvr.resource === 'pods' && nodeOf(p)).map((p) => p.name)).size;
    if (!lastWrite || bound < 3) throw new Error(`kwokctl's recording is missing changes (the ConfigMap's delete: ${lastWrite}, pods bound: ${bound} of 3)`);
    imported = await cli(['import', recording, '--store', store, '--cluster', stack.clusterName]);
    spans = await storedEvents(store, ns);
  });

  afterAll(async () => {
    recorder?.kill('SIGINT');
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  // the writes (Kubernetes Events of the recording are on the traces too, as Events)
  const of = (resource: string, name: string) =>
    spans.filter((s) => s.attributes.source === 'kwok-recording' && (resource === '' || s.object.resource === resource) && s.object.name.startsWith(name));

  it('imports the whole recording: nothing rejected, exit 0', () => {
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).toMatch(/kwok recording: \d+ objects in the snapshot, \d+ ResourcePatch documents/);
    expect(imported.out).toMatch(/rejected: +0/);
  });

  it("shows kubectl's writes with their changes, in the recorded order, as kwok-recording spans", () => {
    const cm = of('configmaps', 'settings');
    expect(cm.map((s) => s.name)).toEqual(['create', 'update', 'delete']);
    expect(String(cm[1]!.attributes.diff)).toContain('"b"');
    expect(cm[2]!.attributes.attribution).toBe('unknown');
    const web = of('deployments', 'web');
    expect(web[0]!.name).toBe('create');
    const scaled = web.find((s) => String(s.attributes.diff ?? '').includes('replicas') && s.attributes.subresource === 'scale');
    expect(scaled, JSON.stringify(web.map((s) => s.attributes))).toBeDefined();
    expect(new Set(spans.map((s) => s.attributes.source))).toEqual(new Set(['kwok-recording', 'event']));
    expect(of('deployments', 'web').length).toBeGreaterThan(2);
    const times = of('', '').map((s) => s.startUs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(web[0]!.startUs).toBeLessThan(scaled!.startUs);
    expect(cm[0]!.startUs).toBeLessThan(cm[2]!.startUs);
  });

  it("shows the controllers' and kwok's reactions: a ReplicaSet, three pods bound to nodes", () => {
    expect(of('replicasets', 'web-').map((s) => s.name)[0]).toBe('create');
    const pods = new Set(of('pods', 'web-').map((s) => s.object.name));
    expect(pods.size).toBe(3);
    const bindings = of('pods', 'web-').filter((s) => s.name === 'create binding');
    expect(bindings.length).toBe(3);
    expect(spans.some((s) => s.attributes.source === 'event' && s.name === 'event ScalingReplicaSet')).toBe(true);
  });

  it('diagnose reads the imported store', async () => {
    const d = await cli(['diagnose', '--store', store, '--namespace', ns, '--json']);
    expect(d.code, d.err).toBe(0);
    expect(JSON.parse(d.out)).toHaveProperty('findings');
  });
});
