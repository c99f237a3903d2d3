// `kubetrail compare A B`: two recorded runs (stores, each with its range and namespace prefix)
// side by side — the driving actions aligned, the controllers' reactions, pod startup phases,
// findings of one run only — and the differences above the thresholds in plain words. Exit 0 no
// difference, 1 differences, 2 usage, 3 a store missing or unreadable (docs/compare.md).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { SqliteBackend } from '../../frontend-plugin/backend/sqlite.ts';
import { type Comparison, compareRuns, defaultCompareThresholds } from '../../frontend-plugin/compare/align.ts';
import { comparisonJunit, comparisonText } from '../../frontend-plugin/compare/format.ts';
import { perfDataFileName, podStartupPerfData } from '../../frontend-plugin/compare/perfdata.ts';
import { loadRun, type RunData, type SideSpec } from '../../frontend-plugin/compare/run.ts';
import { parseNumber, parseTimeArg, UsageError } from '../../frontend-plugin/diagnose/params.ts';
import { addLogOptions, applyLogLevel, checkListen, parsePort, parseWindow, usageErrorsExit2 } from './options.ts';
import { startQueryServer } from '../../frontend-plugin/server.ts';
import { log } from '../core/log.ts';
import { argParser } from './read-source.ts';
import { ExitError, output } from './io.ts';
import { existsSync } from 'node:fs';

interface CompareCliOptions {
  cluster?: string;
  aCluster?: string;
  bCluster?: string;
  aSince?: number;
  aUntil?: number;
  bSince?: number;
  bUntil?: number;
  aNamespacePrefix: string;
  bNamespacePrefix: string;
  thresholdMs: number;
  thresholdRatio: number;
  json: boolean;
  junit?: string;
  perfdata?: string;
  perfdataName: string;
  uiUrl?: string;
  ui: boolean;
  port: number;
  host: string;
  window: number;
  logLevel?: string;
}

export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description(
      "compare two recorded runs (a baseline A and a candidate B, each an embedded store): driving actions aligned, the controllers' reactions, pod startup phases, findings of one run only, and the differences above the thresholds",
    )
    .argument('<a>', 'store of run A (the baseline)')
    .argument('<b>', 'store of run B (the candidate); may be the same file as A with other prefixes or ranges')
    .option('--cluster <name>', 'the cluster, both sides (default: the only one stored)')
    .option('--a-cluster <name>', 'the cluster of A')
    .option('--b-cluster <name>', 'the cluster of B');
  for (const s of ['a', 'b']) {
    cmd
      .option(`--${s}-since <time>`, `start of ${s.toUpperCase()}: RFC 3339, Unix seconds, or a duration before now`, argParser(parseTimeArg))
      .option(`--${s}-until <time>`, `end of ${s.toUpperCase()}, same forms`, argParser(parseTimeArg))
      .option(`--${s}-namespace-prefix <p>`, `only namespaces starting with p in ${s.toUpperCase()}, compared without it (reenact --namespace-prefix)`, '');
  }
  cmd
    .option('--threshold-ms <n>', 'a time difference counts from this many milliseconds …', argParser(parseNumber), defaultCompareThresholds.ms)
    .option('--threshold-ratio <r>', '… and this share of A (0.2 = 20 %)', argParser(parseNumber), defaultCompareThresholds.ratio)
    .option('--json', 'print the comparison as JSON', false)
    .option('--junit <file>', 'write a JUnit XML file: one testcase per kind of difference')
    .option('--perfdata <dir>', "write each run's pod startup as clusterloader2 PerfData JSON into this directory")
    .option('--perfdata-name <name>', 'the name in the PerfData file names', 'PodStartupLatency')
    .option('--ui-url <url>', 'base URL of the kubetrail UI, to print full links')
    .option('--ui', "then serve the UI over both stores: /compare-runs, each difference opening both runs' traces side by side (until Ctrl-C)", false)
    .option('--port <port>', 'HTTP port of --ui', parsePort, 16686)
    .option('--host <host>', 'listen address of --ui (loopback: the UI has no authentication)', '127.0.0.1')
    .addOption(new Option('--window <duration>', 'window size the write path used').argParser(parseWindow).default(1800, '30m'));
  addLogOptions(cmd);
  usageErrorsExit2(cmd);
  return cmd.action(async (a: string, b: string, o: CompareCliOptions) => {
    applyLogLevel(o);
    await runCompare(a, b, o);
  });
}

/** `PodStartupLatency_<name>_<time>.json` in `dir`, the run's end as the time; the file's path. */
export function writePerfData(dir: string, name: string, run: Pick<RunData, 'podStartup' | 'end' | 'cluster'>): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, perfDataFileName(name, new Date(run.end)));
  writeFileSync(path, `${JSON.stringify(podStartupPerfData(run.podStartup, { source: 'kubetrail', cluster: run.cluster }), null, 2)}\n`);
  return path;
}

function sides(a: string, b: string, o: CompareCliOptions): [SideSpec, SideSpec] {
  for (const [s, since, until] of [
    ['A', o.aSince, o.aUntil],
    ['B', o.bSince, o.bUntil],
  ] as const)
    if (since !== undefined && until !== undefined && since > until) throw new UsageError(`--${s.toLowerCase()}-since is after --${s.toLowerCase()}-until`);
  if (!(o.thresholdRatio >= 0) || !(o.thresholdMs >= 0)) throw new UsageError('--threshold-ms and --threshold-ratio must be 0 or more');
  const missing = [a, b].find((p) => !existsSync(p));
  if (missing) throw new ExitError(`no store at ${missing}`, 3);
  const spec = (store: string, cluster: string | undefined, since: number | undefined, until: number | undefined, prefix: string): SideSpec => ({
    name: store,
    backend: new SqliteBackend(store),
    ...((cluster ?? o.cluster) ? { cluster: cluster ?? o.cluster } : {}),
    ...(since !== undefined ? { startUs: since } : {}),
    ...(until !== undefined ? { endUs: until } : {}),
    prefix,
  });
  const sa = spec(a, o.aCluster, o.aSince, o.aUntil, o.aNamespacePrefix);
  return [sa, spec(b, o.bCluster, o.bSince, o.bUntil, o.bNamespacePrefix)];
}

async function runCompare(a: string, b: string, o: CompareCliOptions): Promise<void> {
  let specs: [SideSpec, SideSpec];
  try {
    specs = sides(a, b, o);
  } catch (e) {
    if (e instanceof UsageError) throw new ExitError(e.message, 2);
    throw e;
  }
  let runs: RunData[];
  try {
    runs = [await loadRun(specs[0]), await loadRun(specs[1])];
  } catch (e) {
    for (const s of specs) await s.backend.close();
    throw new ExitError((e as Error).message, e instanceof UsageError ? 2 : 3);
  }
  const c = compareRuns(runs[0]!, runs[1]!, { ms: o.thresholdMs, ratio: o.thresholdRatio });
  if (o.junit) writeFileSync(o.junit, comparisonJunit(c));
  if (o.perfdata) for (const [i, r] of runs.entries()) output.err(`kubetrail compare: wrote ${writePerfData(o.perfdata, `${o.perfdataName}_${'ab'[i]}`, r)}\n`);
  if (o.ui) await serveComparison(specs, c, o);
  else {
    for (const s of specs) await s.backend.close();
    output.out(o.json ? `${JSON.stringify(c, null, 2)}\n` : comparisonText(c, o.uiUrl));
  }
  if (c.differences.length) throw new ExitError(`${c.differences.length} difference(s) above the thresholds between A and B`, 1);
}

/** `--ui`: the query server over A, with B and the comparison (frontend-plugin/compare/routes.ts), until a signal. */
async function serveComparison(specs: [SideSpec, SideSpec], c: Comparison, o: CompareCliOptions): Promise<void> {
  try {
    checkListen({ flag: '--host', host: o.host, allowUnauthenticated: false });
  } catch (e) {
    throw new ExitError((e as Error).message, 2);
  }
  const server = await startQueryServer({
    backend: specs[0].backend,
    windowSec: o.window,
    port: o.port,
    host: o.host,
    compare: { backend: specs[1].backend, comparison: c },
  });
  output.out(o.json ? `${JSON.stringify(c, null, 2)}\n` : comparisonText(c));
  output.err(`kubetrail compare: ${c.differences.length} difference(s); the comparison is at ${server.url}/compare-runs (Ctrl-C to stop)\n`);
  log.info({ url: `${server.url}/compare-runs` }, 'compare UI');
  await new Promise<void>((done) => {
    const stop = () => void server.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  for (const s of specs) await s.backend.close();
}

export default compareCommand;
