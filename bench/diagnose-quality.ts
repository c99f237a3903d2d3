// Quality of `kubetrail diagnose` on the labeled corpus (bench/diagnose-corpus/scenarios): each
// recorded scenario is replayed into a temp store with `kubetrail replay`, diagnosed with
// `kubetrail diagnose --json` (thresholds of the corpus's time scale: diagnose.yaml), and its
// findings matched against its labels (the rule: bench/diagnose-corpus/labels.ts). Prints per
// scenario found / missed, cause right / wrong and false alarms, then recall, cause accuracy and
// false alarms per healthy run, for the tuning scenarios and the held-out ones separately.
//   node bench/diagnose-quality.ts [--only a,b] [--json] [--min-recall 0.9] [--min-cause 0.9] [--max-healthy-alarms 0]
// Exit 0: it is a measurement; the optional gates make it exit 1 when missed. Exit 2: a scenario
// could not be replayed or diagnosed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Report } from '../frontend-plugin/diagnose/types.ts';
import { type CorpusFinding, type Labels, parseLabels, type ScenarioScore, scoreScenario, type Totals, totals } from './diagnose-corpus/labels.ts';
import { REPO_ROOT, round } from './lib.ts';

export const CORPUS_DIR = join(REPO_ROOT, 'bench/diagnose-corpus/scenarios');
const CONFIG = join(REPO_ROOT, 'bench/diagnose-corpus/diagnose.yaml');
const CLI = join(REPO_ROOT, 'src/cli.ts');

export interface QualityResult {
  scenarios: Array<ScenarioScore & { findings: number; seconds: number }>;
  tuning: Totals;
  heldOut: Totals;
  all: Totals;
}

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Recorded scenarios (labels.json, audit.log.gz, recording.json), sorted by name. */
export function corpusScenarios(dir = CORPUS_DIR): string[] {
  return readdirSync(dir)
    .filter((d) => ['labels.json', 'audit.log.gz', 'recording.json'].every((f) => existsSync(join(dir, d, f))))
    .sort();
}

/** Replays one artifact into a temp store and returns `kubetrail diagnose --json`'s findings. */
export function diagnoseArtifact(dir: string): CorpusFinding[] {
  const tmp = mkdtempSync(join(tmpdir(), 'kt-quality-'));
  try {
    const store = join(tmp, 'run.sqlite');
    const inputs = [join(dir, 'audit.log.gz'), ...(existsSync(join(dir, 'events.json.gz')) ? [join(dir, 'events.json.gz')] : [])];
    const rep = cli(['replay', '--cluster', 'corpus', '--store', store, '--no-progress', ...inputs]);
    if (rep.status !== 0) throw new Error(`kubetrail replay ${dir} exited ${rep.status}: ${rep.stderr.trim().slice(-500)}`);
    // judged at the end of the recording window (not at the last stored event: a pod that waits
    // in silence until the end is the finding)
    const { start, end } = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as { start: string; end: string };
    const diag = cli(['diagnose', '--store', store, '--json', '--config', CONFIG, '--fail-on', 'error', '--since', start, '--until', end]);
    if (diag.status !== 0 && diag.status !== 1) throw new Error(`kubetrail diagnose ${dir} exited ${diag.status}: ${diag.stderr.trim().slice(-500)}`);
    return (JSON.parse(diag.stdout) as Report).findings as CorpusFinding[];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const pct = (x: number) => (Number.isNaN(x) ? '–' : `${round(x * 100, 0)} %`);
const short = (actor?: string) => (actor ?? '–').replace(/^system:serviceaccount:/, 'sa:');

function scenarioRows(s: QualityResult['scenarios'][number], labels: Labels): string[] {
  const tag = `${s.scenario}${s.heldOut ? ' (held out)' : ''}`;
  const alarms = s.falseAlarms.length ? `${s.falseAlarms.length} (${s.falseAlarms.map((f) => f.detector).join(', ')})` : '0';
  if (s.healthy) return [[tag, 'healthy', '–', '–', alarms].join(' | ')];
  return s.results.map((r, i) =>
    [
      i === 0 ? tag : '',
      i === 0 ? labels.class : '',
      r.found ? `found (${r.detector})` : `missed (${r.expected.class})`,
      r.found ? `${r.causeRight ? 'right' : 'wrong'}: ${short(r.namedCause)}` : '–',
      i === 0 ? alarms : '',
    ].join(' | '),
  );
}

function totalsRow(name: string, t: Totals): string {
  return `| ${name} | ${t.scenarios} | ${t.found}/${t.expected} = ${pct(t.recall)} | ${t.causeRight}/${t.found} = ${pct(t.causeAccuracy)} | ${Number.isNaN(t.falseAlarmsPerHealthyRun) ? '–' : round(t.falseAlarmsPerHealthyRun, 1)} (${t.healthyRuns} runs) | ${t.falseAlarmsMisbehaviour} |`;
}

/** The Markdown tables docs/diagnose.md shows. */
export function formatQuality(q: QualityResult, labelsOf: (name: string) => Labels): string {
  const head = ['| scenario | class | expected finding | cause named | false alarms (warning+error) |', '| --- | --- | --- | --- | --- |'];
  const rows = q.scenarios.flatMap((s) => scenarioRows(s, labelsOf(s.scenario)).map((r) => `| ${r} |`));
  const tot = [
    '| scenarios | n | recall | cause right (of found) | false alarms per healthy run | false alarms on misbehaviour runs |',
    '| --- | --- | --- | --- | --- | --- |',
    totalsRow('tuning', q.tuning),
    totalsRow('held out', q.heldOut),
    totalsRow('all', q.all),
  ];
  return [...head, ...rows, '', ...tot].join('\n');
}

export function measure(names: string[], dir = CORPUS_DIR): QualityResult {
  const scenarios = names.map((name) => {
    const t0 = performance.now();
    const labels = parseLabels(readFileSync(join(dir, name, 'labels.json'), 'utf8'), name);
    const findings = diagnoseArtifact(join(dir, name));
    process.stderr.write(`[diagnose-quality] ${name}: ${findings.length} findings\n`);
    return { ...scoreScenario(labels, findings), findings: findings.length, seconds: round((performance.now() - t0) / 1000, 1) };
  });
  return {
    scenarios,
    tuning: totals(scenarios.filter((s) => !s.heldOut)),
    heldOut: totals(scenarios.filter((s) => s.heldOut)),
    all: totals(scenarios),
  };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      json: { type: 'boolean' },
      'min-recall': { type: 'string' },
      'min-cause': { type: 'string' },
      'max-healthy-alarms': { type: 'string' },
    },
  });
  const all = corpusScenarios();
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : all;
  for (const n of names) if (!all.includes(n)) throw new Error(`no recorded scenario ${n} in ${CORPUS_DIR}`);
  let q: QualityResult;
  try {
    q = measure(names);
  } catch (e) {
    process.stderr.write(`diagnose-quality: ${(e as Error).message}\n`);
    return 2;
  }
  const labelsOf = (n: string) => parseLabels(readFileSync(join(CORPUS_DIR, n, 'labels.json'), 'utf8'), n);
  process.stderr.write(`\n${formatQuality(q, labelsOf)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify(q)}\n`);
  const gates: string[] = [];
  const min = (v: string | undefined, got: number, what: string) => {
    if (v !== undefined && !(got >= Number(v))) gates.push(`${what} ${pct(got)} < ${pct(Number(v))}`);
  };
  min(values['min-recall'], q.all.recall, 'recall');
  min(values['min-cause'], q.all.causeAccuracy, 'cause accuracy');
  const maxAlarms = values['max-healthy-alarms'];
  if (maxAlarms !== undefined && !(q.all.falseAlarmsPerHealthyRun <= Number(maxAlarms)))
    gates.push(`false alarms per healthy run ${q.all.falseAlarmsPerHealthyRun} > ${maxAlarms}`);
  for (const g of gates) process.stderr.write(`diagnose-quality: gate missed: ${g}\n`);
  return gates.length ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main();
