// Two runs side by side (pure: RunData in, Comparison out). Driving actions are aligned by verb,
// subresource, kind, namespace without the prefix and name with generated parts as `*`: the n-th
// such action of A with the n-th of B. Differences above the thresholds — absolute (ms) AND
// relative to A (the baseline) — are named in plain words, with where to look in each run.
import { objectKey, type ObjectRef } from '../../src/core/model.ts';
import type { PhaseStats } from '../diagnose/pod-startup.ts';
import { formatSec, redirectUrl, refText, type Stats } from '../diagnose/span-index.ts';
import { severityRank, type Finding } from '../diagnose/types.ts';
import { normalName, unprefixed } from './names.ts';
import type { Reaction, RunAction, RunData } from './run.ts';

export interface CompareThresholds {
  /** A time difference counts when at least this many milliseconds … */
  ms: number;
  /** … and at least this share of A's value (0.2 = 20 %). */
  ratio: number;
}

export const defaultCompareThresholds: CompareThresholds = { ms: 1000, ratio: 0.2 };

/** Where a difference shows in one run: the object's trace around the time (the UI's /redirect). */
export interface Place {
  redirect: string;
  object?: ObjectRef;
}

export interface Difference {
  kind: 'action' | 'reaction' | 'pod-startup' | 'finding';
  /** Plain words, e.g. `pods of Deployment shop/web took 2.1 s longer to become Running (p99 +2.1 s)`. */
  text: string;
  /** B − A in milliseconds, for time differences. */
  deltaMs?: number;
  a?: Place;
  b?: Place;
}

export interface AlignedAction {
  /** `create Deployment shop/web` without prefixes and generated parts. */
  action: string;
  a?: { seq: number; time: string; reaction: Reaction; place: Place };
  b?: { seq: number; time: string; reaction: Reaction; place: Place };
}

export interface FindingOnce {
  run: 'a' | 'b';
  detector: string;
  severity: Finding['severity'];
  title: string;
  redirect: string;
  object?: ObjectRef;
}

export interface Comparison {
  thresholds: CompareThresholds;
  runs: { a: RunSummary; b: RunSummary };
  actions: AlignedAction[];
  /** Pod startup phases per group (`all pods`, then by top-level owner), each run's stats. */
  podStartup: { group: string; a?: PhaseStats & { pods: number }; b?: PhaseStats & { pods: number } }[];
  findingsOnlyIn: FindingOnce[];
  differences: Difference[];
}

export interface RunSummary {
  name: string;
  cluster: string;
  start: string;
  end: string;
  prefix: string;
  actions: number;
  pods: number;
  notRunning: number;
  findings: number;
}

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();
const placeOf = (ref: ObjectRef, us: number): Place => ({ redirect: redirectUrl(ref, us), object: ref });

/** `create Deployment shop/web` in words, without the run's prefix and generated name parts. */
export function actionWords(a: RunAction, prefix: string): string {
  const ref = {
    ...a.ref,
    namespace: unprefixed(a.ref.namespace, prefix),
    name: a.ref.resource === 'namespaces' && a.ref.group === '' ? unprefixed(a.ref.name, prefix) : normalName(a.ref.name),
  };
  return `${a.verb}${a.subresource ? ` ${a.subresource}` : ''} ${refText(ref)}`;
}

/** Pairs the n-th action of a kind in A with the n-th in B; A's order, B's unmatched ones where they fall. */
export function alignActions(a: RunData, b: RunData): AlignedAction[] {
  const side = (x: RunAction) => ({ seq: x.seq, time: iso(x.us), reaction: x.reaction, place: placeOf(x.ref, x.us) });
  const bBy = new Map<string, RunAction[]>();
  for (const x of b.actions) {
    const w = actionWords(x, b.prefix);
    bBy.set(w, [...(bBy.get(w) ?? []), x]);
  }
  const out: AlignedAction[] = [];
  const used = new Set<RunAction>();
  for (const x of a.actions) {
    const w = actionWords(x, a.prefix);
    const match = bBy.get(w)?.shift();
    if (match) used.add(match);
    out.push({ action: w, a: side(x), ...(match ? { b: side(match) } : {}) });
  }
  // B's actions A lacks: after the aligned action B did just before them
  for (const [i, x] of b.actions.entries()) {
    if (used.has(x)) continue;
    const prev = b.actions
      .slice(0, i)
      .reverse()
      .find((p) => used.has(p));
    const at = prev ? out.findIndex((r) => r.b?.seq === prev.seq) + 1 : 0;
    out.splice(at, 0, { action: actionWords(x, b.prefix), b: side(x) });
    used.add(x);
  }
  return out;
}

/** B − A when above both thresholds, else undefined. */
export function above(aMs: number | undefined, bMs: number | undefined, t: CompareThresholds): number | undefined {
  if (aMs === undefined || bMs === undefined) return undefined;
  const d = bMs - aMs;
  if (Math.abs(d) < t.ms) return undefined;
  if (aMs > 0 && Math.abs(d) / aMs < t.ratio) return undefined;
  return d;
}

const signed = (ms: number): string => `${ms < 0 ? '−' : '+'}${formatSec(Math.abs(ms) / 1000)}`;
const longer = (ms: number): string => `${formatSec(Math.abs(ms) / 1000)} ${ms < 0 ? 'less' : 'longer'}`;
const later = (ms: number): string => `${formatSec(Math.abs(ms) / 1000)} ${ms < 0 ? 'sooner' : 'later'}`;
const counts = (c: Record<string, number>): string =>
  Object.entries(c)
    .sort()
    .map(([k, n]) => `${n} ${k}`)
    .join(', ') || 'nothing';

function reactionDiffs(r: AlignedAction, t: CompareThresholds): Difference[] {
  if (!r.a || !r.b) return [];
  const A = r.a.reaction;
  const B = r.b.reaction;
  const out: Difference[] = [];
  const places = { a: r.a.place, b: r.b.place };
  const time = (aMs: number | undefined, bMs: number | undefined, what: string): void => {
    const d = above(aMs, bMs, t);
    if (d !== undefined)
      out.push({
        kind: 'reaction',
        text: `after ${r.action}, ${what} ${later(d)} (${formatSec(aMs! / 1000)} → ${formatSec(bMs! / 1000)})`,
        deltaMs: d,
        ...places,
      });
  };
  time(A.firstReactionMs, B.firstReactionMs, 'the controllers reacted');
  time(A.schedulingMs, B.schedulingMs, 'its pods were scheduled');
  time(A.runningMs, B.runningMs, 'its pods were Running');
  if (counts(A.created) !== counts(B.created))
    out.push({ kind: 'reaction', text: `after ${r.action}, the controllers created ${counts(A.created)} in A but ${counts(B.created)} in B`, ...places });
  if (A.notRunning !== B.notRunning)
    out.push({ kind: 'reaction', text: `after ${r.action}, ${A.notRunning} pod(s) never became Running in A, ${B.notRunning} in B`, ...places });
  return out;
}

const PHASES: [keyof PhaseStats, string][] = [
  ['scheduled', 'to be scheduled'],
  ['running', 'from scheduled to Running'],
  ['startup', 'to become Running'],
];

/** One difference per group and phase: the percentiles above the thresholds, p99 first. */
function phaseDiff(group: string, words: string, A: Stats, B: Stats, t: CompareThresholds): Difference | undefined {
  if (!A.count || !B.count) return undefined;
  const ps = (['p99', 'p90', 'p50'] as const).flatMap((p) => {
    const d = above(A[p] * 1000, B[p] * 1000, t);
    return d === undefined ? [] : [[p, d] as const];
  });
  if (!ps.length) return undefined;
  const [, main] = ps[0]!;
  const who = group === 'pods without an owner' ? group : `pods of ${group}`;
  return {
    kind: 'pod-startup',
    text: `${who} took ${longer(main)} ${words} (${ps.map(([p, d]) => `${p} ${signed(d)}`).join(', ')})`,
    deltaMs: Math.round(main),
  };
}

const findingKey = (f: Finding, prefix: string): string =>
  `${f.detector}|${f.objects
    .map((o) =>
      objectKey({
        ...o,
        cluster: '',
        namespace: unprefixed(o.namespace, prefix),
        name: o.resource === 'namespaces' ? unprefixed(o.name, prefix) : normalName(o.name),
      }),
    )
    .sort()
    .join(',')}`;

function findingsOnce(a: RunData, b: RunData): FindingOnce[] {
  const keysA = new Set(a.findings.map((f) => findingKey(f, a.prefix)));
  const keysB = new Set(b.findings.map((f) => findingKey(f, b.prefix)));
  const once = (run: 'a' | 'b', r: RunData, other: Set<string>): FindingOnce[] =>
    r.findings
      .filter((f) => !other.has(findingKey(f, r.prefix)))
      .map((f) => ({
        run,
        detector: f.detector,
        severity: f.severity,
        title: f.title,
        redirect: f.redirect,
        ...(f.objects[0] ? { object: f.objects[0] } : {}),
      }));
  return [...once('a', a, keysB), ...once('b', b, keysA)];
}

const summary = (r: RunData): RunSummary => ({
  name: r.name,
  cluster: r.cluster,
  start: r.start,
  end: r.end,
  prefix: r.prefix,
  actions: r.actions.length,
  pods: r.podStartup.pods,
  notRunning: r.podStartup.notRunning,
  findings: r.findings.length,
});

export function compareRuns(a: RunData, b: RunData, t: CompareThresholds = defaultCompareThresholds): Comparison {
  const actions = alignActions(a, b);
  const differences: Difference[] = [];
  for (const r of actions) {
    if (!r.a || !r.b)
      differences.push({ kind: 'action', text: `${r.action} happened only in ${r.a ? 'A' : 'B'}`, ...(r.a ? { a: r.a.place } : { b: r.b!.place }) });
    differences.push(...reactionDiffs(r, t));
  }
  const whole = (x: RunData) => ({ scheduled: x.podStartup.scheduled, running: x.podStartup.running, startup: x.podStartup.startup, pods: x.podStartup.pods });
  const podStartup: Comparison['podStartup'] = [{ group: 'all pods', a: whole(a), b: whole(b) }];
  for (const g of [...new Set([...Object.keys(a.groups), ...Object.keys(b.groups)])].sort()) {
    const ga = a.groups[g];
    const gb = b.groups[g];
    podStartup.push({ group: g, ...(ga ? { a: { ...ga.stats, pods: ga.pods } } : {}), ...(gb ? { b: { ...gb.stats, pods: gb.pods } } : {}) });
    if (!ga || !gb) continue;
    for (const [phase, words] of PHASES) {
      const d = phaseDiff(g, words, ga.stats[phase], gb.stats[phase], t);
      if (!d) continue;
      if (ga.slowest) d.a = placeOf(ga.slowest.ref, ga.slowest.us);
      if (gb.slowest) d.b = placeOf(gb.slowest.ref, gb.slowest.us);
      differences.push(d);
    }
  }
  const findingsOnlyIn = findingsOnce(a, b);
  for (const f of findingsOnlyIn) {
    if (severityRank(f.severity) < severityRank('warning')) continue;
    const place: Place = { redirect: f.redirect, ...(f.object ? { object: f.object } : {}) };
    differences.push({ kind: 'finding', text: `only in ${f.run.toUpperCase()}: ${f.severity} [${f.detector}] ${f.title}`, [f.run]: place });
  }
  return { thresholds: t, runs: { a: summary(a), b: summary(b) }, actions, podStartup, findingsOnlyIn, differences };
}
