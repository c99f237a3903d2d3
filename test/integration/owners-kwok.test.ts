// Issue 19: an object with several owner references, on the real KWOK cluster. Two Deployments and
// a ConfigMap that both own (neither as its controller), made with kubectl and traced live by
// `kubetrail serve` (audit webhook + informers → embedded store); then its query server must show
// the ConfigMap in both Deployments' full trees, and its ancestors as two roots: both Deployments
// drawn as parents, none as a child of the ConfigMap — in the API and in the built-in UI (Chromium).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { serveToStore, type RunningKubetrail } from '../setup/kubetrail.ts';

const stack = inject('stack');

interface JSpan {
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  logs: { fields: { key: string; value: unknown }[] }[];
}

describe('several owner references ← KWOK cluster, traced by kubetrail serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-owners-'));
  let serve: RunningKubetrail | undefined;
  let base = '';
  let ns = '';

  /** The one trace a search finds for `tags` in `service` (a display mode and scope), or undefined. */
  const search = async (service: string, tags: Record<string, string>): Promise<JSpan[] | undefined> => {
    const q = new URLSearchParams({
      service,
      operation: stack.clusterName,
      tags: JSON.stringify({ namespace: ns, ...tags }),
      start: String((Date.now() - 3600e3) * 1000),
      end: String((Date.now() + 3600e3) * 1000),
    });
    const res = await fetch(`${base}/api/traces?${q}`);
    expect(res.status).toBe(200);
    const data = ((await res.json()) as { data: { spans: JSpan[] }[] }).data;
    expect(data.length).toBeLessThanOrEqual(1);
    return data[0]?.spans;
  };
  const span = (spans: JSpan[], op: string) => spans.find((s) => s.operationName === op);

  beforeAll(async () => {
    ({ serve, base } = await serveToStore(stack, join(dir, 'kt.sqlite')));
    ns = await createNamespace('owners');
    for (const name of ['alpha', 'beta']) await kubectl(['create', 'deployment', name, '-n', ns, '--image=nginx', '--replicas=0']);
    const uid = async (name: string) => (await kubectlJson<{ metadata: { uid: string } }>(['get', 'deployment', name, '-n', ns])).metadata.uid;
    const owner = async (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: await uid(name) });
    await kubectl(['create', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'shared', ownerReferences: [await owner('alpha'), await owner('beta')] },
        data: { k: '1' },
      }),
    });
    await kubectl(['patch', 'configmap', 'shared', '-n', ns, '--type=merge', '-p', '{"data":{"k":"2"}}']);
    // the garbage collector keeps it: both owners exist
    const cm = await kubectlJson<{ metadata: { ownerReferences: { name: string; controller?: boolean }[] } }>(['get', 'configmap', 'shared', '-n', ns]);
    expect(cm.metadata.ownerReferences.map((o) => [o.name, o.controller ?? false])).toEqual([
      ['alpha', false],
      ['beta', false],
    ]);
  }, 180_000);

  afterAll(async () => {
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it("is in both Deployments' full trees, under each Deployment, with its create and its patch", async () => {
    for (const name of ['alpha', 'beta']) {
      const spans = await waitFor(
        async () => {
          const s = await search('tracing (full tree)', { resource: 'deployments', name });
          const cm = s && span(s, `configmaps ${ns}/shared`);
          return cm && cm.logs.length >= 2 ? s : undefined;
        },
        `ConfigMap shared with its two writes in the full tree of Deployment ${name}`,
        90_000,
        1000,
      );
      const deployment = span(spans, `deployments ${ns}/${name}`)!;
      const cm = span(spans, `configmaps ${ns}/shared`)!;
      expect(deployment.references).toEqual([]);
      expect(cm.references[0]!.spanID).toBe(deployment.spanID);
      expect(cm.tags).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'link.class', value: 'children' })]));
      const verbs = cm.logs.map((l) => l.fields.find((f) => f.key === 'verb')?.value);
      expect(verbs).toEqual(expect.arrayContaining(['create', 'patch']));
    }
  });

  it('its ancestors are both Deployments, each a root, and the ConfigMap references both as parents', async () => {
    const spans = await waitFor(
      async () => {
        const s = await search('tracing (ancestors)', { resource: 'configmaps', name: 'shared' });
        return s && span(s, `deployments ${ns}/alpha`) && span(s, `deployments ${ns}/beta`) ? s : undefined;
      },
      'both Deployments in the ancestors of ConfigMap shared',
      90_000,
      1000,
    );
    const [alpha, beta, cm] = [`deployments ${ns}/alpha`, `deployments ${ns}/beta`, `configmaps ${ns}/shared`].map((op) => span(spans, op)!);
    expect(spans.filter((s) => s.references.length === 0).map((s) => s.operationName)).toEqual([alpha!.operationName, beta!.operationName]);
    expect(cm!.references.map((r) => [r.refType, r.spanID])).toEqual([
      ['CHILD_OF', alpha!.spanID],
      ['CHILD_OF', beta!.spanID],
    ]);
    // nothing hangs under the ConfigMap: no owner drawn as its child
    expect(spans.filter((s) => s.references.some((r) => r.spanID === cm!.spanID))).toEqual([]);
    expect(spans).toHaveLength(3);
  });

  it('the built-in UI draws both Deployments as top rows: the ConfigMap in full under one, and a row standing for it under the other', async () => {
    if (!stack.chromiumPath) throw new Error('no Chromium (apt-get install -y chromium, or CHROMIUM_PATH)');
    const browser = await chromium.launch({ executablePath: stack.chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const q = new URLSearchParams({ cluster: stack.clusterName, resource: 'configmaps', namespace: ns, name: 'shared', mode: 'tracing (ancestors)' });
      await page.goto(`${base}/redirect?${q}`);
      await page.waitForSelector('.tl-rows .row');
      const rows = await page
        .locator('.tl-rows .row')
        .evaluateAll((els) =>
          els.map((el) => [
            Number(el.getAttribute('aria-level')),
            el.querySelector('.kind')?.textContent,
            el.querySelector('.name')?.getAttribute('title'),
            el.querySelector('.rel')?.className.replace('rel rel-', ''),
          ]),
        );
      expect(rows).toEqual([
        [1, 'Deployment', `${ns}/alpha`, 'root'],
        [2, 'ConfigMap', `${ns}/shared`, 'children'],
        [1, 'Deployment', `${ns}/beta`, 'top'],
        [2, 'ConfigMap', `${ns}/shared`, 'also'],
      ]);
      expect(await page.locator('.trace-title h1').innerText()).toMatch(new RegExp(`Deployment\\s+${ns}/alpha$`));
      expect(await page.locator('.trace-title .stats').innerText()).toMatch(/^3 objects\b/);
      // the row under beta points to the full one
      await page.locator('.tl-rows .row').nth(3).locator('.name').click();
      await expect.poll(() => page.locator('.details .empty-events').innerText()).toContain(`its events are on its row under Deployment ${ns}/alpha`);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
