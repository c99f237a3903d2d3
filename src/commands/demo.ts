// `kubetrail demo` (what `npm start` runs): replay the recorded KWOK scenario into a fresh store,
// serve the query API and UI, print the URL and a link to the scenario's Deployment.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { SqliteStore } from '../sinks/sqlite-store.ts';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { instrument } from '../sinks/index.ts';
import { startQueryServer } from './query-server.ts';
import { replayFiles } from './replay.ts';
import { formatSummary } from '../sources/replay.ts';
import { defaultTracerConfig } from '../core/config.ts';
import { objectKey, type ObjectRef } from '../core/model.ts';
import { rawTraceId } from '../core/ids.ts';
import { log } from '../core/log.ts';
import { addLogOptions, applyLogLevel, checkListen, parsePort } from './options.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Where the recorded scenario lives, then fallbacks while it is not recorded yet. */
export const SCENARIO_DIRS = [join(REPO, 'examples', 'kwok-scenario'), join(REPO, 'test', 'fixtures', 'audit')];

/** The logs of the first scenario directory that has any: audit.log, audit.log.1, audit.log.gz, audit*.jsonl, events*.json. */
export function findScenarioLogs(dirs: string[] = SCENARIO_DIRS): { dir: string; files: string[] } | undefined {
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    const files = readdirSync(dir)
      // audit logs (rotated, gzipped) and dumps of Kubernetes Events (`kubectl get events -o json`)
      .filter((f) => /^audit.*\.(log|jsonl?)(\.\d+)?(\.gz)?$|^audit\.log|^events.*\.json(\.gz)?$/.test(f))
      .sort()
      .map((f) => join(dir, f));
    if (files.length > 0) return { dir, files };
  }
  return undefined;
}

interface DemoOptions {
  port: number;
  host: string;
  allowUnauthenticated: boolean;
  store?: string;
  scenario?: string;
  cluster: string;
  logLevel?: string;
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('replay the recorded KWOK scenario (examples/kwok-scenario) into a fresh store and open the UI')
    .option('--port <port>', 'query API and UI port', parsePort, 16686)
    .option('--host <host>', 'address to listen on; a non-loopback one needs --allow-unauthenticated', '127.0.0.1')
    .option('--allow-unauthenticated', 'allow a non-loopback --host (logged as a warning)', false)
    .option('--store <file>', 'store file to (re)create (default: a cache file)')
    .option('--scenario <dir>', 'directory with audit.log* to replay instead of examples/kwok-scenario')
    .option('--cluster <name>', 'cluster name of the recording', 'kwok');
  addLogOptions(cmd);
  return cmd.action(async (o: DemoOptions) => {
    applyLogLevel(o);
    const warning = checkListen({ flag: '--host', host: o.host, allowUnauthenticated: o.allowUnauthenticated });
    if (warning) log.warn(warning);
    await demo(o);
  });
}

function demoStorePath(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'kubetrail', 'demo.sqlite');
}

async function pickDeployment(store: SqliteBackend): Promise<{ object: ObjectRef; tsUs: number } | undefined> {
  const found = await store.findObjects({ group: 'apps', resource: 'deployments', startUs: 0, endUs: Number.MAX_SAFE_INTEGER, limit: 100 });
  const ours = found.find((f) => !f.object.namespace.startsWith('kube-')) ?? found[0];
  if (!ours) return undefined;
  const spans = await Promise.all(ours.windows.map((w) => store.getRawTrace(rawTraceId(objectKey(ours.object), w))));
  const events = spans
    .flat()
    .filter((s) => s.kind === 'event')
    .map((s) => s.startUs);
  const tsUs = events.length > 0 ? events.reduce((a, b) => Math.min(a, b)) : ours.windows[0]! * 1e6;
  return { object: ours.object, tsUs };
}

export async function demo(o: DemoOptions): Promise<void> {
  const scenario = findScenarioLogs(o.scenario ? [o.scenario] : SCENARIO_DIRS);
  if (!scenario) {
    throw new Error(`no audit logs found in ${(o.scenario ? [o.scenario] : SCENARIO_DIRS).join(' or ')}`);
  }
  const path = o.store ?? demoStorePath();
  for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  const store = new SqliteStore(path);
  process.stderr.write(`replaying ${scenario.files.length} file(s) from ${scenario.dir} into ${path}\n`);
  const summary = await replayFiles({ files: scenario.files, cluster: o.cluster, sink: instrument(store, 'store'), progress: Boolean(process.stderr.isTTY) });
  process.stderr.write(`${formatSummary(summary)}\n`);
  const reader = new SqliteBackend(store);
  const query = await startQueryServer({ backend: reader, windowSec: defaultTracerConfig.windowSec, port: o.port, host: o.host });
  const base = query.url.endsWith('/') ? query.url : `${query.url}/`;
  process.stdout.write(`kubetrail UI: ${base}\n`);
  const dep = await pickDeployment(reader);
  if (dep) {
    const q = new URLSearchParams({
      cluster: dep.object.cluster,
      group: dep.object.group,
      resource: dep.object.resource,
      namespace: dep.object.namespace,
      name: dep.object.name,
      ts: new Date(dep.tsUs / 1000).toISOString(),
    });
    process.stdout.write(`Deployment ${dep.object.namespace}/${dep.object.name}: ${base}redirect?${q.toString()}\n`);
  }
  const stop = async () => {
    await query.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  log.debug({ store: path }, 'demo running');
}
