// blocked-evictions against the real KWOK cluster, recorded live by `kubetrail serve`: a
// PodDisruptionBudget minAvailable=2 (written by pdb-author) over a 2-replica Deployment refuses
// every eviction a drainer asks for (POST pods/eviction, as `kubectl drain` does, without cordoning
// the shared nodes) for longer than the 10 s --eviction-block-timeout: a warning naming pdb-author.
// Beside it, a budget that allows one disruption lets the drainer's eviction through: no finding.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, waitFor } from '../setup/kube.ts';
import { diagnoseUntil } from '../setup/diagnose.ts';
import { serveToStore, type RunningKubetrail } from '../setup/kubetrail.ts';
import type { Finding, Report } from '../../frontend-plugin/diagnose/types.ts';

const stack = inject('stack');
const DRAINER = 'system:serviceaccount:ops:node-drainer';
const AUTHOR = 'system:serviceaccount:team-a:pdb-author';
const as = (user: string) => [`--as=${user}`, '--as-group=system:masters'];

const deployment = (ns: string, name: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'example/app:1' }] } },
    },
  });
const budget = (ns: string, app: string, spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: `${app}-pdb`, namespace: ns },
    spec: { ...spec, selector: { matchLabels: { app } } },
  });

/** A Deployment of 2 and its budget, once the disruption controller counted both pods healthy; its first pod's name. */
async function guarded(ns: string, app: string, spec: Record<string, unknown>): Promise<string> {
  await kubectl(['apply', ...as('deployer'), '-f', '-'], { input: deployment(ns, app) });
  await kubectl(['apply', ...as(AUTHOR), '-f', '-'], { input: budget(ns, app, spec) });
  await waitFor(
    async () => (await kubectl(['get', 'pdb', `${app}-pdb`, '-n', ns, '-o', 'jsonpath={.status.currentHealthy}'])).trim() === '2' || undefined,
    `${app}-pdb counts 2 healthy pods`,
    60_000,
    500,
  );
  return (await kubectl(['get', 'pods', '-n', ns, '-l', `app=${app}`, '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
}

/** POST pods/eviction as the drainer; true when accepted (a 429 fails kubectl). */
const evict = (ns: string, pod: string): Promise<boolean> =>
  kubectl(['create', '--raw', `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, ...as(DRAINER), '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: ns } }),
  }).then(
    () => true,
    () => false,
  );

describe('kubetrail diagnose ← a drain refused by a PodDisruptionBudget on the KWOK cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-drain-'));
  const store = join(dir, 'kt.sqlite');
  let ns = '';
  let serve: RunningKubetrail | undefined;
  let report: Report;
  const blocked = (): Finding[] => report.findings.filter((f) => f.detector === 'blocked-evictions');

  beforeAll(async () => {
    ({ serve } = await serveToStore(stack, store));
    const since = new Date().toISOString();
    ns = await createNamespace('drain');
    const stuckPod = await guarded(ns, 'guarded', { minAvailable: 2 });
    const freePod = await guarded(ns, 'free', { maxUnavailable: 1 });
    expect(await evict(ns, freePod)).toBe(true);
    // the drainer retries every 2 s for 14 s: past the 10 s timeout, never let through
    for (let i = 0; i < 8; i++) {
      expect(await evict(ns, stuckPod)).toBe(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const until = new Date().toISOString();
    report = await diagnoseUntil(
      ['--store', store, '--since', since, '--until', until, '--eviction-block-timeout', '10s'],
      (rep) => rep.findings.some((f) => f.detector === 'blocked-evictions' && (f.data?.refused as number) >= 8),
      'the refused evictions in kubetrail diagnose',
    );
  });

  afterAll(async () => {
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns that the drainer could not evict the pod, with pdb-author who created the budget as the cause', () => {
    const [f, ...rest] = blocked();
    expect(rest).toEqual([]); // the budget that allowed the eviction is no finding
    expect(f).toMatchObject({
      severity: 'warning',
      cause: {
        actor: AUTHOR,
        verb: expect.stringMatching(/^(create|patch)$/),
        object: { resource: 'poddisruptionbudgets', namespace: ns, name: 'guarded-pdb' },
      },
      data: { refused: 8, pods: 1, wentThrough: false, timeoutSec: 10 },
    });
    expect(f!.title).toMatch(
      new RegExp(`^${DRAINER} could not evict 1 pod of Deployment ${ns}/guarded for .*: PodDisruptionBudget ${ns}/guarded-pdb allows 0 disruptions$`),
    );
    expect(f!.cause!.message).toMatch(/disruption budget/);
    expect(f!.objects.map((o) => o.resource)).toEqual(['poddisruptionbudgets', 'pods', 'nodes']);
  });
});
