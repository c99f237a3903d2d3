// The diagnosis corpus (bench/diagnose-corpus) and its quality benchmark's matching rule
// (bench/diagnose-corpus/labels.ts): what counts as found, as the cause named right and as a false
// alarm, on hand-made findings; and every committed recording: its labels are well-formed, the
// objects they name are in its audit log, and `kubetrail replay` takes it without a rejected line.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type CorpusFinding, type Labels, parseLabels, scoreScenario, totals } from '../../bench/diagnose-corpus/labels.ts';
import { nameMatches } from '../../frontend-plugin/backend/find-objects.ts';
import { CORPUS_DIR, diagnoseArtifact } from '../../bench/diagnose-quality.ts';
import { runCli } from '../helpers/cli.ts';

const SA = (n: string) => `system:serviceaccount:chaos:${n}`;
const labels = (over: Partial<Labels> = {}): Labels => ({
  scenario: 's',
  class: 'churn',
  healthy: false,
  heldOut: false,
  namespace: 's',
  description: 'd',
  expected: [{ class: 'churn', objects: [{ resource: 'replicasets', name: 'web-*' }], cause: [SA('pod-killer')], severity: 'warning' }],
  acceptable: [{ class: 'conflicts', objects: [{ resource: 'replicasets', name: 'web-*' }] }],
  ...over,
});
const finding = (over: Partial<CorpusFinding> = {}): CorpusFinding => ({
  detector: 'churn',
  severity: 'warning',
  title: 't',
  objects: [{ cluster: 'c', group: 'apps', resource: 'replicasets', namespace: 's', name: 'web-5d9f' }],
  actors: ['system:serviceaccount:kube-system:replicaset-controller', SA('pod-killer')],
  evidence: [],
  redirect: '/redirect',
  ...over,
});

describe('the matching rule of the quality benchmark', () => {
  it('finds a finding of a detector of the class about a labelled object (glob), and judges the first actor as its cause', () => {
    const s = scoreScenario(labels(), [finding()]);
    expect(s.results[0]).toMatchObject({
      found: true,
      causeRight: false,
      namedCause: 'system:serviceaccount:kube-system:replicaset-controller',
      detector: 'churn',
    });
    expect(s.falseAlarms).toEqual([]);
    const right = scoreScenario(labels(), [finding({ actors: [SA('pod-killer')] })]);
    expect(right.results[0]).toMatchObject({ found: true, causeRight: true });
  });

  it('takes a future `cause.actor` over the actors, and a future `class` over the detector table', () => {
    const f = finding({ detector: 'pod-churn-v2', class: 'churn', cause: { actor: SA('pod-killer') } });
    expect(scoreScenario(labels(), [f]).results[0]).toMatchObject({ found: true, causeRight: true });
    // a finding whose own class differs is not of the label's class, whatever its detector
    expect(scoreScenario(labels(), [finding({ class: 'hot-loop' })]).results[0]!.found).toBe(false);
  });

  it('misses a finding below the severity floor, of another class, or about another object', () => {
    const miss = (f: CorpusFinding) => scoreScenario(labels(), [f]).results[0]!.found;
    expect(miss(finding({ severity: 'info' }))).toBe(false);
    expect(miss(finding({ detector: 'fighting' }))).toBe(false);
    expect(miss(finding({ objects: [{ cluster: 'c', group: 'apps', resource: 'replicasets', namespace: 's', name: 'api-1' }] }))).toBe(false);
    const inNs = labels({ expected: [{ ...labels().expected[0]!, objects: [{ resource: 'replicasets', name: 'web-*', namespace: 'other' }] }] });
    expect(scoreScenario(inNs, [finding()]).results[0]!.found).toBe(false);
  });

  it('prefers, among matching findings, the one that names the right cause', () => {
    const s = scoreScenario(labels(), [finding(), finding({ actors: [SA('pod-killer')], detector: 'churn' })]);
    expect(s.results[0]).toMatchObject({ found: true, causeRight: true });
  });

  it('counts warnings and errors about unlabelled things as false alarms, not info nor acceptable side effects', () => {
    const stray = finding({ detector: 'noop-writes', objects: [{ cluster: 'c', group: '', resource: 'configmaps', namespace: 's', name: 'x' }] });
    const s = scoreScenario(labels(), [finding(), stray, { ...stray, severity: 'info' }, finding({ detector: 'conflicts', severity: 'error' })]);
    expect(s.falseAlarms).toEqual([stray]);
    const healthy = scoreScenario(labels({ healthy: true, class: 'healthy', expected: [], acceptable: [] }), [stray, finding()]);
    expect(healthy.falseAlarms).toHaveLength(2);
  });

  it('totals recall over expectations, cause accuracy over found ones, false alarms per healthy run', () => {
    const a = scoreScenario(labels(), [finding({ actors: [SA('pod-killer')] })]);
    const b = scoreScenario(labels({ scenario: 'b' }), [finding()]);
    const c = scoreScenario(labels({ scenario: 'c' }), []);
    const h = scoreScenario(labels({ scenario: 'h', healthy: true, class: 'healthy', expected: [], acceptable: [] }), [finding(), finding()]);
    const h2 = scoreScenario(labels({ scenario: 'h2', healthy: true, class: 'healthy', expected: [], acceptable: [] }), []);
    expect(totals([a, b, c, h, h2])).toMatchObject({
      scenarios: 5,
      expected: 3,
      found: 2,
      causeRight: 1,
      recall: 2 / 3,
      causeAccuracy: 0.5,
      healthyRuns: 2,
      falseAlarmsPerHealthyRun: 1,
    });
  });

  it('refuses malformed labels with the scenario and the problem', () => {
    const text = (l: object) => JSON.stringify(l);
    expect(() => parseLabels(text(labels()), 'other')).toThrow(/labels of other: scenario "s" differs/);
    expect(() => parseLabels(text(labels({ class: 'nonsense' })), 's')).toThrow(/unknown class nonsense/);
    expect(() => parseLabels(text(labels({ healthy: true })), 's')).toThrow(/healthy run/);
    expect(() => parseLabels(text(labels({ expected: [{ ...labels().expected[0]!, cause: [] }] })), 's')).toThrow(/cause must list actors/);
    expect(() => parseLabels(text(labels({ expected: [{ ...labels().expected[0]!, severity: 'info' as 'warning' }] })), 's')).toThrow(/severity floor/);
    expect(parseLabels(text(labels()), 's').expected).toHaveLength(1);
  });
});

const scenarios = readdirSync(CORPUS_DIR).filter((d) => existsSync(join(CORPUS_DIR, d, 'labels.json')));
const recorded = scenarios.filter((d) => existsSync(join(CORPUS_DIR, d, 'audit.log.gz')));

describe('the committed corpus', () => {
  const all = scenarios.map((d) => parseLabels(readFileSync(join(CORPUS_DIR, d, 'labels.json'), 'utf8'), d));

  it('has at least 15 recorded misbehaviour scenarios and 3 healthy runs, each with a scenario script, and held-out ones of both kinds', () => {
    const rec = all.filter((l) => recorded.includes(l.scenario));
    expect(rec.filter((l) => !l.healthy).length).toBeGreaterThanOrEqual(15);
    expect(rec.filter((l) => l.healthy).length).toBeGreaterThanOrEqual(3);
    expect(rec.filter((l) => l.heldOut && !l.healthy).length).toBeGreaterThanOrEqual(3);
    expect(rec.filter((l) => l.heldOut && l.healthy).length).toBeGreaterThanOrEqual(1);
    for (const d of scenarios) expect(existsSync(join(CORPUS_DIR, d, 'scenario.ts')), d).toBe(true);
    expect(new Set(all.map((l) => l.namespace)).size).toBe(all.length);
  });

  it.each(recorded)('%s: the labelled objects are in its audit log, and it replays', async (name) => {
    const dir = join(CORPUS_DIR, name);
    const l = all.find((x) => x.scenario === name)!;
    const rec = JSON.parse(readFileSync(join(dir, 'recording.json'), 'utf8')) as { namespace: string; auditEvents: number };
    expect(rec.namespace).toBe(l.namespace);
    const lines = gunzipSync(readFileSync(join(dir, 'audit.log.gz')))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(rec.auditEvents);
    const refs = lines.map((x) => (JSON.parse(x) as { objectRef?: { resource?: string; name?: string } }).objectRef ?? {});
    for (const e of l.expected)
      for (const o of e.objects)
        expect(
          refs.some((r) => r.resource === o.resource && nameMatches(r.name ?? '', o.name)),
          `${o.resource}/${o.name}`,
        ).toBe(true);
    const tmp = mkdtempSync(join(tmpdir(), 'kt-corpus-'));
    try {
      const r = await runCli(
        'replay',
        '--cluster',
        'corpus',
        '--store',
        join(tmp, 's.sqlite'),
        '--json',
        join(dir, 'audit.log.gz'),
        join(dir, 'events.json.gz'),
      );
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as { eventsRead: number; errors: number; spansWritten: number };
      expect(summary.errors).toBe(0);
      expect(summary.eventsRead).toBeGreaterThanOrEqual(rec.auditEvents);
      expect(summary.spansWritten).toBeGreaterThan(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('judges a recording at the end of its window: pods that wait in silence until then are found unscheduled', () => {
    // the last stored event of unscheduled-node-selector is ~1 s after its pods were created; they then wait 65 s
    const findings = diagnoseArtifact(join(CORPUS_DIR, 'unscheduled-node-selector'));
    const f = findings.find((x) => x.detector === 'unscheduled-pods');
    expect(f?.objects.some((o) => o.name.startsWith('picky-'))).toBe(true);
  });
});
