// The labels of the diagnosis corpus and THE matching rule of the quality benchmark
// (bench/diagnose-quality.ts). One place decides when a finding of `kubetrail diagnose --json`
// counts as the expected one, whether it named the cause right, and what is a false alarm.
//
// A label names a *class* of misbehaviour (stable across detector renames); CLASS_DETECTORS maps
// each class to today's detector names. A future detector of a new class only needs its name added
// there, or findings that carry `class` themselves (a future field) are matched on it directly.
//
// Matching rule (docs/diagnose.md, "Quality on the labeled corpus"):
//  - found: some finding whose detector belongs to the expected class (or whose `class` is it),
//    whose severity is at least the label's floor, and one of whose objects matches one of the
//    label's objects (resource equal, name equal or glob with `*`, namespace equal when the label
//    gives one).
//  - cause: the finding's named cause actor is `cause.actor` when the finding has a `cause` (issue
//    item 1: the earliest action upstream of the symptom), else the first of its `actors`. It is
//    right when it is one of the label's accepted cause actors. Among several matching findings the
//    one with the right cause wins.
//  - false alarm: a warning or error finding that matches no expected and no `acceptable` entry of
//    its scenario (on a healthy run: every warning and error).
import { nameMatches } from '../../frontend-plugin/backend/find-objects.ts';
import type { Finding } from '../../frontend-plugin/diagnose/types.ts';

/** Classes of misbehaviour named by issue 22, mapped to the detectors that report them today. */
export const CLASS_DETECTORS: Readonly<Record<string, readonly string[]>> = {
  churn: ['churn'],
  'stuck-rollout': ['stuck-rollouts'],
  unscheduled: ['unscheduled-pods'],
  orphans: ['orphans'],
  fighting: ['fighting'],
  conflicts: ['conflicts'],
  'noop-writes': ['noop-writes'],
  'slow-scheduling': ['slow-reactions', 'pod-startup'],
  'drain-blocked': ['blocked-evictions'],
  'stuck-deletion': ['stuck-deletions'],
  'hot-loop': ['hot-loops'],
  restarts: ['workload-failures'],
  'job-failed': ['workload-failures'],
  'node-notready': ['workload-failures'],
  'pvc-pending': ['workload-failures'],
  'ready-flapping': ['workload-failures'],
  'pod-failed': ['workload-failures'],
};

export type SeverityFloor = 'warning' | 'error';

export interface LabelObject {
  /** Plural resource name as in the API path (`deployments`, `pods`, `nodes`). */
  resource: string;
  /** Exact name, or a glob with `*` for generated names (`web-*`). */
  name: string;
  /** When given, the finding's object must be in this namespace ('' for cluster-scoped). */
  namespace?: string;
}

export interface ExpectedFinding {
  class: string;
  /** Any one of these objects in the finding's objects is enough. */
  objects: LabelObject[];
  /** Accepted cause actors (audit user names, e.g. `system:serviceaccount:chaos:pod-killer`). */
  cause: string[];
  severity: SeverityFloor;
  /** Why a good diagnosis must show this (for the reader of the labels). */
  why?: string;
}

export interface AcceptableFinding {
  class: string;
  /** Absent: any object. */
  objects?: LabelObject[];
  /** How the misbehaviour causes it. */
  why?: string;
}

export interface Labels {
  scenario: string;
  /** Primary class of the scenario (`healthy` for healthy runs). */
  class: string;
  healthy: boolean;
  /** Held out: not to be looked at while tuning detectors; reported separately. */
  heldOut: boolean;
  /** The scenario's namespace on the recording cluster. */
  namespace: string;
  description: string;
  expected: ExpectedFinding[];
  /** Findings that are true side effects of the misbehaviour: neither required nor false alarms. */
  acceptable: AcceptableFinding[];
}

/** A finding as the benchmark reads it (JSON): `cause` may be partial in older reports, `class` is a future field. */
export type CorpusFinding = Omit<Finding, 'cause'> & { class?: string; cause?: { actor?: string } };

const SEVERITY_RANK: Record<string, number> = { info: 0, warning: 1, error: 2 };

function objectsMatch(labelObjects: LabelObject[] | undefined, f: CorpusFinding): boolean {
  if (!labelObjects) return true;
  return labelObjects.some((l) =>
    f.objects.some((o) => o.resource === l.resource && nameMatches(o.name, l.name) && (l.namespace === undefined || l.namespace === (o.namespace ?? ''))),
  );
}

/** Whether the finding is of this class: its own `class` field, else today's detector table. */
export function isOfClass(f: CorpusFinding, cls: string): boolean {
  if (f.class !== undefined) return f.class === cls;
  return (CLASS_DETECTORS[cls] ?? []).includes(f.detector);
}

/** The cause actor a finding names: `cause.actor`, else the first listed actor. */
export function namedCause(f: CorpusFinding): string | undefined {
  return f.cause?.actor ?? f.actors?.[0];
}

export function matchesExpected(e: ExpectedFinding, f: CorpusFinding): boolean {
  return isOfClass(f, e.class) && (SEVERITY_RANK[f.severity] ?? 0) >= SEVERITY_RANK[e.severity]! && objectsMatch(e.objects, f);
}

export interface ExpectedResult {
  expected: ExpectedFinding;
  found: boolean;
  causeRight: boolean;
  /** The cause the best matching finding named. */
  namedCause?: string;
  detector?: string;
}

export interface ScenarioScore {
  scenario: string;
  healthy: boolean;
  heldOut: boolean;
  results: ExpectedResult[];
  falseAlarms: CorpusFinding[];
}

/** Scores one scenario's findings against its labels (the rule at the top of this file). */
export function scoreScenario(labels: Labels, findings: CorpusFinding[]): ScenarioScore {
  const results = labels.expected.map((e): ExpectedResult => {
    const matching = findings.filter((f) => matchesExpected(e, f));
    const best = matching.find((f) => e.cause.includes(namedCause(f) ?? '')) ?? matching[0];
    if (!best) return { expected: e, found: false, causeRight: false };
    const cause = namedCause(best);
    return { expected: e, found: true, causeRight: cause !== undefined && e.cause.includes(cause), namedCause: cause, detector: best.detector };
  });
  const serious = findings.filter((f) => (SEVERITY_RANK[f.severity] ?? 0) >= SEVERITY_RANK.warning!);
  const falseAlarms = serious.filter(
    (f) =>
      !labels.expected.some((e) => isOfClass(f, e.class) && objectsMatch(e.objects, f)) &&
      !labels.acceptable.some((a) => isOfClass(f, a.class) && objectsMatch(a.objects, f)),
  );
  return { scenario: labels.scenario, healthy: labels.healthy, heldOut: labels.heldOut, results, falseAlarms };
}

export interface Totals {
  scenarios: number;
  expected: number;
  found: number;
  causeRight: number;
  /** found / expected (NaN without expectations). */
  recall: number;
  /** cause right / found. */
  causeAccuracy: number;
  healthyRuns: number;
  /** warnings + errors on healthy runs, per healthy run. */
  falseAlarmsPerHealthyRun: number;
  /** false alarms on misbehaviour scenarios (findings about something not labelled). */
  falseAlarmsMisbehaviour: number;
}

export function totals(scores: ScenarioScore[]): Totals {
  const results = scores.flatMap((s) => (s.healthy ? [] : s.results));
  const found = results.filter((r) => r.found).length;
  const causeRight = results.filter((r) => r.causeRight).length;
  const healthy = scores.filter((s) => s.healthy);
  const healthyAlarms = healthy.reduce((n, s) => n + s.falseAlarms.length, 0);
  return {
    scenarios: scores.length,
    expected: results.length,
    found,
    causeRight,
    recall: results.length ? found / results.length : Number.NaN,
    causeAccuracy: found ? causeRight / found : Number.NaN,
    healthyRuns: healthy.length,
    falseAlarmsPerHealthyRun: healthy.length ? healthyAlarms / healthy.length : Number.NaN,
    falseAlarmsMisbehaviour: scores.filter((s) => !s.healthy).reduce((n, s) => n + s.falseAlarms.length, 0),
  };
}

const fail = (scenario: string, msg: string): never => {
  throw new Error(`labels of ${scenario}: ${msg}`);
};

function checkObjects(scenario: string, objs: unknown, where: string): void {
  if (!Array.isArray(objs) || objs.length === 0) fail(scenario, `${where}.objects must be a non-empty array`);
  for (const o of objs as LabelObject[]) {
    if (typeof o?.resource !== 'string' || !/^[a-z0-9.-]+$/.test(o.resource)) fail(scenario, `${where}: bad resource ${JSON.stringify(o?.resource)}`);
    if (typeof o.name !== 'string' || o.name === '') fail(scenario, `${where}: object without a name`);
  }
}

/** Parses and checks one labels.json; throws a message naming the scenario and the problem. */
export function parseLabels(text: string, dirName: string): Labels {
  const l = JSON.parse(text) as Labels;
  const s = dirName;
  if (l.scenario !== dirName) fail(s, `scenario ${JSON.stringify(l.scenario)} differs from its directory`);
  if (typeof l.healthy !== 'boolean' || typeof l.heldOut !== 'boolean') fail(s, 'healthy and heldOut must be booleans');
  if (typeof l.namespace !== 'string' || !l.namespace) fail(s, 'no namespace');
  if (typeof l.description !== 'string' || !l.description) fail(s, 'no description');
  if (!Array.isArray(l.expected) || !Array.isArray(l.acceptable)) fail(s, 'expected and acceptable must be arrays');
  if (l.healthy && (l.class !== 'healthy' || l.expected.length > 0)) fail(s, 'a healthy run has class "healthy" and no expected findings');
  if (!l.healthy && l.expected.length === 0) fail(s, 'a misbehaviour scenario needs at least one expected finding');
  if (!l.healthy && !(l.class in CLASS_DETECTORS)) fail(s, `unknown class ${l.class}`);
  l.expected.forEach((e, i) => {
    if (!(e.class in CLASS_DETECTORS)) fail(s, `expected[${i}]: unknown class ${e.class}`);
    checkObjects(s, e.objects, `expected[${i}]`);
    if (!Array.isArray(e.cause) || e.cause.length === 0 || e.cause.some((c) => typeof c !== 'string' || !c)) fail(s, `expected[${i}]: cause must list actors`);
    if (e.severity !== 'warning' && e.severity !== 'error') fail(s, `expected[${i}]: severity floor must be warning or error`);
  });
  l.acceptable.forEach((a, i) => {
    if (!(a.class in CLASS_DETECTORS)) fail(s, `acceptable[${i}]: unknown class ${a.class}`);
    if (a.objects !== undefined) checkObjects(s, a.objects, `acceptable[${i}]`);
  });
  return l;
}
