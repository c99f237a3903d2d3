// Records the diagnosis corpus on a real KWOK cluster (the test stack's binaries,
// deploy/stack/kwok.sh, with the kwok Stages of kwok-stages.yaml) while `kubetrail serve` receives
// the cluster's audit webhook. Each scenario (scenarios/<name>/scenario.ts) runs alone in its own
// namespace; its artifact, written beside it, is the slice of the API server's audit log between
// its start and end (other scenarios' namespaces left out) as audit.log.gz, the Kubernetes Events
// of its namespace and of nodes as events.json.gz, timeline.tsv and recording.json. Between
// scenarios the standard nodes are restored (Ready, untainted, unlabelled).
//   node bench/diagnose-corpus/record.ts [--only a,b] [--workdir DIR] [--keep-cluster]
// Needs deploy/stack/build.sh to have run. CPU-heavy: one scenario at a time, ~1–2 min each.
import { spawn } from 'node:child_process';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { freePort, REPO_ROOT } from '../lib.ts';
import { parseLabels } from './labels.ts';
import { execKubectl, type KubectlOptions, type Scenario, type ScenarioContext } from './scenario-lib.ts';

const HERE = join(REPO_ROOT, 'bench/diagnose-corpus');
export const SCENARIOS_DIR = join(HERE, 'scenarios');
const CLUSTER = 'corpus';
const NODES = ['kwok-node-0', 'kwok-node-1', 'kwok-node-2'];

interface Cluster {
  kubeconfig: string;
  auditLog: string;
  clusterDir: string;
  kubectlPath: string;
  webhookPort: number;
  /** Where the current scenario's part of the audit log starts. */
  offset: number;
  stop(): Promise<void>;
}

const log = (msg: string) => process.stderr.write(`[record ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

async function startCluster(workdir: string, keep: boolean): Promise<Cluster> {
  const [webhookPort, apiserverPort] = [await freePort(), await freePort()];
  const kwok = join(REPO_ROOT, 'deploy/stack/kwok.sh');
  const common = ['--name', CLUSTER, '--workdir', join(workdir, 'kwok')];
  const out = await sh('bash', [
    kwok,
    'up',
    ...common,
    '--nodes',
    String(NODES.length),
    '--webhook-port',
    String(webhookPort),
    '--webhook-path',
    `/audit/${CLUSTER}`,
    '--apiserver-port',
    String(apiserverPort),
    '--extra-config',
    join(HERE, 'kwok-stages.yaml'),
  ]);
  const env = Object.fromEntries(out.split('\n').flatMap((l) => (/^([A-Z_]+)=(.*)$/.exec(l) ? [l.split(/=(.*)/s).slice(0, 2)] : [])));
  // `kubetrail serve` receives the audit webhook, as in production (its store is a live copy;
  // the artifact is cut from the API server's own log file, which has the same events)
  const serve = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'src/cli.ts'),
      'serve',
      '--cluster',
      CLUSTER,
      '--no-informers',
      '--no-query',
      '--webhook-port',
      String(webhookPort),
      '--store',
      join(workdir, 'live.sqlite'),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const stop = async () => {
    serve.kill('SIGTERM');
    if (!keep) await sh('bash', [kwok, 'down', ...common]).catch((e: Error) => log(e.message));
  };
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${webhookPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 60 || serve.exitCode !== null) {
      await stop();
      throw new Error('kubetrail serve did not become ready');
    }
    await sleep(1000);
  }
  return {
    kubeconfig: env.KUBECONFIG!,
    auditLog: env.AUDIT_LOG!,
    clusterDir: env.CLUSTER_DIR!,
    kubectlPath: env.KUBECTL || 'kubectl',
    webhookPort,
    offset: 0,
    stop,
  };
}

function nodeManifest(name: string, labels: Record<string, string> = {}): Record<string, any> {
  const node = parseYaml(readFileSync(join(REPO_ROOT, 'deploy/kwok/node.yaml'), 'utf8').replaceAll('@NAME@', name)) as Record<string, any>;
  node.metadata.labels = { ...node.metadata.labels, ...labels };
  return node;
}

function makeContext(c: Cluster, ns: string, timeline: string[]): ScenarioContext {
  const kubectl = (args: string[], opts: KubectlOptions = {}) => execKubectl(c.kubectlPath, c.kubeconfig, opts.noNamespace ? args : ['-n', ns, ...args], opts);
  const ctx: ScenarioContext = {
    ns,
    nodes: NODES,
    kubectl,
    apply: async (as, ...objects) => {
      await kubectl(['apply', '-f', '-'], { as, input: objects.map((o) => JSON.stringify(o)).join('\n') });
    },
    waitFor: async (what, check, timeoutMs = 90_000) => {
      const end = Date.now() + timeoutMs;
      while (!(await check().catch(() => false))) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(1000);
      }
    },
    sleep,
    step: (text) => {
      timeline.push(`${new Date().toISOString()}\t${text}`);
      log(`  ${text}`);
    },
    pause: async (component, ms) => {
      const pid = Number(readFileSync(join(c.clusterDir, 'pids', `${component}.pid`), 'utf8').trim());
      process.kill(pid, 'SIGSTOP');
      try {
        await sleep(ms);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    },
    nodeManifest,
    request: (as, method, path, body, contentType = 'application/merge-patch+json') => apiRequest(c.kubeconfig, as, method, path, body, contentType),
  };
  return ctx;
}

async function apiRequest(kubeconfig: string, as: string, method: string, path: string, body: object | undefined, contentType: string): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const opts: RequestOptions = { method, headers: { 'Impersonate-User': as, 'Impersonate-Group': 'system:masters', 'Content-Type': contentType } };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, opts, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Nodes back to the standard three: Ready, no taints, no chaos labels; extra nodes removed. */
async function restoreNodes(c: Cluster): Promise<void> {
  const k = (args: string[], input?: string) => execKubectl(c.kubectlPath, c.kubeconfig, args, { input });
  const list = JSON.parse(await k(['get', 'nodes', '-o', 'json'])) as { items: any[] };
  for (const n of list.items) {
    const name = n.metadata.name as string;
    const ready = n.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True');
    const dirty = n.spec?.taints?.length || n.spec?.unschedulable || Object.keys(n.metadata.labels ?? {}).some((l) => l.includes('stage.kwok.x-k8s.io'));
    if (!NODES.includes(name) || !ready || dirty) await k(['delete', 'node', name, '--wait=true']);
  }
  const present = new Set(JSON.parse(await k(['get', 'nodes', '-o', 'json'])).items.map((n: any) => n.metadata.name));
  const missing = NODES.filter((n) => !present.has(n));
  if (missing.length) await k(['apply', '-f', '-'], missing.map((n) => JSON.stringify(nodeManifest(n))).join('\n'));
  for (let i = 0; i < 60; i++) {
    const out = await k(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}']);
    if (out.split('\n').filter((s) => s === 'True').length >= NODES.length) return;
    await sleep(1000);
  }
  throw new Error('the standard nodes did not become Ready again');
}

const SYSTEM_NAMESPACES = new Set(['', 'default', 'kube-system', 'kube-public', 'kube-node-lease']);

/**
 * Thrown when the cluster holds objects no scenario made: another cluster on this machine writes to
 * our etcd (it happened when kwokctl gave two clusters created at the same moment the same port,
 * before kwok.sh chose the ports itself). The recording is worthless then; the recorder stops.
 */
class ForeignClusterError extends Error {}

function checkOwnNamespaces(namespaces: Iterable<string>, own: string, where: string, others = new Set<string>()): void {
  const ours = (n: string) => SYSTEM_NAMESPACES.has(n) || [own, ...others].some((o) => n === o || n.startsWith(`${o}-`));
  const foreign = [...new Set(namespaces)].filter((n) => !ours(n));
  if (foreign.length)
    throw new ForeignClusterError(
      `${where}: namespaces no scenario made (${foreign.join(', ')}): another cluster writes to this one's etcd; re-run the recorder`,
    );
}

/** Audit events from `offset` of the log with stageTimestamp in [start, end], minus other scenarios' namespaces. */
async function sliceAudit(file: string, offset: number, start: string, end: string, others: Set<string>): Promise<string[]> {
  const foreign = (ns: string | undefined) => !!ns && [...others].some((o) => ns === o || ns.startsWith(`${o}-`));
  const lines: string[] = [];
  const rl = createInterface({ input: createReadStream(file, { start: offset }), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const ev = JSON.parse(line) as { stageTimestamp?: string; objectRef?: { namespace?: string; resource?: string; name?: string } };
    const t = ev.stageTimestamp ?? '';
    if (t < start || t > end) continue;
    const ref = ev.objectRef ?? {};
    if (foreign(ref.namespace) || (ref.resource === 'namespaces' && foreign(ref.name))) continue;
    lines.push(line);
  }
  return lines;
}

async function eventsOf(c: Cluster, ns: string, start: string): Promise<object[]> {
  const all = JSON.parse(await execKubectl(c.kubectlPath, c.kubeconfig, ['get', 'events', '-A', '-o', 'json'])) as { items: any[] };
  return all.items.filter((e) => {
    const n = e.metadata.namespace as string;
    const t = (e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp) as string;
    return n === ns || n.startsWith(`${ns}-`) || (e.involvedObject?.kind === 'Node' && t >= start.slice(0, 19));
  });
}

async function recordOne(c: Cluster, name: string, others: Set<string>): Promise<void> {
  const dir = join(SCENARIOS_DIR, name);
  const labels = parseLabels(readFileSync(join(dir, 'labels.json'), 'utf8'), name);
  const scenario = (await import(join(dir, 'scenario.ts'))).default as Scenario;
  const ns = labels.namespace;
  const timeline: string[] = ['time\tstep'];
  const ctx = makeContext(c, ns, timeline);
  await restoreNodes(c);
  const present = (await ctx.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}'], { noNamespace: true })).split(' ');
  checkOwnNamespaces(present, ns, 'before the scenario', others);
  c.offset = existsSync(c.auditLog) ? statSync(c.auditLog).size : 0;
  const start = new Date().toISOString();
  log(`${name}: recording in namespace ${ns}`);
  await ctx.kubectl(['create', 'namespace', ns], { noNamespace: true });
  await ctx.waitFor('the default ServiceAccount', async () => (await ctx.kubectl(['get', 'serviceaccount', 'default', '-o', 'name'])).trim() !== '');
  let failure: Error | undefined;
  await scenario.run(ctx).catch((e: Error) => (failure = e));
  await sleep(3000);
  const end = new Date().toISOString();
  ctx.step('end of the recording window');
  await sleep(3000); // the file log is written as requests complete; let the last ones land
  if (!failure) await saveArtifact(c, dir, { scenario: name, namespace: ns, start, end }, others, timeline);
  await scenario.cleanup?.(ctx).catch((e: Error) => log(`${name}: cleanup failed: ${e.message}`));
  await ctx.kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=120s'], { noNamespace: true, allowFail: true });
  if (failure) throw failure;
}

/** Writes the artifact of one recorded scenario beside its script. */
async function saveArtifact(
  c: Cluster,
  dir: string,
  w: { scenario: string; namespace: string; start: string; end: string },
  others: Set<string>,
  timeline: string[],
): Promise<void> {
  const audit = await sliceAudit(c.auditLog, c.offset, w.start, w.end, others);
  const events = await eventsOf(c, w.namespace, w.start);
  checkOwnNamespaces(
    audit.map((l) => (JSON.parse(l) as { objectRef?: { namespace?: string } }).objectRef?.namespace ?? ''),
    w.namespace,
    `the audit log of ${w.scenario}`,
  );
  writeFileSync(join(dir, 'audit.log.gz'), gzipSync(`${audit.join('\n')}\n`, { level: 9 }));
  writeFileSync(join(dir, 'events.json.gz'), gzipSync(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: events }), { level: 9 }));
  writeFileSync(join(dir, 'timeline.tsv'), `${timeline.join('\n')}\n`);
  const meta = { ...w, cluster: CLUSTER, auditEvents: audit.length, events: events.length, recordedAt: new Date().toISOString() };
  writeFileSync(join(dir, 'recording.json'), `${JSON.stringify(meta, null, 2)}\n`);
  log(`${w.scenario}: ${audit.length} audit events, ${events.length} Events (${w.start} → ${w.end})`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, workdir: { type: 'string' }, 'keep-cluster': { type: 'boolean' } } });
  const all = readdirSync(SCENARIOS_DIR)
    .filter((d) => existsSync(join(SCENARIOS_DIR, d, 'scenario.ts')))
    .sort();
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : all;
  for (const n of names) if (!all.includes(n)) throw new Error(`no scenario ${n} (have: ${all.join(', ')})`);
  const workdir = values.workdir ?? join(REPO_ROOT, '.kubetrail/corpus-record');
  mkdirSync(workdir, { recursive: true });
  const c = await startCluster(workdir, Boolean(values['keep-cluster']));
  const onSignal = () => void c.stop().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failed = 0;
  try {
    for (const name of names) {
      const others = new Set(all.filter((n) => n !== name).map((n) => parseLabels(readFileSync(join(SCENARIOS_DIR, n, 'labels.json'), 'utf8'), n).namespace));
      const err = await recordOne(c, name, others).then(
        () => undefined,
        (e: Error) => e,
      );
      if (!err) continue;
      failed++;
      log(`${name} FAILED: ${err.message}`);
      if (err instanceof ForeignClusterError) break;
    }
  } finally {
    await c.stop();
  }
  return failed ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
