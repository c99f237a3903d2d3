// stuck-deletions against the real KWOK cluster, recorded live by `kubetrail serve`: a ConfigMap
// created with a finalizer nobody removes (as alice) and deleted (as bob) stays Terminating; a
// namespace deleted while such a ConfigMap is in it stays Terminating too. `kubetrail diagnose`
// must name the finalizer, who added it (alice, the cause), who asked for the deletion, and the
// ConfigMap that holds the namespace (the namespace controller deletes the content a few seconds
// after the namespace: the ConfigMap itself may not be Terminating past the timeout yet).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { CLI, serveToStore, type RunningKubetrail } from '../setup/kubetrail.ts';
import type { Finding, Report } from '../../frontend-plugin/diagnose/types.ts';
import type { Explanation } from '../../frontend-plugin/diagnose/explain.ts';

const stack = inject('stack');
const as = (user: string) => [`--as=${user}`, '--as-group=system:masters'];
const HOLD = 'example.com/hold';

const heldConfigMap = (ns: string, name: string): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, finalizers: [HOLD] }, data: { a: '1' } });

describe('kubetrail diagnose ← deletions held by a finalizer on the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-stuck-'));
  const store = join(dir, 'kt.sqlite');
  let ns = '';
  let doomed = '';
  let serve: RunningKubetrail | undefined;
  let report: Report;
  const stuck = (pred: (f: Finding) => boolean) => report.findings.find((f) => f.detector === 'stuck-deletions' && pred(f));

  beforeAll(async () => {
    ({ serve } = await serveToStore(stack, store));
    const since = new Date().toISOString();
    ns = await createNamespace('stuck');
    doomed = await createNamespace('doomed');
    await kubectl(['apply', ...as('alice'), '-f', '-'], { input: heldConfigMap(ns, 'held') });
    await kubectl(['apply', ...as('alice'), '-f', '-'], { input: heldConfigMap(doomed, 'anchor') });
    await kubectl(['delete', 'configmap', 'held', '-n', ns, '--wait=false', ...as('bob')]);
    await kubectl(['delete', 'namespace', doomed, '--wait=false', ...as('bob')]);
    // normal: a finalizer its controller removes right after the delete; a foreground deletion the
    // garbage collector completes (it adds nothing to wait for: no dependents)
    await kubectl(['apply', ...as('alice'), '-f', '-'], { input: heldConfigMap(ns, 'released') });
    await kubectl(['delete', 'configmap', 'released', '-n', ns, '--wait=false', ...as('bob')]);
    await kubectl(['patch', 'configmap', 'released', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}', ...as('hold-controller')]);
    await kubectl(['create', 'configmap', 'fg', '-n', ns, '--from-literal=a=1', ...as('alice')]);
    await kubectl(['delete', 'configmap', 'fg', '-n', ns, '--cascade=foreground', '--wait=false', ...as('bob')]);
    // past the 10 s --deletion-timeout given to diagnose, and the namespace controller has said
    // what holds the namespace (its status write may come late on a loaded machine)
    await new Promise((r) => setTimeout(r, 13_000));
    await waitFor(
      async () => {
        const conditions = (await kubectlJson(['get', 'namespace', doomed])).status?.conditions as { type: string; status: string }[] | undefined;
        return conditions?.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True') || undefined;
      },
      `namespace ${doomed}'s NamespaceFinalizersRemaining condition`,
      60_000,
      1000,
    );
    const until = new Date().toISOString();
    const args = ['diagnose', '--store', store, '--since', since, '--until', until, '--deletion-timeout', '10s', '--json'];
    const env = { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' };
    report = await waitFor(
      async () => {
        const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
        if (r.status !== 0 && r.status !== 1) throw new Error(`diagnose exited ${r.status}: ${r.stderr}`);
        const rep = JSON.parse(r.stdout) as Report;
        const found = (name: string, holder?: string) =>
          rep.findings.some((f) => f.detector === 'stuck-deletions' && f.objects[0]?.name === name && (!holder || f.objects[1]?.name === holder));
        return found('held') && found(doomed, 'anchor') ? rep : undefined;
      },
      'both stuck deletions in kubetrail diagnose',
      60_000,
      2000,
    );
  });

  /** `kubetrail explain <what> -n <ns> --json` on the store serve writes. */
  const explainJson = (what: string, namespace = 'default'): Explanation => {
    const r = spawnSync(process.execPath, [CLI, 'explain', what, '-n', namespace, '--store', store, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' },
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Explanation;
  };

  afterAll(async () => {
    // let both go: remove the finalizers nobody else will
    for (const [n, name] of [
      [ns, 'held'],
      [doomed, 'anchor'],
    ] as const)
      if (n) await kubectl(['patch', 'configmap', name, '-n', n, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']).catch(() => {});
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the finalizer holding the deleted ConfigMap, alice who added it (the cause) and bob who deleted it', () => {
    const f = stuck((x) => x.objects[0]!.name === 'held')!;
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [{ cluster: stack.clusterName, group: '', resource: 'configmaps', namespace: ns, name: 'held' }],
      cause: { actor: 'alice', object: { name: 'held' } },
      data: { finalizers: [HOLD], deletedBy: 'bob', stillThere: true, graceSec: 10 },
    });
    expect(f.cause!.verb).toMatch(/^(create|patch)$/); // kubectl apply creates it (client-side apply)
    expect(f.title).toMatch(new RegExp(`^ConfigMap ${ns}/held is stuck Terminating for .*: finalizer ${HOLD} \\(added by alice at .*\\) was never removed$`));
    expect(f.chain![1]).toMatch(/^bob asked for its deletion at /);
    expect(f.chain!.at(-1)).toMatch(new RegExp(`^alice added finalizer ${HOLD} at `));
  });

  it('leaves alone the finalizer removed in time and the foreground deletion the garbage collector completed', () => {
    // (a completed deletion that took longer than the timeout would be info, "took N s": the
    // garbage collector can be that slow on a loaded machine; never a warning)
    const done = report.findings.filter((f) => f.detector === 'stuck-deletions' && ['released', 'fg'].includes(f.objects[0]!.name));
    expect(done.filter((f) => f.severity !== 'info' || f.data?.stillThere).map((f) => f.title)).toEqual([]);
    expect(report.findings.filter((f) => f.detector === 'stuck-deletions' && f.severity !== 'info')).toHaveLength(2);
  });

  it('names the ConfigMap that holds the namespace stuck Terminating, with alice as the cause', () => {
    const f = stuck((x) => x.objects[0]!.resource === 'namespaces' && x.objects[0]!.name === doomed)!;
    expect(f).toMatchObject({
      severity: 'warning',
      objects: [
        { resource: 'namespaces', name: doomed },
        { resource: 'configmaps', namespace: doomed, name: 'anchor' },
      ],
      cause: { actor: 'alice', object: { namespace: doomed, name: 'anchor' } },
      data: { deletedBy: 'bob', holders: [`ConfigMap ${doomed}/anchor`] },
    });
    expect(f.title).toMatch(
      new RegExp(`^Namespace ${doomed} is stuck Terminating for .*: ConfigMap ${doomed}/anchor holds it \\(finalizer ${HOLD}, added by alice at `),
    );
    // the namespace controller's conditions say the same
    expect(f.data!.conditions).toMatchObject({
      NamespaceFinalizersRemaining: `Some content in the namespace has finalizers remaining: ${HOLD} in 1 resource instances`,
    });
    expect(f.chain).toContainEqual(expect.stringMatching(new RegExp(`^ConfigMap ${doomed}/anchor held by finalizer ${HOLD} `)));
  });

  it('`explain` of the namespace stuck Terminating: the state, bob who deleted it, what the namespace controller says it waits for', () => {
    const ex = explainJson(`ns/${doomed}`);
    expect(ex).toMatchObject({ state: 'terminating', phase: 'Terminating', finalizers: ['kubernetes'], conditions: { NamespaceFinalizersRemaining: 'True' } });
    expect(ex.summary).toMatch(new RegExp(`^Namespace ${doomed}: Terminating, phase Terminating`));
    expect(ex.fields.find((x) => x.path === 'metadata.deletionTimestamp')).toMatchObject({ actor: 'bob', verb: 'delete' });
    expect(ex.waitingFor).toContainEqual(
      expect.objectContaining({
        summary: 'NamespaceFinalizersRemaining (said by system:serviceaccount:kube-system:namespace-controller)',
        message: `Some content in the namespace has finalizers remaining: ${HOLD} in 1 resource instances`,
      }),
    );
    // and of what holds it: the ConfigMap's finalizer, added by alice
    const cm = explainJson(`cm/anchor`, doomed);
    expect(cm).toMatchObject({ state: 'terminating', finalizers: [HOLD] });
    expect(cm.waitingFor).toEqual([
      expect.objectContaining({ actor: 'alice', summary: expect.stringMatching(new RegExp(`^finalizer ${HOLD} \\(added by alice, `)) }),
    ]);
  });
});
