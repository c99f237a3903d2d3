// Issue 12 in a real headless Chromium over a FRESH run on the test stack's KWOK cluster, recorded
// live by `kubetrail serve` (audit webhook + informers) into its embedded store; the UI is the one
// serve's query server has built in. The run is a KWOK tester's story: in a fresh namespace a
// Deployment pinned (nodeSelector) to a node pool of this test's own fake nodes — first only node A,
// then node B joins the pool, then node A is deleted, the pod garbage collector deletes the pods
// bound to it and the ReplicaSet replaces them on node B — plus a routine failure (a delete of a pod
// already gone: 404, expected) and a real one (a patch the API server refuses: 422).
// Each point is a user action with an assertion on what is shown. Screenshots: test-results/ui-kwok-*.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { serveToStore, type RunningKubetrail } from '../setup/kubetrail.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = join(ROOT, 'test-results');
const stack = inject('stack');

interface KV {
  key: string;
  value: unknown;
}
interface JSpan {
  tags: KV[];
  logs: { timestamp: number; fields: KV[] }[];
}
const tag = (s: JSpan, k: string) => s.tags.find((t) => t.key === k)?.value;
const field = (l: { fields: KV[] }, k: string) => l.fields.find((f) => f.key === k)?.value;

/** A fake node the kwok controller manages (deploy/kwok/node.yaml), in this test's pool. */
function fakeNode(name: string, pool: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubetrail.io/pool': pool },
    },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion: 'fake', kubeProxyVersion: 'fake' },
    },
  });
}

interface PodInfo {
  name: string;
  node: string;
}

describe('the UI tells the story of a fresh KWOK run recorded by kubetrail serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-ui-kwok-'));
  let serve: RunningKubetrail | undefined;
  let browser: Browser;
  let base = '';
  let ns = '';
  let nodeA = '';
  let nodeB = '';
  let firstPods: PodInfo[] = [];
  let replacements: PodInfo[] = [];
  const errors: string[] = [];

  const readyNode = (name: string) =>
    waitFor(
      async () => {
        const n = await kubectlJson<{ status: { conditions?: { type: string; status: string }[] }; spec: { taints?: { key: string }[] } }>([
          'get',
          'node',
          name,
        ]);
        const ready = n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return (ready && !(n.spec.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready')) || undefined;
      },
      `node ${name} Ready`,
      60_000,
    );
  const runningPods = async (): Promise<PodInfo[]> => {
    const pods = await kubectlJson<{
      items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string }; status: { phase?: string } }[];
    }>(['get', 'pods', '-n', ns, '-l', 'app=web']);
    return pods.items
      .filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp)
      .map((p) => ({ name: p.metadata.name, node: p.spec.nodeName ?? '' }));
  };

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    const chromiumPath = stack.chromiumPath ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null);
    if (!chromiumPath) throw new Error('no Chromium (apt-get install -y chromium, or CHROMIUM_PATH)');
    ({ serve, base } = await serveToStore(stack, join(dir, 'kt.sqlite')));

    // the story
    ns = await createNamespace('uikwok');
    const id = ns.slice(-6);
    nodeA = `kwok-ui-${id}-a`;
    nodeB = `kwok-ui-${id}-b`;
    await kubectl(['apply', '-f', '-'], { input: fakeNode(nodeA, ns) });
    await readyNode(nodeA);
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { nodeSelector: { 'kubetrail.io/pool': ns }, containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
          },
        },
      }),
    });
    // the pool has one node: every pod lands on node A
    firstPods = await waitFor(async () => {
      const p = await runningPods();
      return p.length === 3 ? p : undefined;
    }, '3 pods of web Running');
    expect(firstPods.map((p) => p.node)).toEqual([nodeA, nodeA, nodeA]);
    // node B joins the pool; node A goes: the pod garbage collector deletes the pods bound to it
    // (after its quarantine) and the ReplicaSet replaces them, on node B
    await kubectl(['apply', '-f', '-'], { input: fakeNode(nodeB, ns) });
    await readyNode(nodeB);
    await kubectl(['delete', 'node', nodeA]);
    replacements = await waitFor(
      async () => {
        const p = await runningPods();
        const left = await kubectl(['get', 'pods', '-n', ns, '-o', 'name']);
        const gone = firstPods.every((f) => !left.includes(`pod/${f.name}\n`));
        return gone && p.length === 3 && p.every((x) => x.node === nodeB) ? p : undefined;
      },
      'the pods of node A garbage-collected and replaced on node B',
      180_000,
      1000,
    );
    // a routine failure: deleting a pod that is already gone (404)
    await expect(kubectl(['delete', 'pod', firstPods[0]!.name, '-n', ns])).rejects.toThrow(/NotFound|not found/);
    // a real one: a patch the API server refuses (422)
    await expect(kubectl(['patch', 'deployment', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":-1}}'])).rejects.toThrow(/Invalid|invalid/);

    // wait until the store holds all of it, through the API the UI searches with
    const q = new URLSearchParams({
      service: 'tracing (owned objects)',
      operation: stack.clusterName,
      tags: JSON.stringify({ resource: 'deployments', namespace: ns, name: 'web' }),
      start: String((Date.now() - 3600e3) * 1000),
      end: String((Date.now() + 3600e3) * 1000),
      limit: '20',
    });
    await waitFor(
      async () => {
        const res = await fetch(`${base}/api/traces?${q}`);
        if (!res.ok) return undefined;
        const spans = ((await res.json()) as { data: { spans: JSpan[] }[] }).data[0]?.spans ?? [];
        const pod = (name: string) => spans.find((s) => tag(s, 'resource') === 'pods' && tag(s, 'name') === name);
        const deploy = spans.find((s) => tag(s, 'resource') === 'deployments');
        const codes = (s: JSpan | undefined) => (s?.logs ?? []).map((l) => Number(field(l, 'code')));
        const all = [...firstPods, ...replacements].every((p) => pod(p.name));
        const deleted = firstPods.every((p) => (pod(p.name)?.logs ?? []).some((l) => field(l, 'verb') === 'delete'));
        const bound = replacements.every((p) => (pod(p.name)?.logs ?? []).some((l) => String(field(l, 'diff') ?? '').includes(nodeB)));
        return (all && deleted && bound && codes(pod(firstPods[0]!.name)).includes(404) && codes(deploy).includes(422)) || undefined;
      },
      'the whole story in the store',
      60_000,
      1000,
    );
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    for (const n of [nodeA, nodeB]) if (n) await kubectl(['delete', 'node', n, '--ignore-not-found', '--wait=false']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  }
  const row = (page: Page, label: string) => page.locator(`.tl-rows .row:has(.name[title="${label}"])`);

  /** Search as a user: kind, namespace, "starts with" a prefix, default range. */
  async function searchDeployment(page: Page): Promise<void> {
    await page.goto(`${base}/`);
    await page.waitForSelector(`#f-namespace option[value="${ns}"], #f-namespace option:text-is("${ns}")`, { state: 'attached' });
    await page.fill('#f-resource', 'deploy');
    await page.selectOption('#f-namespace', ns);
    await page.selectOption('#f-match', 'prefix');
    await page.fill('#f-name', 'we');
    await page.click('button[type=submit]');
    await page.waitForSelector('.results a.obj-link, .state-empty');
  }
  async function openDeployment(page: Page): Promise<void> {
    await searchDeployment(page);
    await page.locator('.results a.obj-link').first().click();
    await page.waitForSelector('.tl-rows .row');
  }

  it('finds the Deployment by a name prefix in its namespace, in the default range (the recorded data), without picking a range', async () => {
    const page = await newPage();
    // the form opens on the data that exists
    await page.goto(`${base}/`);
    expect(await page.locator('#f-range').inputValue()).toBe('all');
    expect(await page.locator('.data-range').innerText()).toMatch(/^Recorded data: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d – /);
    await searchDeployment(page);
    expect(await page.locator('#f-range').inputValue()).toBe('all');
    expect(await page.locator('.results a.obj-link').allInnerTexts()).toEqual([`Deployment ${ns}/web`]);
    expect(page.url()).toContain('match=prefix');
    // its trace holds 7 other objects, the ReplicaSet and the 6 pods (the node rows under the pods
    // are not objects of it: the trace header says "8 objects")
    const cells = await page.locator('.results tbody tr').first().locator('td').allInnerTexts();
    expect(cells[5]).toBe('7');
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-search.png') });
    // "around the latest data" finds it too
    await page.goto(`${base}/?resource=deployments&namespace=${ns}&name=web&range=latest`);
    await page.waitForSelector('.results a.obj-link');
    expect(await page.locator('.results a.obj-link').allInnerTexts()).toEqual([`Deployment ${ns}/web`]);
    await page.close();
  });

  it("shows in the Deployment's full tree the node every pod ran on, as a row under the pod", async () => {
    const page = await newPage();
    await openDeployment(page);
    const before = page.url();
    await page.click('.switches button[data-switch="scope"][data-value="full tree"]');
    await page.waitForURL((u) => u.href !== before);
    await page.waitForSelector('.switches button[data-switch="scope"][data-value="full tree"][aria-pressed="true"]');
    await page.waitForSelector('.tl-rows .row');
    expect(await page.locator('.trace-title h1').innerText()).toMatch(new RegExp(`Deployment\\s+${ns}/web$`));
    expect(await page.locator('.trace-title .stats').innerText()).toMatch(/^8 objects\b/);
    // pod label → the Node row right under it
    const under = await page.locator('.tl-rows .row').evaluateAll((els) => {
      const out: Record<string, string> = {};
      els.forEach((el, i) => {
        if (el.querySelector('.kind')?.textContent !== 'Pod') return;
        const next = els[i + 1];
        if (
          next &&
          next.querySelector('.kind')?.textContent === 'Node' &&
          Number(next.getAttribute('aria-level')) === Number(el.getAttribute('aria-level')) + 1
        )
          out[el.querySelector('.name')!.getAttribute('title')!] = next.querySelector('.name')!.getAttribute('title')!;
      });
      return out;
    });
    const want = Object.fromEntries([...firstPods, ...replacements].map((p) => [`${ns}/${p.name}`, p.node]));
    expect(under).toEqual(want);
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-full-tree.png') });

    // a node row opens the node's own trace, which lists the pods bound to it (node A: deleted)
    for (const [node, pods] of [
      [nodeA, firstPods],
      [nodeB, replacements],
    ] as const) {
      const tree = page.url();
      await page.locator(`.tl-rows .row:has(.kind:text-is("Node")):has(.name[title="${node}"])`).first().locator('.name').click();
      await expect.poll(() => page.locator('.details .panel-title').innerText()).toBe(node);
      await page.click('.details a.btn:text-is("Open this object\'s own trace")');
      await page.waitForFunction((n) => document.querySelector('.trace-title h1')?.textContent?.endsWith(n), node);
      await page.waitForSelector('.tl-rows .row');
      const listed = await page.locator('.tl-rows .row:has(.kind:text-is("Pod")) .name').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
      expect(listed.sort()).toEqual(pods.map((p) => `${ns}/${p.name}`).sort());
      if (node === nodeA) await page.screenshot({ path: join(RESULTS, 'ui-kwok-node.png') });
      await page.goto(tree);
      await page.waitForSelector('.tl-rows .row');
    }
    await page.close();
  });

  it('follows a garbage-collected pod to its replacement in one click, from the workload view and from the pod’s own trace', async () => {
    const page = await newPage();
    await openDeployment(page);
    const gone = firstPods[0]!.name;
    await row(page, `${ns}/${gone}`).locator('.name').click();
    const details = page.locator('.details');
    await expect.poll(() => details.locator('.panel-title').innerText()).toBe(`${ns}/${gone}`);
    expect(await details.locator('.story').innerText()).toContain(`Ran on Node ${nodeA}`);
    const next = details.locator('button.story-next');
    const label = (await next.innerText()).replace(/^Pod /, '');
    expect(replacements.map((p) => `${ns}/${p.name}`)).toContain(label);
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-replaced.png') });
    await next.click();
    await expect.poll(() => details.locator('.panel-title').innerText()).toBe(label);
    const story = await details.locator('.story').innerText();
    expect(story).toContain(`Replaces Pod ${ns}/`);
    expect(story).toContain(`Ran on Node ${nodeB}`);

    // from the deleted pod's own trace: "Follow the replacement" opens its owner's objects with it selected
    await page.goto(`${base}/`);
    await page.fill('#f-resource', 'pod');
    await page.fill('#f-name', gone);
    await page.click('button[type=submit]');
    await page.locator('.results a.obj-link').first().click();
    await page.waitForSelector('.tl-rows .row');
    await page.click('.details a.story-follow');
    await page.waitForFunction(() => document.querySelector('.trace-title h1')?.textContent?.includes('ReplicaSet'));
    await expect.poll(() => page.locator('.details .panel-title').innerText()).toBe(`${ns}/${gone}`);
    expect(await page.locator('.details button.story-next').innerText()).toMatch(new RegExp(`^Pod ${ns}/web-[a-z0-9]+-[a-z0-9]{5}$`));
    await page.close();
  });

  it('filters rows by a node name: the pods that ran on it are highlighted', async () => {
    const page = await newPage();
    await openDeployment(page);
    await page.fill('[data-filter]', nodeA);
    await expect.poll(() => page.locator('.tl-rows .row.hit').count()).toBeGreaterThan(0);
    const hitPods = await page.locator('.tl-rows .row.hit:has(.kind:text-is("Pod")) .name').evaluateAll((els) => els.map((e) => e.getAttribute('title')));
    expect(hitPods.sort()).toEqual(firstPods.map((p) => `${ns}/${p.name}`).sort());
    // the node rows themselves, with the match highlighted in the label, and matching marks outlined
    expect(await page.locator('.tl-rows .row.hit:has(.kind:text-is("Node")) .name mark').first().innerText()).toBe(nodeA);
    expect(await page.locator('.tl-rows .mark.hit').count()).toBeGreaterThan(0);
    // pods on node B are not shown (no ancestor of a hit)
    for (const p of replacements) expect(await row(page, `${ns}/${p.name}`).count()).toBe(0);
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-filter.png') });
    await page.close();
  });

  it("shows the pod's state as YAML after an event, with spec.nodeName", async () => {
    const page = await newPage();
    await openDeployment(page);
    const p = replacements[0]!;
    await row(page, `${ns}/${p.name}`).locator('.name').click();
    const details = page.locator('.details');
    await expect.poll(() => details.locator('.panel-title').innerText()).toBe(`${ns}/${p.name}`);
    await details.locator('.state-box summary').click();
    const labels = await details.locator('[data-state-at] option').allInnerTexts();
    const bind = labels.findIndex((l) => / create binding$/.test(l));
    expect(bind, labels.join('\n')).toBeGreaterThan(0);
    // before the binding: no node yet; after it: spec.nodeName
    await details.locator('[data-state-at]').selectOption(String(bind - 1));
    await details.locator('button[data-state="yaml"]').click();
    expect(await details.locator('.state-yaml').innerText()).not.toMatch(/^ {2}nodeName:/m);
    await details.locator('[data-state-at]').selectOption(String(bind));
    await details.locator('button[data-state="yaml"]').click();
    await expect.poll(() => details.locator('.state-yaml').innerText()).toMatch(new RegExp(`^ {2}nodeName: ${nodeB}$`, 'm'));
    const yaml = await details.locator('.state-yaml').innerText();
    expect(yaml).toMatch(/^kind: Pod$/m);
    expect(yaml).toMatch(new RegExp(`^ {2}name: ${p.name}$`, 'm'));
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-state.png') });
    await page.close();
  });

  it('shows the 404 delete as an expected failure (grey) and the refused patch as a real one (red), counted apart in the header', async () => {
    const page = await newPage();
    await openDeployment(page);
    const stats = page.locator('.trace-title .stats');
    expect(await stats.locator('[data-stat="failed"]').innerText()).toBe('1 failed');
    expect(await stats.locator('[data-stat="failed"]').getAttribute('class')).toContain('txt-error');
    expect(await stats.locator('[data-stat="expected"]').innerText()).toMatch(/^\d+ expected failures?$/);
    expect(await stats.locator('[data-stat="expected"]').getAttribute('class')).toContain('txt-expected');
    // the Deployment's row: the 422 as a red badge and mark
    const deploy = row(page, `${ns}/web`);
    expect(await deploy.locator('.badge-error').innerText()).toBe('1 ✕');
    expect(await deploy.locator('.mark.lvl-error').count()).toBe(1);
    // the gone pod's row: grey, no red
    const gone = row(page, `${ns}/${firstPods[0]!.name}`);
    expect(await gone.locator('.badge-expected').count()).toBe(1);
    expect(await gone.locator('.badge-error').count()).toBe(0);
    expect(await gone.locator('.mark.lvl-expected').count()).toBeGreaterThan(0);
    await gone.locator('.name').click();
    const ev = page.locator('.details .ev', { has: page.locator('.code', { hasText: '404' }) }).last();
    expect(await ev.locator('.ev-expected').innerText()).toMatch(/^expected: already-gone/);
    expect(await ev.locator('.code').getAttribute('class')).toContain('code-expected');
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-failures.png') });
    // "Real failures" keeps only the Deployment
    await page.selectOption('[data-failfilter]', 'error');
    await expect.poll(() => page.locator('.tl-rows .row.hit .name').evaluateAll((els) => els.map((e) => e.getAttribute('title')))).toEqual([`${ns}/web`]);
    await page.locator('.tl-rows .row.hit .name').click();
    const refused = page.locator('.details .ev', { has: page.locator('.code', { hasText: '422' }) });
    expect(await refused.locator('.ev-error').innerText()).toMatch(/replicas/);
    expect(await refused.locator('.code').getAttribute('class')).toContain('code-bad');
    await page.close();
  });

  it("lists the namespace's pods and deployments with writes on the overview, and a click opens the objects", async () => {
    const page = await newPage();
    await page.goto(`${base}/`);
    await page.click('.top-nav a[href="/overview"]');
    const pods = page.locator(`.hm-row[data-kind="pods"][data-namespace="${ns}"]`);
    await pods.waitFor();
    expect(await pods.locator('.hm-label').innerText()).toBe(`Pod ${ns} (6)`);
    expect(Number(await pods.locator('.hm-num').innerText())).toBeGreaterThan(0);
    const deploys = page.locator(`.hm-row[data-kind="deployments"][data-namespace="${ns}"]`);
    expect(await deploys.locator('.hm-label').innerText()).toBe(`Deployment ${ns} (1)`);
    expect(Number(await deploys.locator('.hm-num').innerText())).toBeGreaterThan(0);
    expect(await deploys.locator('a.hm-cell.hm-fail').count()).toBe(1);
    expect(await pods.locator('a.hm-cell.hm-expected').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(RESULTS, 'ui-kwok-overview.png'), fullPage: true });
    // the row label: that kind in that namespace over the range
    await pods.locator('a.hm-label').click();
    await page.waitForSelector('.results a.obj-link');
    expect((await page.locator('.results a.obj-link').allInnerTexts()).sort()).toEqual(
      [...firstPods, ...replacements].map((p) => `Pod ${ns}/${p.name}`).sort(),
    );
    // a cell of the Deployment row opens the Deployment
    await page.goBack();
    await deploys.locator('a.hm-cell').first().click();
    await page.waitForSelector('.results a.obj-link');
    expect(await page.locator('.results a.obj-link').allInnerTexts()).toEqual([`Deployment ${ns}/web`]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
