// The Deployment story end to end, against the real stack:
//   KWOK cluster ──audit webhook──► kubetrail serve ──OTLP──► Jaeger ◄── query API (serve, and `kubetrail query`)
// then the same assertions over the embedded store after `kubetrail replay` of the audit log the
// cluster wrote during that run, with identical IDs.
// Scenario: create Deployment demo (2 replicas) → scale to 4 → change image → scale to 2 → delete.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, deleteNamespace, kubectl, kubectlJson, waitFor } from '../setup/kube.ts';
import { CLI, startKubetrail, type RunningKubetrail, stackServeArgs } from '../setup/kubetrail.ts';
import { freePorts } from '../setup/ports.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { startQueryServer } from '../../frontend-plugin/server.ts';
import { rawTraceId, windowStartSec } from '../../src/core/ids.ts';

const stack = inject('stack');
const WINDOW_SEC = 1800;

interface JTag {
  key: string;
  value: unknown;
}
interface JLog {
  timestamp: number;
  fields: JTag[];
}
interface JSpan {
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: JTag[];
  logs: JLog[];
}
interface JTrace {
  traceID: string;
  spans: JSpan[];
}

const tag = (s: { tags: JTag[] }, key: string) => s.tags.find((t) => t.key === key)?.value;
const field = (l: JLog, key: string) => l.fields.find((f) => f.key === key)?.value as string | undefined;
const parentOf = (s: JSpan) => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

async function getJson<T = any>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** GET /redirect for an object → the display trace ID it points at. */
async function redirectId(base: string, q: Record<string, string>): Promise<string> {
  const res = await fetch(`${base}/redirect?${new URLSearchParams(q)}`, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`redirect ${JSON.stringify(q)}: ${res.status} ${await res.text()}`);
  const m = /^\/trace\/([0-9a-f]{32})$/.exec(res.headers.get('location') ?? '');
  if (!m) throw new Error(`unexpected Location ${res.headers.get('location')}`);
  return m[1]!;
}

const withMode = (id: string, mode: string) => `${id.slice(0, 2)}${mode}${id.slice(10)}`;

async function trace(base: string, id: string): Promise<JTrace> {
  const body = await getJson<{ data: JTrace[] }>(`${base}/api/traces/${id}`);
  expect(body.data).toHaveLength(1);
  return body.data[0]!;
}

function rootOf(t: JTrace): JSpan {
  const roots = t.spans.filter((s) => !parentOf(s));
  expect(roots, 'exactly one root span').toHaveLength(1);
  return roots[0]!;
}

const childrenOf = (t: JTrace, s: JSpan) => t.spans.filter((c) => parentOf(c) === s.spanID);

/** What a user checks in the Deployment's story, through one query API base URL. */
async function checkDeploymentStory(base: string, ns: string, ts: string): Promise<void> {
  const q = { cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: ns, name: 'demo', ts };
  const id = await redirectId(base, q);
  const full = await trace(base, withMode(id, '21000000'));
  const root = rootOf(full);
  expect(tag(root, 'resource')).toBe('deployments');
  expect(tag(root, 'name')).toBe('demo');
  expect(tag(root, 'namespace')).toBe(ns);
  expect(tag(root, 'cluster')).toBe(stack.clusterName);

  const audits = root.logs.map((l) => field(l, 'audit')).filter(Boolean) as string[];
  // created by kubectl, deleted by kubectl, status written by the deployment controller
  const create = root.logs.find((l) => / create$/.test(field(l, 'audit') ?? ''));
  expect(create, `a create in ${audits.join(' | ')}`).toBeTruthy();
  expect(JSON.parse(field(create!, 'snapshot')!).metadata.name).toBe('demo');
  const del = root.logs.find((l) => / delete$/.test(field(l, 'audit') ?? ''));
  expect(del, `a delete in ${audits.join(' | ')}`).toBeTruthy();
  expect(JSON.parse(field(del!, 'snapshot')!).metadata.name).toBe('demo');
  const diffs = root.logs.map((l) => field(l, 'diff') ?? '');
  const story = root.logs.map((l) => `${field(l, 'audit') ?? field(l, 'event')}: ${field(l, 'diff') ?? ''}`).join('\n');
  expect(
    diffs.some((d) => d.split('\n').includes('spec.replicas 2 -> 4')),
    story,
  ).toBe(true);
  const statusUpdate = root.logs.find(
    (l) =>
      field(l, 'audit') === 'system:serviceaccount:kube-system:deployment-controller update status' &&
      (field(l, 'diff') ?? '').split('\n').includes('status.observedGeneration 1 -> 2'),
  );
  expect(statusUpdate, `deployment-controller status update with status.observedGeneration 1 -> 2 in:\n${story}`).toBeTruthy();
  for (const s of full.spans)
    for (const l of s.logs) {
      expect(field(l, 'diff') ?? '').not.toContain('managedFields');
      expect(field(l, 'diff.verbose') ?? '').not.toContain('managedFields');
    }
  // Kubernetes Events on the deployment
  expect(root.logs.some((l) => field(l, 'event') === 'ScalingReplicaSet')).toBe(true);

  // exactly the two ReplicaSets under the Deployment, their pods under them
  const replicaSets = childrenOf(full, root);
  expect(replicaSets.map((s) => tag(s, 'resource'))).toEqual(['replicasets', 'replicasets']);
  const pods = replicaSets.flatMap((rs) => childrenOf(full, rs));
  expect(pods.length).toBeGreaterThanOrEqual(8); // 2 → 4 on the first ReplicaSet, 4 more on the second
  for (const pod of pods) {
    expect(tag(pod, 'resource')).toBe('pods');
    const who = pod.logs.map((l) => field(l, 'audit'));
    expect(who, `pod ${tag(pod, 'name')}`).toContain('system:kube-scheduler create binding');
    expect(who, `pod ${tag(pod, 'name')}`).toContain('system:serviceaccount:kube-system:replicaset-controller create');
  }
  expect(replicaSets.some((rs) => rs.logs.some((l) => field(l, 'event') === 'SuccessfulCreate'))).toBe(true);

  // pod → node: a pod's own trace (default scope) shows its node as a parent relation
  const podName = String(tag(pods[0]!, 'name'));
  const podTrace = await trace(base, await redirectId(base, { cluster: stack.clusterName, group: '', resource: 'pods', namespace: ns, name: podName, ts }));
  expect(podTrace.spans.some((s) => tag(s, 'resource') === 'nodes')).toBe(true);
  expect(podTrace.spans.some((s) => tag(s, 'resource') === 'replicasets')).toBe(true);

  // ancestors from the first ReplicaSet: the Deployment with exactly that ReplicaSet as its only child
  const firstRs = [...replicaSets].sort((a, b) => (a.logs[0]?.timestamp ?? 0) - (b.logs[0]?.timestamp ?? 0))[0]!;
  const rsId = await redirectId(base, {
    cluster: stack.clusterName,
    group: 'apps',
    resource: 'replicasets',
    namespace: ns,
    name: String(tag(firstRs, 'name')),
    ts,
  });
  const anc = await trace(base, withMode(rsId, '22000000'));
  const ancRoot = rootOf(anc);
  expect(tag(ancRoot, 'resource')).toBe('deployments');
  const ancChildren = childrenOf(anc, ancRoot);
  expect(ancChildren.map((s) => tag(s, 'name'))).toEqual([tag(firstRs, 'name')]);
}

describe('Deployment scenario on KWOK → kubetrail → Jaeger, and replay → embedded store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kt-e2e-'));
  let ns = '';
  let during = '';
  let serve: RunningKubetrail | undefined;
  let queryBase = '';
  let startedAt = 0;

  beforeAll(async () => {
    const [queryPort] = await freePorts(1);
    serve = await startKubetrail(
      [
        ...stackServeArgs(stack),
        '--otlp-endpoint',
        stack.otlpGrpcEndpoint,
        '--jaeger-query',
        stack.jaegerQueryUrl,
        '--query-port',
        String(queryPort),
        '--log-level',
        'info',
      ],
      { ready: /informers started/ },
    );
    queryBase = `http://127.0.0.1:${queryPort}`;
    startedAt = Date.now();

    ns = await createNamespace('e2e');
    const podsRunning = async (n: number) => {
      const pods = await kubectlJson<{ items: any[] }>(['get', 'pods', '-n', ns, '-l', 'app=demo']);
      const running = pods.items.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
      return pods.items.length === n && running.length === n ? true : undefined;
    };
    await kubectl(['create', 'deployment', 'demo', '-n', ns, '--image=nginx:1.25', '--replicas=2']);
    await waitFor(() => podsRunning(2), '2 running pods', 120_000);
    await kubectl(['scale', 'deployment/demo', '-n', ns, '--replicas=4']);
    await waitFor(() => podsRunning(4), '4 running pods', 120_000);
    during = new Date().toISOString();
    await kubectl(['set', 'image', 'deployment/demo', '-n', ns, 'nginx=nginx:1.26']);
    await kubectl(['rollout', 'status', 'deployment/demo', '-n', ns, '--timeout=180s'], { timeoutMs: 200_000 });
    await kubectl(['scale', 'deployment/demo', '-n', ns, '--replicas=2']);
    await waitFor(() => podsRunning(2), '2 running pods after scale-down', 120_000);
    await kubectl(['delete', 'deployment/demo', '-n', ns]);
    await waitFor(() => podsRunning(0), 'pods gone', 120_000);
    // everything the API server sent has reached Jaeger once the delete's snapshot is there
    await waitFor(
      async () => {
        const id = await redirectId(queryBase, { cluster: stack.clusterName, group: 'apps', resource: 'deployments', namespace: ns, name: 'demo', ts: during });
        const t = await trace(queryBase, id);
        return t.spans.some((s) => s.logs.some((l) => / delete$/.test(field(l, 'audit') ?? ''))) ? true : undefined;
      },
      'the deployment delete in Jaeger',
      120_000,
    );
    // let the last pod deletions and Events arrive (webhook batches every ~1s)
    await new Promise((r) => setTimeout(r, 5000));
  });

  afterAll(async () => {
    await serve?.stop();
    if (ns) await deleteNamespace(ns).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the Deployment story from Jaeger through kubetrail serve', async () => {
    await checkDeploymentStory(queryBase, ns, during);
  });

  it('shows the same story through `kubetrail query --jaeger-query` in front of Jaeger', async () => {
    const [port] = await freePorts(1);
    const q = await startKubetrail(['query', '--jaeger-query', stack.jaegerQueryUrl, '--port', String(port), '--host', '127.0.0.1'], {
      ready: /listening|http:\/\//i,
    });
    try {
      await checkDeploymentStory(`http://127.0.0.1:${port}`, ns, during);
    } finally {
      await q.stop();
    }
  });

  it('replays the audit log of that run into the embedded store with the same story and identical IDs', async () => {
    expect(await serve!.stop()).toBe(0);
    const storePath = join(dir, 'replay.sqlite');
    const replay = spawn(process.execPath, [CLI, 'replay', '--cluster', stack.clusterName, '--store', storePath, '--no-progress', stack.auditLogPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    replay.stdout!.on('data', (d: Buffer) => {
      out += d;
    });
    replay.stderr!.on('data', (d: Buffer) => {
      out += d;
    });
    expect(await new Promise((r) => replay.on('exit', r)), out).toBe(0);

    const store = new SqliteBackend(storePath);
    const server = await startQueryServer({ backend: store, windowSec: WINDOW_SEC, port: 0, host: '127.0.0.1' });
    try {
      await checkDeploymentStory(server.url.replace(/\/$/, ''), ns, during);

      // identical trace and span IDs: the deployment's raw traces in Jaeger and in the store
      const key = `${stack.clusterName}/apps/deployments/${ns}/demo`;
      const found = await store.findObjects({
        cluster: stack.clusterName,
        group: 'apps',
        resource: 'deployments',
        namespace: ns,
        name: 'demo',
        startUs: startedAt * 1000 - 3600e6,
        endUs: Date.now() * 1000,
        limit: 5,
      });
      expect(found).toHaveLength(1);
      for (const ws of found[0]!.windows) {
        const id = rawTraceId(key, ws);
        expect(ws).toBe(windowStartSec(ws * 1e6, WINDOW_SEC));
        const stored = await store.getRawTrace(id);
        const jaeger = await getJson<{ data: { spans: { spanID: string; tags: JTag[] }[] }[] }>(`${stack.jaegerQueryUrl}/api/traces/${id}`);
        const auditIds = (spans: { spanID: string; source?: unknown }[]) =>
          spans
            .filter((s) => s.source === 'audit')
            .map((s) => s.spanID)
            .sort();
        const fromStore = auditIds(stored.map((s) => ({ spanID: s.spanId, source: s.attributes.source })));
        const fromJaeger = auditIds(jaeger.data[0]!.spans.map((s) => ({ spanID: s.spanID, source: tag(s, 'source') })));
        expect(fromStore.length).toBeGreaterThan(5);
        expect(fromJaeger).toEqual(fromStore);
        const objectSpan = (spans: { spanID: string; kind?: unknown }[]) => spans.filter((s) => s.kind === 'object').map((s) => s.spanID);
        expect(objectSpan(jaeger.data[0]!.spans.map((s) => ({ spanID: s.spanID, kind: tag(s, 'nestLevel') })))).toEqual(
          objectSpan(stored.map((s) => ({ spanID: s.spanId, kind: s.kind }))),
        );
      }
    } finally {
      await server.close();
      await store.close();
    }
  });
});
