// Runs every benchmark, prints a table and writes bench/results/latest.json (latest-small.json with
// --small). Each benchmark runs in its own process so its peak RSS is its own.
//   node bench/run-all.ts [--small] [--only generate,replay,route,webhook,webhook-synthetic,read-path,read-path-jaeger,diagnose,overview,diagnose-quality,kwok-scale]
// (`npm run bench` = scripts/bench.sh: installs dependencies first; BENCH_SMALL=1 = --small.)
// With --only, the results file keeps the other benchmarks' results of earlier runs (mergeResults).
import { cpus, loadavg, totalmem, hostname } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { optionsFromArgs, type StreamStats } from './generate-kwok-stream.ts';
import { REPO_ROOT, round, run, runNodeJson } from './lib.ts';
import type { PhaseResult } from './replay.ts';
import type { WebhookResult, WebhookStream } from './webhook-otlp.ts';
import type { RouteResult } from './route.ts';
import type { ReadPathResult } from './read-path.ts';
import type { DiagnoseBenchResult } from './diagnose.ts';
import type { OverviewBenchResult } from './overview.ts';
import type { QualityResult } from './diagnose-quality.ts';
import type { KwokScaleResult } from './kwok-scale.ts';

/** The aims of issue 20 (docs/performance.md): what each result below is judged against. */
const AIMS = {
  replayRatioToParse: 0.5,
  replayPeakRssMb: 1024,
  /** End to end (webhook → OTLP → Jaeger), at 4 and at 16 batches in flight. */
  webhookKwokEventsPerSec: 15_000,
  webhookSyntheticEventsPerSec: 25_000,
  cpuSecPer10kKwokEvents: 0.8,
  cpuSecPer10kSyntheticEvents: 0.5,
  /** POST round trip p99 at 16 in flight; and never less throughput at 16 than at 4. */
  webhookP99SecAt16: 1,
  readPathStoreP50Ms: 150,
  readPathJaegerP50Ms: 400,
  diagnoseSeconds: 5,
  diagnosePeakRssMb: 512,
  overviewSeconds: 2,
  /** On the KWOK cluster at every scale step: kubetrail's lag p99 ≤ 2 s and less CPU than kube-apiserver. */
  kwokLagP99Sec: 2,
};

interface Results {
  date: string;
  command: string;
  preset: 'full' | 'small';
  machine: { cpus: number; cpuModel: string; memGb: number; hostname: string; node: string; loadAvgStart: number[]; loadAvgEnd?: number[] };
  commit: string;
  aims: typeof AIMS;
  generate?: StreamStats & { reused: boolean };
  parse?: PhaseResult;
  readLog?: PhaseResult;
  replay?: PhaseResult & { ratioToParse: number };
  /** The route alone on one thread (parse + trace, no HTTP, no sink): the single-threaded ceiling. */
  route?: RouteResult;
  webhook?: WebhookResult;
  /** The same with 16 batches in flight: what kubetrail takes when the API server pushes harder. */
  webhookHighConcurrency?: WebhookResult;
  /** The synthetic pod stream (pod writes only, no managedFields), 4 and 16 in flight. */
  webhookSynthetic?: WebhookResult;
  webhookSyntheticHighConcurrency?: WebhookResult;
  readPath?: ReadPathResult;
  readPathJaeger?: ReadPathResult;
  /** `kubetrail diagnose` (every detector + pod startup) over the replay step's store. */
  diagnose?: DiagnoseBenchResult;
  /** The UI's overview (/overview) over the replay step's store, in headless Chromium. */
  overview?: OverviewBenchResult;
  /** `kubetrail diagnose` against the labeled corpus (bench/diagnose-corpus): recall, cause accuracy, false alarms. */
  diagnoseQuality?: Pick<QualityResult, 'tuning' | 'heldOut' | 'all'>;
  /** A real KWOK cluster with its audit webhook at `kubetrail serve`, scaled in steps (bench/kwok-scale.ts). */
  kwokScale?: KwokScaleResult & { commit: string; loadAvgStart: number[] };
  /** Runs with --only merged into this file after the run the top-level fields describe. */
  partialRuns?: Array<{ date: string; commit: string; command: string; loadAvgStart: number[] }>;
  /** 1-minute load average when each step started (the machine has 2 cores). */
  loadAtStep: Record<string, number>;
  errors: Record<string, string>;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { small: { type: 'boolean' }, only: { type: 'string' } },
  });
  const small = Boolean(values.small) || process.env.BENCH_SMALL === '1';
  const only = new Set(
    (values.only ?? 'generate,replay,route,webhook,webhook-synthetic,read-path,read-path-jaeger,diagnose,overview,diagnose-quality,kwok-scale')
      .split(',')
      .map((s) => s.trim()),
  );
  const workdir = join(REPO_ROOT, '.kubetrail/bench');
  mkdirSync(workdir, { recursive: true });
  const commit = (await run('git', ['rev-parse', '--short', 'HEAD'], { quiet: true })).stdout.trim();
  const r: Results = {
    date: new Date().toISOString(),
    command: `npm run bench${small || values.only ? ' --' : ''}${small ? ' --small' : ''}${values.only ? ` --only ${values.only}` : ''}`,
    preset: small ? 'small' : 'full',
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGb: round(totalmem() / 2 ** 30, 1),
      hostname: hostname(),
      node: process.version,
      loadAvgStart: loadavg().map((x) => round(x, 2)),
    },
    commit,
    aims: AIMS,
    loadAtStep: {},
    errors: {},
  };
  const step = async (name: string, fn: () => Promise<void>) => {
    process.stderr.write(
      `\n[bench] ${name} (load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')})\n`,
    );
    r.loadAtStep[name] = round(loadavg()[0]!, 2);
    try {
      await fn();
    } catch (e) {
      r.errors[name] = (e as Error).message;
      process.stderr.write(`[bench] ${name} FAILED: ${(e as Error).message}\n`);
    }
  };

  // 1. the audit stream (reused when the same parameters made it before: it is deterministic)
  const { opts, out } = optionsFromArgs(small ? ['--small'] : []);
  const file = join(REPO_ROOT, out);
  const statsFile = `${file}.stats.json`;
  if (only.has('generate') || only.has('replay')) {
    await step('generate', async () => {
      if (existsSync(file) && existsSync(statsFile)) {
        const prev = JSON.parse(readFileSync(statsFile, 'utf8')) as StreamStats & { opts: unknown };
        if (JSON.stringify(prev.opts) === JSON.stringify(opts)) {
          r.generate = { ...prev, file: relative(REPO_ROOT, prev.file), reused: true };
          process.stderr.write(`[bench] reusing ${relative(REPO_ROOT, file)} (same parameters, deterministic)\n`);
          return;
        }
      }
      const args = small ? ['--small'] : [];
      const stats = await runNodeJson<StreamStats>(join(REPO_ROOT, 'bench/generate-kwok-stream.ts'), [...args, '--out', file]);
      writeFileSync(statsFile, JSON.stringify({ ...stats, opts }));
      r.generate = { ...stats, file: relative(REPO_ROOT, stats.file), reused: false };
    });
  }

  // 2. replay: bare parse baseline, the reader alone, the full `kubetrail replay` path
  if (only.has('replay') && r.generate) {
    const script = join(REPO_ROOT, 'bench/replay.ts');
    await step('parse', async () => {
      r.parse = await runNodeJson<PhaseResult>(script, ['parse', '--file', file]);
    });
    await step('read-log', async () => {
      r.readLog = await runNodeJson<PhaseResult>(script, ['read-log', '--file', file]);
    });
    await step('replay', async () => {
      const rep = await runNodeJson<PhaseResult>(script, ['replay', '--file', file, '--store', join(workdir, `replay-${r.preset}.sqlite`)]);
      r.replay = { ...rep, ratioToParse: r.parse ? round(rep.mbPerSec / r.parse.mbPerSec, 3) : NaN };
    });
  }

  // 3. the route alone on one thread (the webhook's events), then webhook → OTLP → Jaeger
  if (only.has('route')) {
    await step('route', async () => {
      r.route = await runNodeJson<RouteResult>(join(REPO_ROOT, 'bench/route.ts'), small ? ['--small'] : []);
    });
  }
  const webhookRun = (stream: WebhookStream, concurrency: number) =>
    runNodeJson<WebhookResult>(join(REPO_ROOT, 'bench/webhook-otlp.ts'), [
      ...(small ? ['--small'] : []),
      '--stream',
      stream,
      '--concurrency',
      String(concurrency),
    ]);
  if (only.has('webhook')) {
    await step('webhook', async () => {
      r.webhook = await webhookRun('kwok', 4);
    });
    await step('webhook-c16', async () => {
      r.webhookHighConcurrency = await webhookRun('kwok', 16);
    });
  }
  if (only.has('webhook-synthetic')) {
    await step('webhook-synthetic', async () => {
      r.webhookSynthetic = await webhookRun('synthetic', 4);
    });
    await step('webhook-synthetic-c16', async () => {
      r.webhookSyntheticHighConcurrency = await webhookRun('synthetic', 16);
    });
  }

  // 4. read path
  if (only.has('read-path')) {
    await step('read-path', async () => {
      r.readPath = await runNodeJson<ReadPathResult>(join(REPO_ROOT, 'bench/read-path.ts'), ['--requests', small ? '10' : '30']);
    });
  }

  if (only.has('read-path-jaeger')) {
    await step('read-path-jaeger', async () => {
      r.readPathJaeger = await runNodeJson<ReadPathResult>(join(REPO_ROOT, 'bench/read-path.ts'), ['--backend', 'jaeger', '--requests', small ? '5' : '30']);
    });
  }

  // 5. diagnosis over the replayed store (bench/diagnose.ts builds it when the replay step did not run)
  if (only.has('diagnose')) {
    await step('diagnose', async () => {
      r.diagnose = await runNodeJson<DiagnoseBenchResult>(join(REPO_ROOT, 'bench/diagnose.ts'), [
        ...(small ? ['--small'] : []),
        '--store',
        join(workdir, `replay-${r.preset}.sqlite`),
      ]);
    });
  }

  // 6. the UI's overview over the same store (needs the replay step's store and Chromium)
  if (only.has('overview')) {
    await step('overview', async () => {
      r.overview = await runNodeJson<OverviewBenchResult>(join(REPO_ROOT, 'bench/overview.ts'), [
        '--store',
        join(workdir, `replay-${r.preset}.sqlite`),
        '--findings',
      ]);
    });
  }

  // 7. diagnosis quality on the labeled corpus (small: replays the committed recordings)
  if (only.has('diagnose-quality')) {
    await step('diagnose-quality', async () => {
      const q = await runNodeJson<QualityResult>(join(REPO_ROOT, 'bench/diagnose-quality.ts'), ['--json']);
      r.diagnoseQuality = { tuning: q.tuning, heldOut: q.heldOut, all: q.all };
    });
  }

  // 8. a real KWOK cluster at scale (the stack's binaries; takes the machine for tens of minutes at full size)
  if (only.has('kwok-scale')) {
    await step('kwok-scale', async () => {
      const loadAvgStart = loadavg().map((x) => round(x, 2));
      const res = await runNodeJson<KwokScaleResult>(join(REPO_ROOT, 'bench/kwok-scale.ts'), small ? ['--steps', '100,1000'] : []);
      r.kwokScale = { ...res, commit, loadAvgStart };
    });
  }

  r.machine.loadAvgEnd = loadavg().map((x) => round(x, 2));
  const resultsDir = join(REPO_ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const resultsFile = join(resultsDir, small ? 'latest-small.json' : 'latest.json');
  const merged = values.only && existsSync(resultsFile) ? mergeResults(JSON.parse(readFileSync(resultsFile, 'utf8')) as Results, r) : r;
  writeFileSync(resultsFile, JSON.stringify(merged, null, 2) + '\n');
  process.stdout.write(table(r) + `\nresults: ${relative(REPO_ROOT, resultsFile)}${merged === r ? '' : ' (merged)'}\n`);
  return Object.keys(r.errors).length > 0 ? 1 : 0;
}

/**
 * A run with --only replaces, in the results of the last run, only what it measured: the other
 * benchmarks' results, and the top-level date, commit and machine they were measured with, stay;
 * the run is listed in partialRuns.
 */
function mergeResults(prev: Results, cur: Results): Results {
  const own = new Set(['date', 'command', 'preset', 'machine', 'commit', 'aims', 'loadAtStep', 'errors', 'partialRuns']);
  const out: Results = { ...prev, aims: cur.aims };
  for (const [k, v] of Object.entries(cur)) if (!own.has(k) && v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  const ran = Object.keys(cur.loadAtStep);
  out.errors = { ...Object.fromEntries(Object.entries(prev.errors ?? {}).filter(([k]) => !ran.includes(k))), ...cur.errors };
  out.loadAtStep = { ...prev.loadAtStep, ...cur.loadAtStep };
  out.partialRuns = [...(prev.partialRuns ?? []), { date: cur.date, commit: cur.commit, command: cur.command, loadAvgStart: cur.machine.loadAvgStart }];
  return out;
}

function table(r: Results): string {
  const rows: Row[] = [];
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const n = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toLocaleString('en-US'));
  const aim = (ok: boolean | undefined, text: string) => (ok === undefined ? text : `${text} ${ok ? 'met' : 'MISSED'}`);
  if (r.generate)
    rows.push([
      'stream',
      `${n(r.generate.events)} events, ${mb(r.generate.bytes)}${r.generate.reused ? ' (reused)' : `, generated in ${r.generate.generateSeconds}s`}`,
      '',
    ]);
  if (r.parse) rows.push(['bare JSON.parse', `${n(r.parse.eventsPerSec)} events/s, ${r.parse.mbPerSec} MB/s, peak RSS ${r.parse.peakRssMb} MB`, 'baseline']);
  if (r.readLog) rows.push(['readAuditLogs only', `${n(r.readLog.eventsPerSec)} events/s, ${r.readLog.mbPerSec} MB/s, peak RSS ${r.readLog.peakRssMb} MB`, '']);
  if (r.replay) {
    rows.push([
      'replay → store',
      `${n(r.replay.eventsPerSec)} events/s, ${r.replay.mbPerSec} MB/s, ${r.replay.seconds}s, peak RSS ${r.replay.peakRssMb} MB`,
      aim(
        r.replay.ratioToParse >= AIMS.replayRatioToParse && r.replay.peakRssMb <= AIMS.replayPeakRssMb,
        `ratio ${r.replay.ratioToParse} (aim ≥ ${AIMS.replayRatioToParse}), aim peak RSS ≤ ${AIMS.replayPeakRssMb} MB`,
      ),
    ]);
    rows.push([
      '  spans / store',
      `${n(Number(r.replay.spansWritten))} spans, ${n(Number(r.replay.objects))} objects, store ${mb(Number(r.replay.storeBytes))}`,
      '',
    ]);
  }
  if (r.route)
    rows.push([
      'route alone, one thread',
      `${n(r.route.eventsPerCpuSec)} events per CPU second (parse ${r.route.parseCpuSec} s + trace ${r.route.traceUsPerEvent} µs/event, ${n(r.route.events)} events)`,
      'the single-threaded ceiling',
    ]);
  webhookRows(rows, r.webhook, r.webhookHighConcurrency, n, aim);
  webhookRows(rows, r.webhookSynthetic, r.webhookSyntheticHighConcurrency, n, aim);
  for (const p of [r.readPath, r.readPathJaeger]) {
    if (!p) continue;
    rows.push([
      `read path (${p.backend})`,
      `p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms over ${p.requests} GETs; ${n(p.spansInTrace)} spans, ${mb(p.responseBytes)} JSON`,
      aim(
        p.p50Ms <= (p.backend === 'jaeger' ? AIMS.readPathJaegerP50Ms : AIMS.readPathStoreP50Ms),
        `aim p50 ≤ ${p.backend === 'jaeger' ? AIMS.readPathJaegerP50Ms : AIMS.readPathStoreP50Ms} ms`,
      ),
    ]);
  }
  if (r.diagnose) {
    const d = r.diagnose;
    rows.push([
      'diagnose (all detectors)',
      `${d.seconds} s (load ${d.loadSeconds} s, detect ${d.detectSeconds} s), peak RSS ${d.peakRssMb} MB; ${n(d.spans)} spans`,
      aim(d.seconds <= AIMS.diagnoseSeconds && d.peakRssMb <= AIMS.diagnosePeakRssMb, `aim ≤ ${AIMS.diagnoseSeconds} s, ≤ ${AIMS.diagnosePeakRssMb} MB`),
    ]);
  }
  if (r.overview) {
    const o = r.overview;
    rows.push([
      'UI overview (Chromium)',
      `heatmap shown in ${o.firstSeconds} s first, p50 ${o.p50Seconds} s over ${o.runs} page loads (activity API ${o.activityMs} ms); findings after ${o.findingsSeconds ?? '–'} s`,
      aim(o.firstSeconds <= AIMS.overviewSeconds && o.p50Seconds <= AIMS.overviewSeconds, 'aim ≤ 2 s'),
    ]);
  }
  if (r.diagnoseQuality) {
    const pct = (x: number) => (Number.isNaN(x) ? '–' : `${Math.round(x * 100)} %`);
    for (const [name, t] of [
      ['tuning', r.diagnoseQuality.tuning],
      ['held out', r.diagnoseQuality.heldOut],
    ] as const) {
      rows.push([
        `diagnose quality (${name})`,
        `recall ${pct(t.recall)} (${t.found}/${t.expected}), cause right ${pct(t.causeAccuracy)}, ${Number.isNaN(t.falseAlarmsPerHealthyRun) ? '–' : t.falseAlarmsPerHealthyRun.toFixed(1)} false alarms per healthy run`,
        'aim recall ≥ 90 %, cause ≥ 90 %, 0 on healthy runs',
      ]);
    }
  }
  for (const st of r.kwokScale?.steps ?? []) {
    const met = st.lagP99Sec !== undefined && st.lagP99Sec <= AIMS.kwokLagP99Sec && st.cpuSec.kubetrail! < st.cpuSec['kube-apiserver']!;
    rows.push([
      `KWOK ${n(st.nodes)} nodes, ${n(st.pods)} pods`,
      `${n(st.auditEventsPerSec)} audit events/s; lag p99 ${st.lagP99Sec ?? '–'} s; CPU kubetrail ${st.cpuPercent.kubetrail} %, apiserver ${st.cpuPercent['kube-apiserver']} %, etcd ${st.cpuPercent.etcd} %; traces ${st.traces.complete}/${st.traces.pods} complete${st.error ? `; stopped: ${st.error.slice(0, 80)}` : ''}`,
      aim(met, 'aim lag p99 ≤ 2 s, CPU < apiserver'),
    ]);
  }
  for (const [k, v] of Object.entries(r.errors)) rows.push([`${k} FAILED`, v.slice(0, 200), '']);
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const head = `kubetrail benchmarks (${r.preset}) — ${r.date}, ${r.machine.cpus} × ${r.machine.cpuModel}, load ${r.machine.loadAvgStart.join(' ')}`;
  return [head, ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`)].join('\n');
}

type Row = [string, string, string];

/** The rows of one stream's webhook runs (4 and 16 in flight), judged against issue 20's aims. */
function webhookRows(
  rows: Row[],
  at4: WebhookResult | undefined,
  at16: WebhookResult | undefined,
  n: (x: number | undefined) => string,
  aim: (ok: boolean | undefined, text: string) => string,
): void {
  const synthetic = (at4 ?? at16)?.stream === 'synthetic';
  const rateAim = synthetic ? AIMS.webhookSyntheticEventsPerSec : AIMS.webhookKwokEventsPerSec;
  const cpuAim = synthetic ? AIMS.cpuSecPer10kSyntheticEvents : AIMS.cpuSecPer10kKwokEvents;
  for (const w of [at4, at16]) {
    if (!w) continue;
    rows.push([
      `webhook → Jaeger, ${w.stream ?? 'kwok'} stream (${w.concurrency} in flight)`,
      `${n(w.acceptedEventsPerSec)} events/s accepted (${n(w.events)} events of ${n(w.meanEventBytes)} B, batches of ${w.batchSize})`,
      aim(w.acceptedEventsPerSec >= rateAim, `aim ≥ ${n(rateAim)}/s`),
    ]);
    const p99Aim = w.concurrency >= 16 ? aim(w.postP99Ms <= AIMS.webhookP99SecAt16 * 1000, `aim p99 ≤ ${AIMS.webhookP99SecAt16} s at 16`) : '';
    rows.push(['  lag (POST round trip)', `p50 ${w.postP50Ms} ms, p99 ${w.postP99Ms} ms`, p99Aim]);
    rows.push(['  lag (histogram)', `p50 ${w.lagHistogramP50Sec ?? '–'} s, p99 ${w.lagHistogramP99Sec ?? '–'} s (${n(w.lagHistogramCount)} events)`, '']);
    rows.push(['  visible in Jaeger', `${w.visibleInJaegerMs.join(', ')} ms after stageTimestamp; sampled pods found ${w.sampledTracesFound}`, '']);
    rows.push([
      '  kubetrail process',
      `peak RSS ${w.kubetrailPeakRssMb ?? '–'} MB, CPU ${w.kubetrailCpuSec ?? '–'} s = ${w.cpuSecPer10kEvents ?? '–'} s per 10k events; Jaeger peak RSS ${w.jaegerPeakRssMb ?? '–'} MB`,
      aim(w.cpuSecPer10kEvents === undefined ? undefined : w.cpuSecPer10kEvents <= cpuAim, `aim ≤ ${cpuAim} s per 10k`),
    ]);
  }
  if (at4 && at16)
    rows.push([
      '  16 in flight against 4',
      `${n(at16.acceptedEventsPerSec)} against ${n(at4.acceptedEventsPerSec)} events/s`,
      aim(at16.acceptedEventsPerSec >= at4.acceptedEventsPerSec, 'aim never less at 16'),
    ]);
}

process.exitCode = await main();
