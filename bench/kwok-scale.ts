// A real KWOK cluster at scale, with its audit webhook at `kubetrail serve` (docs/performance.md).
// Starts the stack's KWOK cluster (deploy/stack/kwok.sh: etcd, kube-apiserver with the batching audit
// webhook, controller-manager, scheduler, kwok) with no nodes, then `kubetrail serve` (webhook,
// informers, embedded store) on the webhook's port. Per step of the ladder it creates fake nodes up
// to the step's count, deploys --deployments Deployments of --replicas pods in all into a namespace
// of its own, rolls them (a new pod template), deletes them and waits for every pod to be gone. Per
// step it records the audit events/s the API server produced, kubetrail's lag p99 (stageTimestamp →
// spans durable, its kubetrail_event_lag_seconds histogram), the CPU and peak RSS of kubetrail and
// of every cluster component, the API server's apiserver_audit_* counters and the batches kubetrail
// refused, and whether every pod's trace is complete afterwards (create, binding, status, delete,
// pod → node). A step that does not finish in time stops the ladder (the reason is recorded).
//   node bench/kwok-scale.ts [--steps 100,1000,5000,12100] [--replicas 400] [--deployments 4] [--no-informers] [--workdir DIR]
//                            [--nodes-only: each step only creates its nodes and waits until they are Ready]
//                            [--hold SECONDS: keep the nodes after the last step, recording the fewest Ready]
//                            [--kwok-defaults: kwok's own heartbeat and worker settings, not the ones for thousands of nodes]
//                            [--deadline ISO-TIME (default $BENCH_KWOK_DEADLINE): stop the ladder then]
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'node:https';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { parse as parseYaml } from 'yaml';
import {
  REPO_ROOT,
  cpuSeconds,
  freePort,
  histogramBuckets,
  metricSumWhere,
  quantileOfDiff,
  round,
  rssMb,
  run,
  samples,
  startDaemon,
  stopChild,
  waitFor,
} from './lib.ts';
import { DatabaseSync } from 'node:sqlite';
import { apiserverAudit, auditDelta, missingPodParts, type ApiserverAudit, type PodSpanRow } from './kwok-scale-check.ts';

const CLUSTER = 'kt-scale';
/** Time given, before the first step, to the audit batches the API server queued while kubetrail started. */
const SETTLE_MS = 20_000;
const KWOK_SH = join(REPO_ROOT, 'deploy/stack/kwok.sh');
/** kwok tuned for thousands of nodes (docs/performance.md, section 5): more lease and node-stage workers... */
const KWOK_CONFIG = join(REPO_ROOT, 'bench/kwok-scale-kwok.yaml');
/** ...and kwokctl's heartbeat factor (default 5): node lease duration 40 s × factor (renewed every quarter of it), the
 * controller-manager's node monitor grace period 40 s × factor, so 12,100 nodes renew ~120 leases/s instead of ~240. */
const KWOKCTL_FLAGS = ['--heartbeat-factor', '10'];

export interface ScaleStep {
  nodes: number;
  pods: number;
  seconds: number;
  /** Seconds of each phase: nodes created (nodesCreated) and Ready, pods Running, rollout done, all pods gone, traces checked. */
  phases: Record<string, number>;
  auditEventsPerSec: number;
  audit: ApiserverAudit;
  /** Audit events kubetrail received in the step, and the webhook requests it answered non-2xx (the API server retries those). */
  kubetrailEventsReceived: number;
  kubetrailRefusedBatches: number;
  /** The API server's audit webhook POSTs by HTTP code (its rest_client_requests_total for kubetrail's host; "<error>": no answer). Each non-2xx one was retried or, after its retries, dropped. */
  webhookPosts: Record<string, number>;
  lagP50Sec?: number;
  lagP99Sec?: number;
  lagCount: number;
  /** kubetrail's own share: p99 of its audit webhook requests, arrival → answer (kubetrail_webhook_request_seconds). */
  requestP99Sec?: number;
  /** p99 of the API server's mutating requests (apiserver_request_duration_seconds, POST/PUT/PATCH/DELETE). */
  apiserverWriteP99Sec?: number;
  /** Per process: CPU seconds in the step, CPU % of one core, peak RSS sampled every second (MB). */
  cpuSec: Record<string, number>;
  cpuPercent: Record<string, number>;
  peakRssMb: Record<string, number>;
  traces: Completeness;
  error?: string;
}

export interface KwokScaleResult {
  date: string;
  ladder: number[];
  replicas: number;
  deployments: number;
  informers: boolean;
  /** --nodes-only: the steps created nodes and nothing else. */
  nodesOnly?: boolean;
  /** --kwok-defaults: kwok and kwokctl as they come, without the tuning for thousands of nodes. */
  kwokDefaults?: boolean;
  /** --hold: after the last step, the fewest and the last Ready nodes seen while the nodes were kept. */
  hold?: { seconds: number; minReady: number; lastReady: number; cpuSec: Record<string, number> };
  steps: ScaleStep[];
  /** Where the ladder stopped and why (absent: every step finished). */
  stopped?: string;
  seconds: number;
}

type Api = (method: string, path: string, body?: unknown, contentType?: string) => Promise<{ status: number; text: string }>;

/** Authenticated requests to the API server over one keep-alive agent. */
function kubeApi(kc: KubeConfig): Api {
  const server = kc.getCurrentCluster()!.server;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return async (method, path, body, contentType = 'application/json') => {
    const opts: { method: string; headers: Record<string, string>; agent?: Agent } = { method, headers: { accept: 'application/json, text/plain' } };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) Object.assign(opts.headers, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(payload)) });
    await kc.applyToHTTPSOptions(opts);
    opts.agent = agent;
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, server), { ...opts, timeout: 120_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
}

async function must(api: Api, method: string, path: string, body?: unknown, contentType?: string): Promise<string> {
  const r = await api(method, path, body, contentType);
  if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r.text;
}

/** Ready nodes and live pods (by namespace) as watches see them, so waiting lists nothing. */
class ClusterView {
  readyNodes = new Set<string>();
  /** uid → pod, per namespace; `gone` once the watch saw it deleted. */
  pods = new Map<string, Map<string, { name: string; gone: boolean }>>();
  #aborts: AbortController[] = [];
  #stopped = false;
  #kc: KubeConfig;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  async start(): Promise<void> {
    await this.#watch('/api/v1/nodes', (type, o) => {
      const ready = o.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      if (type !== 'DELETED' && ready) this.readyNodes.add(o.metadata.name);
      else this.readyNodes.delete(o.metadata.name);
    });
    await this.#watch('/api/v1/pods', (type, o) => {
      const ns = o.metadata.namespace as string;
      if (!ns.startsWith('scale-')) return;
      let m = this.pods.get(ns);
      if (!m) this.pods.set(ns, (m = new Map()));
      m.set(o.metadata.uid, { name: o.metadata.name, gone: type === 'DELETED' });
    });
  }

  livePods(ns: string): number {
    let n = 0;
    for (const p of this.pods.get(ns)?.values() ?? []) if (!p.gone) n++;
    return n;
  }

  /** A watch that resumes where it ended (the API server closes watches after a while). */
  async #watch(path: string, on: (type: string, o: any) => void): Promise<void> {
    let rv: string | undefined;
    const start = async (): Promise<void> => {
      const w = new Watch(this.#kc);
      const ac = await w.watch(
        path,
        { allowWatchBookmarks: true, ...(rv ? { resourceVersion: rv } : {}) },
        (type, o) => {
          rv = o?.metadata?.resourceVersion ?? rv;
          if (type !== 'BOOKMARK') on(type, o);
        },
        () => {
          if (!this.#stopped) setTimeout(() => void start().catch(() => undefined), 500);
        },
      );
      this.#aborts.push(ac);
    };
    await start();
  }

  stop(): void {
    this.#stopped = true;
    for (const a of this.#aborts) a.abort();
  }
}

/** Every process to measure: kubetrail, and the cluster's components from kwokctl's pid files. */
function processes(clusterDir: string, kubetrailPid: number): Record<string, number> {
  const out: Record<string, number> = { kubetrail: kubetrailPid };
  for (const f of readdirSync(join(clusterDir, 'pids'))) {
    if (f.endsWith('.pid')) out[f.slice(0, -4)] = Number(readFileSync(join(clusterDir, 'pids', f), 'utf8').trim());
  }
  return out;
}

/** Samples every process's resident set each second; `peak()` gives the maxima since the last reset. */
function rssSampler(pids: Record<string, number>) {
  let peak: Record<string, number> = {};
  const sample = () => {
    for (const [k, pid] of Object.entries(pids)) {
      const v = rssMb(pid);
      if (v !== undefined) peak[k] = Math.max(peak[k] ?? 0, v);
    }
  };
  const timer = setInterval(sample, 1000);
  return {
    peak: () => {
      sample();
      return { ...peak };
    },
    reset: () => {
      peak = {};
    },
    stop: () => clearInterval(timer),
  };
}

interface Snapshot {
  at: number;
  apiserver: string;
  kubetrail: string;
  cpu: Record<string, number>;
}

/** CPU seconds (user + system) so far of each process. */
function cpuOf(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? NaN]));
}

async function snapshot(api: Api, kubetrailUrl: string, pids: Record<string, number>): Promise<Snapshot> {
  const [apiserver, kubetrail] = await Promise.all([must(api, 'GET', '/metrics'), fetch(`${kubetrailUrl}/metrics`).then((r) => r.text())]);
  return { at: performance.now(), apiserver, kubetrail, cpu: cpuOf(pids) };
}

const RECEIVED = 'kubetrail_audit_events_received_total';
const REQUESTS = 'kubetrail_webhook_requests_total';
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'CREATE', 'UPDATE', 'APPLY']);

/** The step's numbers from the snapshots before and after it. */
function measure(a: Snapshot, b: Snapshot, webhookHost: string) {
  const seconds = (b.at - a.at) / 1000;
  const audit = auditDelta(apiserverAudit(a.apiserver), apiserverAudit(b.apiserver));
  const ktQuantile = (name: string, q: number) => quantileOfDiff(histogramBuckets(a.kubetrail, name), histogramBuckets(b.kubetrail, name), q);
  const lag = (q: number) => ktQuantile('kubetrail_event_lag_seconds', q);
  const r3 = (v: number | undefined) => (v === undefined ? undefined : round(v, 3));
  const writes = (t: string) => histogramBuckets(t, 'apiserver_request_duration_seconds', (l) => WRITE_VERBS.has(l.verb ?? ''));
  const notOk = (l: Record<string, string>) => !l.code?.startsWith('2');
  const posts = (t: string) => samples(t, 'rest_client_requests_total', (l) => l.host === webhookHost);
  const webhookPosts: Record<string, number> = {};
  for (const x of posts(b.apiserver)) webhookPosts[x.labels.code!] = x.value;
  for (const x of posts(a.apiserver)) webhookPosts[x.labels.code!] = (webhookPosts[x.labels.code!] ?? 0) - x.value;
  const cpuSec: Record<string, number> = {};
  const cpuPercent: Record<string, number> = {};
  for (const k of Object.keys(b.cpu)) {
    cpuSec[k] = round(b.cpu[k]! - (a.cpu[k] ?? 0), 1);
    cpuPercent[k] = round((100 * cpuSec[k]!) / seconds, 0);
  }
  const p50 = lag(0.5);
  const p99 = lag(0.99);
  return {
    seconds: round(seconds, 1),
    audit,
    auditEventsPerSec: Math.round(audit.events / seconds),
    kubetrailEventsReceived: metricSumWhere(b.kubetrail, RECEIVED) - metricSumWhere(a.kubetrail, RECEIVED),
    webhookPosts,
    kubetrailRefusedBatches: metricSumWhere(b.kubetrail, REQUESTS, notOk) - metricSumWhere(a.kubetrail, REQUESTS, notOk),
    lagP50Sec: r3(p50.value),
    lagP99Sec: r3(p99.value),
    lagCount: p99.count,
    requestP99Sec: r3(ktQuantile('kubetrail_webhook_request_seconds', 0.99).value),
    apiserverWriteP99Sec: r3(quantileOfDiff(writes(a.apiserver), writes(b.apiserver), 0.99).value),
    cpuSec,
    cpuPercent,
  };
}

export interface Completeness {
  pods: number;
  complete: number;
  incomplete: number;
  /** Pods missing each part of the trace. */
  missing: Record<string, number>;
  /** A few incomplete pods and what they miss. */
  examples: string[];
}

/** Reads the traces of the namespace's pods out of the store (a WAL reader beside kubetrail's writer). */
function podCompleteness(storePath: string, ns: string, pods: Iterable<string>): Completeness {
  const db = new DatabaseSync(storePath, { readOnly: true });
  const rows = new Map<string, PodSpanRow[]>();
  try {
    const q = db.prepare(
      `SELECT s.obj_name AS name, s.kind AS kind, json_extract(s.attributes, '$.verb') AS verb,
              json_extract(s.attributes, '$.subresource') AS subresource, json_extract(s.attributes, '$."link.class"') AS linkClass
       FROM objects o JOIN spans s ON s.trace_id = o.trace_id
       WHERE o.cluster = ? AND o.grp = '' AND o.resource = 'pods' AND o.namespace = ?`,
    );
    for (const r of q.all(CLUSTER, ns) as unknown as Array<PodSpanRow & { name: string }>) {
      let list = rows.get(r.name);
      if (!list) rows.set(r.name, (list = []));
      list.push(r);
    }
  } finally {
    db.close();
  }
  const c: Completeness = { pods: 0, complete: 0, incomplete: 0, missing: {}, examples: [] };
  for (const name of pods) {
    c.pods++;
    const miss = missingPodParts(rows.get(name) ?? []);
    if (miss.length === 0) c.complete++;
    else {
      c.incomplete++;
      for (const m of miss) c.missing[m] = (c.missing[m] ?? 0) + 1;
      if (c.examples.length < 5) c.examples.push(`${name}: no ${miss.join(', ')}`);
    }
  }
  return c;
}

/** Wall-clock time after which the ladder stops (--deadline, BENCH_KWOK_DEADLINE): a run on a shared machine must end in time. */
let deadline = Infinity;

/** Polls until `done()`; throws naming `what` after `timeoutSec`, or when the deadline passed. */
async function until(what: string, timeoutSec: number, done: () => boolean | Promise<boolean>, progress?: () => string): Promise<void> {
  const t0 = Date.now();
  let lastLog = t0;
  for (;;) {
    if (await done()) return;
    if (Date.now() > deadline)
      throw new Error(`the run's deadline (${new Date(deadline).toISOString()}) passed waiting for ${what}${progress ? ` (${progress()})` : ''}`);
    if (Date.now() - t0 > timeoutSec * 1000) throw new Error(`timed out after ${timeoutSec} s waiting for ${what}${progress ? ` (${progress()})` : ''}`);
    if (progress && Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      process.stderr.write(`[kwok-scale]   ${what}: ${progress()}\n`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Creates the fake nodes kwok-node-<from>..<to-1> (32 at a time) and waits until `to` nodes are Ready; returns the seconds the creates took. */
async function scaleNodes(api: Api, view: ClusterView, from: number, to: number): Promise<number> {
  const t0 = performance.now();
  const template = readFileSync(join(REPO_ROOT, 'deploy/kwok/node.yaml'), 'utf8');
  const limit = pLimit(32);
  const created = Promise.all(
    Array.from({ length: to - from }, (_, i) =>
      limit(async () => {
        if (Date.now() > deadline) throw new Error(`the run's deadline passed creating nodes (${view.readyNodes.size} Ready)`);
        const body = parseYaml(template.replaceAll('@NAME@', `kwok-node-${from + i}`));
        const r = await api('POST', '/api/v1/nodes', body);
        if (r.status >= 300 && r.status !== 409) throw new Error(`creating node ${from + i}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      }),
    ),
  );
  await created.catch((e: unknown) => {
    limit.clearQueue();
    throw e;
  });
  const createSec = round((performance.now() - t0) / 1000, 1);
  await until(
    `${to} nodes Ready`,
    120 + to / 10,
    () => view.readyNodes.size >= to,
    () => `${view.readyNodes.size} Ready`,
  );
  return createSec;
}

interface DeploymentStatus {
  metadata: { name: string; generation: number };
  spec: { replicas: number };
  status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
}

/** All Deployments of `ns` rolled out: every replica updated and available, no old pod left. */
async function rolledOut(api: Api, ns: string): Promise<boolean> {
  const list = JSON.parse(await must(api, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments`)) as { items: DeploymentStatus[] };
  return list.items.every((d) => {
    const s = d.status ?? {};
    const want = d.spec.replicas;
    return (s.observedGeneration ?? 0) >= d.metadata.generation && s.updatedReplicas === want && s.availableReplicas === want && s.replicas === want;
  });
}

function deployment(name: string, replicas: number): unknown {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } },
    },
  };
}

interface Ctx {
  api: Api;
  view: ClusterView;
  store: string;
  kubetrailUrl: string;
  pids: Record<string, number>;
  rss: ReturnType<typeof rssSampler>;
  deployments: number;
  replicas: number;
  /** Only create nodes and wait until they are Ready: no workload, no traces (measures the cluster's node throughput). */
  nodesOnly: boolean;
}

/** Deploys, rolls and deletes the step's Deployments in namespace `ns`; records each phase's seconds. */
async function workload(c: Ctx, ns: string, phases: Record<string, number>): Promise<void> {
  const timed = async (phase: string, fn: () => Promise<void>) => {
    const t = performance.now();
    process.stderr.write(`[kwok-scale]  ${phase}\n`);
    await fn();
    phases[phase] = round((performance.now() - t) / 1000, 1);
  };
  const base = `/apis/apps/v1/namespaces/${ns}/deployments`;
  const names = Array.from({ length: c.deployments }, (_, i) => `app-${i}`);
  const per = Math.ceil(c.replicas / c.deployments);
  const progress = () => `${c.view.livePods(ns)} pods`;
  await timed('running', async () => {
    await must(c.api, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await until('the default ServiceAccount', 60, async () => (await c.api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200);
    for (const n of names) await must(c.api, 'POST', base, deployment(n, per));
    await until(`${per * names.length} pods running`, 600, () => rolledOut(c.api, ns), progress);
  });
  await timed('rollout', async () => {
    const patch = { spec: { template: { metadata: { annotations: { 'bench/rolled': new Date().toISOString() } } } } };
    for (const n of names) await must(c.api, 'PATCH', `${base}/${n}`, patch, 'application/merge-patch+json');
    await until('the rollout', 600, () => rolledOut(c.api, ns), progress);
  });
  await timed('delete', async () => {
    for (const n of names) await must(c.api, 'DELETE', `${base}/${n}?propagationPolicy=Background`);
    await until('every pod gone', 600, () => c.view.livePods(ns) === 0, progress);
  });
}

/** Waits (≤ 90 s, ≤ 20 s without progress) until every pod the watch saw has a complete trace. */
async function checkTraces(c: Ctx, ns: string): Promise<Completeness> {
  const names = [...(c.view.pods.get(ns)?.values() ?? [])].map((p) => p.name);
  const t0 = Date.now();
  let best = -1;
  let bestAt = t0;
  for (;;) {
    const r = podCompleteness(c.store, ns, names);
    if (r.complete > best) [best, bestAt] = [r.complete, Date.now()];
    if (r.incomplete === 0 || Date.now() - t0 > 90_000 || Date.now() - bestAt > 20_000) return r;
    await new Promise((res) => setTimeout(res, 2000));
  }
}

async function runStep(c: Ctx, nodes: number, from: number): Promise<ScaleStep> {
  process.stderr.write(`[kwok-scale] step: ${nodes} nodes\n`);
  const before = await snapshot(c.api, c.kubetrailUrl, c.pids);
  c.rss.reset();
  const phases: Record<string, number> = {};
  const ns = `scale-${nodes}`;
  let error: string | undefined;
  let traces: Completeness = { pods: 0, complete: 0, incomplete: 0, missing: {}, examples: [] };
  try {
    const t = performance.now();
    phases.nodesCreated = await scaleNodes(c.api, c.view, from, nodes);
    phases.nodes = round((performance.now() - t) / 1000, 1);
    if (!c.nodesOnly) {
      await workload(c, ns, phases);
      const t2 = performance.now();
      traces = await checkTraces(c, ns);
      phases.traces = round((performance.now() - t2) / 1000, 1);
    }
  } catch (e) {
    error = (e as Error).message;
    process.stderr.write(`[kwok-scale]  FAILED: ${error}\n`);
  }
  // a component that died (the API server out of memory, say) leaves no metrics: the step keeps its error and /proc's numbers
  const after = await snapshot(c.api, c.kubetrailUrl, c.pids).catch((e: unknown) => {
    error = `${error ?? 'the step finished'}; no metrics after it: ${(e as Error).message}`;
    return { ...before, at: performance.now(), cpu: cpuOf(c.pids) };
  });
  const m = measure(before, after, new URL(c.kubetrailUrl).host);
  const step: ScaleStep = { nodes, pods: traces.pods, phases, ...m, peakRssMb: c.rss.peak(), traces, ...(error ? { error } : {}) };
  process.stderr.write(`[kwok-scale]  ${JSON.stringify(step)}\n`);
  return step;
}

/** Starts the cluster (no nodes yet) whose audit webhook posts to `webhookPort`; resolves with its kubeconfig and directory. */
async function clusterUp(workdir: string, webhookPort: number, kwokDefaults: boolean): Promise<{ kubeconfig: string; clusterDir: string }> {
  const args = ['up', '--name', CLUSTER, '--nodes', '0', '--webhook-port', String(webhookPort), '--apiserver-port', String(await freePort())];
  args.push('--workdir', join(workdir, 'kwok'));
  if (!kwokDefaults) args.push('--extra-config', KWOK_CONFIG, '--', ...KWOKCTL_FLAGS);
  const r = await run('bash', [KWOK_SH, ...args]);
  if (r.code !== 0) throw new Error(`kwok.sh up failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const env = Object.fromEntries(
    r.stdout.split('\n').flatMap((l) => (/^[A-Z_]+=./.test(l) ? [[l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]] : [])),
  );
  return { kubeconfig: env.KUBECONFIG!, clusterDir: env.CLUSTER_DIR! };
}

async function startServe(kubeconfig: string, store: string, webhookPort: number, informers: boolean) {
  const args = ['serve', '--kubeconfig', kubeconfig, '--cluster', CLUSTER, '--webhook-port', String(webhookPort), '--webhook-host', '127.0.0.1'];
  args.push('--store', store, '--no-query', '--log-level', 'warn', ...(informers ? [] : ['--no-informers']));
  const kt = startDaemon(process.execPath, [join(REPO_ROOT, 'src/cli.ts'), ...args]);
  await waitFor('kubetrail serve /readyz', 180_000, async () => {
    if (kt.child.exitCode !== null) throw new Error(`kubetrail serve exited: ${kt.output().slice(-2000)}`);
    return (await fetch(`http://127.0.0.1:${webhookPort}/readyz`)).ok;
  });
  return kt;
}

export interface KwokScaleOptions {
  ladder: number[];
  replicas: number;
  deployments: number;
  informers: boolean;
  nodesOnly: boolean;
  kwokDefaults: boolean;
  holdSec: number;
  workdir: string;
}

/** Keeps the cluster `seconds` after the last step and samples its Ready nodes every second (do heartbeats keep them Ready?). */
async function hold(view: ClusterView, pids: Record<string, number>, seconds: number): Promise<NonNullable<KwokScaleResult['hold']>> {
  process.stderr.write(`[kwok-scale] holding ${view.readyNodes.size} Ready nodes for ${seconds} s\n`);
  const cpu0 = cpuOf(pids);
  let minReady = view.readyNodes.size;
  for (let i = 1; i <= seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    minReady = Math.min(minReady, view.readyNodes.size);
    if (i % 30 === 0) process.stderr.write(`[kwok-scale]   hold ${i} s: ${view.readyNodes.size} Ready (fewest ${minReady})\n`);
  }
  const cpu1 = cpuOf(pids);
  const cpuSec = Object.fromEntries(Object.keys(cpu1).map((k) => [k, round(cpu1[k]! - cpu0[k]!, 1)]));
  return { seconds, minReady, lastReady: view.readyNodes.size, cpuSec };
}

export async function kwokScale(o: KwokScaleOptions): Promise<KwokScaleResult> {
  const t0 = performance.now();
  rmSync(o.workdir, { recursive: true, force: true });
  mkdirSync(o.workdir, { recursive: true });
  const webhookPort = await freePort();
  const down = () => run('bash', [KWOK_SH, 'down', '--name', CLUSTER, '--workdir', join(o.workdir, 'kwok')], { quiet: true });
  const onSignal = () => void down().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const result: KwokScaleResult = {
    date: new Date().toISOString(),
    ladder: o.ladder,
    replicas: o.replicas,
    deployments: o.deployments,
    informers: o.informers,
    ...(o.nodesOnly ? { nodesOnly: true } : {}),
    ...(o.kwokDefaults ? { kwokDefaults: true } : {}),
    steps: [],
    seconds: 0,
  };
  let kt: ReturnType<typeof startDaemon> | undefined;
  let view: ClusterView | undefined;
  let rss: ReturnType<typeof rssSampler> | undefined;
  try {
    const { kubeconfig, clusterDir } = await clusterUp(o.workdir, webhookPort, o.kwokDefaults);
    const store = join(o.workdir, 'kt.sqlite');
    kt = await startServe(kubeconfig, store, webhookPort, o.informers);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    view = new ClusterView(kc);
    await view.start();
    const pids = processes(clusterDir, kt.child.pid!);
    rss = rssSampler(pids);
    // the batches the API server queued while kubetrail was starting arrive late (its retries): not part of any step
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const c: Ctx = {
      api: kubeApi(kc),
      view,
      store,
      kubetrailUrl: `http://127.0.0.1:${webhookPort}`,
      pids,
      rss,
      deployments: o.deployments,
      replicas: o.replicas,
      nodesOnly: o.nodesOnly,
    };
    let from = 0;
    for (const nodes of o.ladder) {
      const step = await runStep(c, nodes, from);
      result.steps.push(step);
      if (step.error) {
        result.stopped = `at ${nodes.toLocaleString('en-US')} nodes: ${step.error}`;
        break;
      }
      from = nodes;
    }
    if (o.holdSec > 0 && !result.stopped) result.hold = await hold(view, pids, o.holdSec);
  } finally {
    rss?.stop();
    view?.stop();
    if (kt) await stopChild(kt.child, 60_000);
    await down();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    rmSync(o.workdir, { recursive: true, force: true });
  }
  result.seconds = round((performance.now() - t0) / 1000, 0);
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      steps: { type: 'string', default: '100,1000,5000,12100' },
      replicas: { type: 'string', default: '400' },
      deployments: { type: 'string', default: '4' },
      'no-informers': { type: 'boolean' },
      'nodes-only': { type: 'boolean' },
      'kwok-defaults': { type: 'boolean' },
      hold: { type: 'string', default: '0' },
      workdir: { type: 'string' },
      deadline: { type: 'string', default: process.env.BENCH_KWOK_DEADLINE },
    },
  });
  if (values.deadline) deadline = Date.parse(values.deadline);
  const r = await kwokScale({
    ladder: values.steps.split(',').map(Number),
    replicas: Number(values.replicas),
    deployments: Number(values.deployments),
    informers: !values['no-informers'],
    nodesOnly: values['nodes-only'] ?? false,
    kwokDefaults: values['kwok-defaults'] ?? false,
    holdSec: Number(values.hold),
    workdir: values.workdir ?? join(REPO_ROOT, '.kubetrail/bench/kwok-scale'),
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}
