// `kubetrail diagnose`: findings over the spans of a time range (embedded store or Jaeger), as text,
// JSON or JUnit; exit 1 when a finding reaches --fail-on, 2 on usage errors, 3 when the diagnosis
// could not run completely (docs/diagnose.md).
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { TraceBackend } from '../../frontend-plugin/backend/backend.ts';
import { diagnose, defaultThresholds, SEVERITIES, severityRank, type Severity, type Thresholds } from '../../frontend-plugin/diagnose/index.ts';
import { reportJunit, reportText } from '../../frontend-plugin/diagnose/format.ts';
import {
  DURATION_THRESHOLDS,
  parseNumber,
  parseSeconds,
  parseSelector,
  parseTimeArg,
  thresholdFlag,
  UsageError,
} from '../../frontend-plugin/diagnose/params.ts';
import { writePerfData } from './compare.ts';
import { addConfigFileOption, addLogOptions, applyLogLevel, usageErrorsExit2 } from './options.ts';
import { addReadSourceOptions, argParser, openReadSource, type ReadSourceOptions } from './read-source.ts';

const HELP: Record<keyof Thresholds, string> = {
  churnFactor: 'churn: an owner creating more than this × its desired pods',
  churnMinExtra: 'churn: … and at least this many pods beyond the desired count',
  recreateMin: 'churn: one name deleted and re-created at least this many times',
  fightingMinFlips: 'fighting: changes of one field alternating between actors, at least',
  conflictMin: 'conflicts: 409/429/5xx answers to one actor, at least',
  conflictMinRatio: 'conflicts: … and at least this share of its requests on those objects failed',
  noopMin: 'noop-writes: writes that changed nothing, per actor and resource, at least',
  rolloutTimeoutSec: 'stuck-rollouts: status must reach the spec within this after the last spec change',
  scheduleTimeoutSec: 'unscheduled-pods: pod create → binding within',
  runTimeoutSec: 'unscheduled-pods: binding → Running within',
  orphanGraceSec: 'orphans: an object may outlive its owner (a pod its node) by',
  slowReactionSec: 'slow-reactions: p99 reaction delay above this is a warning',
  hotLoopMinWrites: 'hot-loops: writes of one object by one actor in one sustained stretch, at least',
  hotLoopMinRate: 'hot-loops: … at this many writes per second or more',
  hotLoopMinDurationSec: 'hot-loops: … sustained at least this long',
  hotLoopFactor: "hot-loops: … and this many times the actor's and the cluster's normal per-object rate",
  hotLoopReactionShare: "hot-loops: … unless this share of its intervals follow another actor's write of the object, an owner or what it owns",
  hotLoopStormMinObjects: 'hot-loops: a storm is one actor rewriting at least this many objects of one kind (each ≥ a quarter of --hot-loop-min-writes times)',
  hotLoopHeartbeats: 'hot-loops: 1 also counts leases, node status heartbeats and Events',
  deletionTimeoutSec: 'stuck-deletions: an object or namespace may stay Terminating after its delete for',
  restartMin: 'workload-failures: a pod whose containers restart at least this many times in the range',
  readyFlapMin: 'workload-failures: a pod whose Ready condition goes True → False at least this many times in the range',
  pvcPendingTimeoutSec: 'workload-failures: a PersistentVolumeClaim with pods waiting on it may stay Pending for',
  evictionBlockTimeoutSec: 'blocked-evictions: evictions refused (429) by a PodDisruptionBudget, not through at the range end, for at least',
};

interface DiagnoseCliOptions extends ReadSourceOptions, Partial<Record<string, unknown>> {
  cluster?: string;
  since?: number;
  until?: number;
  namespace?: string;
  selector?: string;
  json: boolean;
  junit?: string;
  failOn: Severity;
  podStartup: boolean;
  podStartupThreshold?: number;
  perfdata?: string;
  perfdataName: string;
  uiUrl?: string;
  logLevel?: string;
}

export function diagnoseCommand(): Command {
  const cmd = new Command('diagnose').description(
    'report what went wrong in a time range: churn, fighting controllers, conflicts, no-op writes, stuck rollouts, unscheduled pods, orphans, slow reactions, hot loops, stuck deletions, workload failures, blocked evictions, completeness — each with its cause where the record holds it',
  );
  addReadSourceOptions(cmd)
    .option('--cluster <name>', 'only this cluster')
    .option('--since <time>', 'start: RFC 3339, Unix seconds, or a duration before now (1h); default: the first stored event', argParser(parseTimeArg))
    .option('--until <time>', 'end, same forms; default: the last stored event', argParser(parseTimeArg))
    .option('--namespace <ns>', 'only objects of this namespace (and cluster-scoped ones: nodes)')
    .option(
      '--selector <group/resource/namespace/name>',
      'only findings about this object, its owners and what it owns (core group empty: /pods/default/web-0)',
    )
    .option('--json', 'print the report as JSON', false)
    .option('--junit <file>', 'write a JUnit XML file: one testcase per detector, a finding at or above --fail-on fails it')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding has this severity or higher').choices([...SEVERITIES]).default('error'))
    .option('--pod-startup', 'add the pod startup report (create → scheduled → running percentiles)', false)
    .option(
      '--pod-startup-threshold <duration>',
      'a create → running p99 above this (e.g. 5s, the Kubernetes SLO) is an error finding; implies --pod-startup',
      argParser(parseSeconds),
    )
    .option(
      '--perfdata <dir>',
      'write the pod startup report as clusterloader2 PerfData JSON into this directory (PodStartupLatency_<name>_<time>.json); implies --pod-startup',
    )
    .option('--perfdata-name <name>', 'the name in the PerfData file name', 'PodStartupLatency')
    .option('--ui-url <url>', 'base URL of the kubetrail UI, to print full evidence links (e.g. http://127.0.0.1:16686)');
  for (const k of Object.keys(defaultThresholds) as (keyof Thresholds)[]) {
    const d = defaultThresholds[k];
    const isDur = DURATION_THRESHOLDS.has(k);
    cmd.option(
      `${thresholdFlag(k)} <${isDur ? 'duration' : 'n'}>`,
      `${HELP[k]} (default ${isDur ? `${d}s` : d})`,
      argParser(isDur ? parseSeconds : parseNumber),
    );
  }
  addLogOptions(cmd);
  addConfigFileOption(cmd);
  usageErrorsExit2(cmd);
  return cmd.action(async (o: DiagnoseCliOptions) => {
    applyLogLevel(o);
    process.exitCode = await runDiagnose(o);
  });
}

async function runDiagnose(o: DiagnoseCliOptions): Promise<number> {
  let backend: TraceBackend;
  try {
    if (o.since !== undefined && o.until !== undefined && o.since > o.until) throw new UsageError('--since is after --until');
    const source = openReadSource(o);
    if ('missingStore' in source) {
      process.stderr.write(`kubetrail diagnose: no store at ${source.missingStore} (replay an audit log into it, or give --store / --jaeger-query)\n`);
      return 3;
    }
    backend = source;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`kubetrail diagnose: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const thresholds: Partial<Thresholds> = {};
  for (const k of Object.keys(defaultThresholds) as (keyof Thresholds)[]) {
    const v = o[k.replace(/Sec$/, '')];
    if (typeof v === 'number') thresholds[k] = v;
  }
  let report;
  try {
    const selector = o.selector ? parseSelector(o.selector, o.cluster) : undefined;
    if (selector && !o.cluster) {
      const clusters = await backend.clusters();
      if (clusters.length === 1) selector.cluster = clusters[0]!;
      else throw new UsageError(`--selector needs --cluster when the store holds ${clusters.length} clusters (${clusters.join(', ')})`);
    }
    report = await diagnose(backend, {
      cluster: o.cluster,
      namespace: o.namespace,
      selector,
      startUs: o.since,
      endUs: o.until,
      thresholds,
      podStartup: o.podStartup || o.perfdata !== undefined,
      podStartupThresholdSec: o.podStartupThreshold,
    });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`kubetrail diagnose: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`kubetrail diagnose: ${(e as Error).message}\n`);
    return 3;
  } finally {
    await backend.close();
  }
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report, { base: o.uiUrl }));
  if (o.junit) writeFileSync(o.junit, reportJunit(report, o.failOn, o.uiUrl));
  if (o.perfdata && report.podStartup) {
    const path = writePerfData(o.perfdata, o.perfdataName, { podStartup: report.podStartup, end: report.end, cluster: report.cluster ?? o.cluster ?? '' });
    process.stderr.write(`kubetrail diagnose: wrote ${path}\n`);
  }
  if (report.findings.some((f) => severityRank(f.severity) >= severityRank(o.failOn))) return 1;
  return report.detectors.some((d) => d.failed) ? 3 : 0;
}

export default diagnoseCommand;
