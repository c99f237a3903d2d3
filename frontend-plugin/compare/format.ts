// A comparison as text for humans and JUnit XML for CI: one testcase per kind of difference
// (actions, reactions, pod startup, findings), failing when it has a difference above the thresholds.
import { xmlEscape } from '../diagnose/format.ts';
import type { PhaseStats } from '../diagnose/pod-startup.ts';
import type { Comparison, Difference, RunSummary } from './align.ts';
import type { Reaction } from './run.ts';

const ms = (v: number | undefined): string => (v === undefined ? '-' : v < 1000 ? `${Math.round(v)}ms` : `${(v / 1000).toFixed(1)}s`);
const created = (c: Record<string, number>): string =>
  Object.values(c)
    .reduce((x, y) => x + y, 0)
    .toString();
const reaction = (r: Reaction | undefined): string =>
  r
    ? `${ms(r.firstReactionMs).padStart(6)} ${created(r.created).padStart(4)} ${String(r.pods).padStart(4)} ${ms(r.schedulingMs).padStart(6)} ${ms(r.runningMs).padStart(6)} ${String(r.failures).padStart(4)}`
    : `${'—'.padStart(6)}${' '.repeat(33)}`;
const runLine = (k: string, r: RunSummary): string =>
  `${k}: ${r.name}${r.prefix ? ` (namespaces ${r.prefix}*)` : ''} · cluster ${r.cluster} · ${r.start} → ${r.end} · ${r.actions} actions, ${r.pods} pods (${r.notRunning} not Running), ${r.findings} findings`;

function podRows(c: Comparison): string[] {
  const titleOf = (g: Comparison['podStartup'][number]): string => `${g.group} (${g.a?.pods ?? 0} | ${g.b?.pods ?? 0} pods)`;
  const w = Math.max(34, ...c.podStartup.map((g) => titleOf(g).length));
  const out = ["pod startup (seconds, p50 / p90 / p99; the pod startup report's phases):", `  ${'group'.padEnd(w)} ${'phase'.padEnd(22)} ${'A'.padEnd(26)} B`];
  const cell = (s: PhaseStats | undefined, k: keyof PhaseStats): string =>
    s?.[k].count ? `${s[k].p50.toFixed(3)} / ${s[k].p90.toFixed(3)} / ${s[k].p99.toFixed(3)}` : '-';
  const names: [keyof PhaseStats, string][] = [
    ['scheduled', 'create → scheduled'],
    ['running', 'scheduled → running'],
    ['startup', 'create → running'],
  ];
  for (const g of c.podStartup) {
    for (const [i, [k, n]] of names.entries()) out.push(`  ${(i ? '' : titleOf(g)).padEnd(w)} ${n.padEnd(22)} ${cell(g.a, k).padEnd(26)} ${cell(g.b, k)}`);
  }
  return out;
}

const diffLines = (d: Difference, base: string): string[] => [
  `  - ${d.text}`,
  ...(d.a ? [`      A: ${base}${d.a.redirect}`] : []),
  ...(d.b ? [`      B: ${base}${d.b.redirect}`] : []),
];

/** `base`: the UI's URL, to print full links (each run's /redirect opens it in a query server over that run's store). */
export function comparisonText(c: Comparison, base = ''): string {
  const out = [
    `kubetrail compare`,
    runLine('A', c.runs.a),
    runLine('B', c.runs.b),
    `thresholds: ${c.thresholds.ms} ms and ${Math.round(c.thresholds.ratio * 100)} % of A`,
    '',
  ];
  out.push(`driving actions, aligned (first reaction, objects created, pods, slowest scheduling, to Running, failed requests):`);
  out.push(`  ${'action'.padEnd(44)} ${'A: react made pods  sched    run fail'.padEnd(40)} B: react made pods  sched    run fail`);
  for (const r of c.actions) out.push(`  ${r.action.slice(0, 44).padEnd(44)} ${reaction(r.a?.reaction).padEnd(40)} ${reaction(r.b?.reaction)}`);
  out.push('', ...podRows(c), '');
  if (c.findingsOnlyIn.length) {
    out.push('findings in one run only:');
    for (const f of c.findingsOnlyIn) out.push(`  ${f.run.toUpperCase()}: ${f.severity} [${f.detector}] ${f.title}`);
    out.push('');
  }
  out.push(c.differences.length ? `${c.differences.length} difference(s) above the thresholds:` : 'no difference above the thresholds');
  for (const d of c.differences) out.push(...diffLines(d, base.replace(/\/+$/, '')));
  return `${out.join('\n')}\n`;
}

const KINDS: [Difference['kind'], string][] = [
  ['action', 'driving actions'],
  ['reaction', "controllers' reactions"],
  ['pod-startup', 'pod startup'],
  ['finding', 'findings'],
];

export function comparisonJunit(c: Comparison): string {
  let failures = 0;
  const cases = KINDS.map(([kind, name]) => {
    const mine = c.differences.filter((d) => d.kind === kind);
    if (!mine.length) return `  <testcase classname="kubetrail.compare" name="${xmlEscape(name)}"></testcase>`;
    failures++;
    const msg = mine.length === 1 ? mine[0]!.text : `${mine.length} differences: ${mine[0]!.text}`;
    return `  <testcase classname="kubetrail.compare" name="${xmlEscape(name)}">\n    <failure message="${xmlEscape(msg)}" type="difference">${xmlEscape(mine.map((d) => d.text).join('\n'))}</failure>\n  </testcase>`;
  });
  const name = `kubetrail compare ${c.runs.a.name} → ${c.runs.b.name}`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="${xmlEscape(name)}" tests="${KINDS.length}" failures="${failures}" errors="0" timestamp="${xmlEscape(c.runs.b.start)}">\n${cases.join('\n')}\n</testsuite>\n</testsuites>\n`;
}
