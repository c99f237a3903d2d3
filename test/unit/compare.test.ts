// compare's alignment and plain-words differences over fixture runs (RunData as loadRun makes it),
// the name normalisation, and the PerfData shape perfdash reads.
import { describe, expect, it } from 'vitest';
import type { ObjectRef } from '../../src/core/model.ts';
import { alignActions, compareRuns } from '../../frontend-plugin/compare/align.ts';
import { comparisonJunit, comparisonText } from '../../frontend-plugin/compare/format.ts';
import { normalName } from '../../frontend-plugin/compare/names.ts';
import { perfDataFileName, podStartupPerfData } from '../../frontend-plugin/compare/perfdata.ts';
import type { Reaction, RunAction, RunData } from '../../frontend-plugin/compare/run.ts';
import type { Stats } from '../../frontend-plugin/diagnose/span-index.ts';
import type { Finding } from '../../frontend-plugin/diagnose/types.ts';

const T0 = Date.parse('2026-12-06T10:00:00Z') * 1000;
const st = (p50: number, p90 = p50, p99 = p90, count = 3): Stats => ({ count, p50, p90, p99, max: p99 });
const reaction = (r: Partial<Reaction> = {}): Reaction => ({ created: {}, pods: 0, notRunning: 0, failures: 0, firstReactionMs: 5, ...r });
const ref = (prefix: string, resource: string, name: string, group = ''): ObjectRef => ({ cluster: 'kwok', group, resource, namespace: `${prefix}shop`, name });

function action(seq: number, verb: string, r: ObjectRef, re: Partial<Reaction> = {}): RunAction {
  return { seq, us: T0 + seq * 1e6, verb, ref: r, reaction: reaction(re) };
}

function run(prefix: string, o: { startup?: Stats; running?: Stats; actions?: RunAction[]; findings?: Finding[] } = {}): RunData {
  const stats = { scheduled: st(0.01), running: o.running ?? st(0.02), startup: o.startup ?? st(0.03) };
  const web = { ...ref(prefix, 'deployments', 'web', 'apps') };
  return {
    name: `store ${prefix}`,
    cluster: 'kwok',
    start: '2026-12-06T10:00:00.000Z',
    end: '2026-12-06T10:01:00.000Z',
    prefix,
    actions: o.actions ?? [
      action(1, 'create', web, { created: { ReplicaSet: 1, Pod: 3 }, pods: 3, runningMs: 40 }),
      action(2, 'patch', web, { created: { Pod: 2 }, pods: 2, runningMs: 30 }),
      action(3, 'create', ref(prefix, 'configmaps', 'settings')),
    ],
    podStartup: { pods: 5, notRunning: 0, ...stats, byNamespace: {}, byOwner: {}, byNode: {}, slowest: [] },
    groups: { 'Deployment shop/web': { stats, pods: 5, slowest: { ref: ref(prefix, 'pods', 'web-5d8f7c9b4-x2k9z'), us: T0 } } },
    findings: o.findings ?? [],
  };
}

describe('compare: alignment', () => {
  it('pairs actions by verb, kind, namespace without the prefix and name without generated parts, in order', () => {
    const a = run('a-');
    const b = run('slow-', {
      actions: [
        action(1, 'create', ref('slow-', 'deployments', 'web', 'apps')),
        action(2, 'create', ref('slow-', 'pods', 'job-x7qz2')),
        action(3, 'patch', ref('slow-', 'deployments', 'web', 'apps')),
      ],
    });
    const rows = alignActions(a, b);
    expect(rows.map((r) => [r.action, r.a?.seq, r.b?.seq])).toEqual([
      ['create Deployment shop/web', 1, 1],
      ['create Pod shop/job-*', undefined, 2],
      ['patch Deployment shop/web', 2, 3],
      ['create ConfigMap shop/settings', 3, undefined],
    ]);
    const c = compareRuns(a, b);
    expect(c.differences.filter((d) => d.kind === 'action').map((d) => d.text)).toEqual([
      'create Pod shop/job-* happened only in B',
      'create ConfigMap shop/settings happened only in A',
    ]);
  });

  it('normalises generated name parts only', () => {
    expect(['web-5d8f7c9b4-x2k9z', 'web-5d8f7c9b4', 'job-x7qz2', 'web-proxy', 'kwok-node-1', 'settings'].map(normalName)).toEqual([
      'web-*-*',
      'web-*',
      'job-*',
      'web-proxy',
      'kwok-node-1',
      'settings',
    ]);
  });
});

describe('compare: differences in plain words', () => {
  it('names pods that became Running later, with the percentiles above the thresholds and where to look in each run', () => {
    const c = compareRuns(run('a-'), run('slow-', { startup: st(2.03, 2.05, 2.13), running: st(2.02, 2.04, 2.12) }));
    expect(c.differences.map((d) => d.text)).toEqual([
      'pods of Deployment shop/web took 2.1 s longer from scheduled to Running (p99 +2.1 s, p90 +2 s, p50 +2 s)',
      'pods of Deployment shop/web took 2.1 s longer to become Running (p99 +2.1 s, p90 +2 s, p50 +2 s)',
    ]);
    expect(c.differences[1]!.deltaMs).toBe(2100);
    expect(c.differences[1]!.a!.redirect).toContain('namespace=a-shop');
    expect(c.differences[1]!.b!.redirect).toContain('namespace=slow-shop');
    expect(comparisonText(c)).toContain('2 difference(s) above the thresholds:');
    expect(comparisonJunit(c)).toMatch(/name="pod startup">\s*<failure message="2 differences: pods of Deployment shop\/web took 2.1 s longer/);
  });

  it('stays quiet below the absolute or the relative threshold', () => {
    expect(compareRuns(run('a-'), run('b-', { startup: st(0.9, 0.9, 0.95) })).differences).toEqual([]);
    // +1.5 s on a 10 s baseline: above 1000 ms, below 20 %
    expect(compareRuns(run('a-', { startup: st(10) }), run('b-', { startup: st(11.5) })).differences).toEqual([]);
    expect(compareRuns(run('a-', { startup: st(10) }), run('b-', { startup: st(11.5) }), { ms: 1000, ratio: 0.1 }).differences).toHaveLength(1);
    const same = compareRuns(run('a-'), run('b-'));
    expect(comparisonText(same)).toContain('no difference above the thresholds');
    expect(comparisonJunit(same)).not.toContain('<failure');
  });

  it("names the controllers' reactions that differ: later, and other objects made", () => {
    const b = run('b-');
    b.actions[0]!.reaction = reaction({ created: { ReplicaSet: 1, Pod: 4 }, pods: 4, runningMs: 2600, firstReactionMs: 1600 });
    expect(compareRuns(run('a-'), b).differences.map((d) => d.text)).toEqual([
      'after create Deployment shop/web, the controllers reacted 1.6 s later (5 ms → 1.6 s)',
      'after create Deployment shop/web, its pods were Running 2.6 s later (40 ms → 2.6 s)',
      'after create Deployment shop/web, the controllers created 3 Pod, 1 ReplicaSet in A but 4 Pod, 1 ReplicaSet in B',
    ]);
  });

  it('lists findings of one run only; a warning or error one is a difference, info is not', () => {
    const f = (prefix: string, detector: string, severity: Finding['severity']): Finding => ({
      detector,
      severity,
      title: `${detector} in ${prefix}shop`,
      objects: [ref(prefix, 'deployments', 'web', 'apps')],
      evidence: [],
      redirect: `/redirect?namespace=${prefix}shop`,
    });
    const c = compareRuns(
      run('a-', { findings: [f('a-', 'churn', 'warning')] }),
      run('b-', { findings: [f('b-', 'churn', 'warning'), f('b-', 'stuck-rollouts', 'error'), f('b-', 'completeness', 'info')] }),
    );
    expect(c.findingsOnlyIn.map((x) => `${x.run} ${x.detector}`)).toEqual(['b stuck-rollouts', 'b completeness']);
    expect(c.differences.map((d) => d.text)).toEqual(['only in B: error [stuck-rollouts] stuck-rollouts in b-shop']);
  });
});

describe('PerfData (clusterloader2 PodStartupLatency)', () => {
  it("has the keys perfdash reads: version, dataItems of Perc50/90/99 in ms labelled by Metric, clusterloader2's transitions", () => {
    const r = run('').podStartup;
    const p = JSON.parse(JSON.stringify(podStartupPerfData(r))) as ReturnType<typeof podStartupPerfData>;
    expect(p.version).toBe('1.0');
    expect(p.dataItems.map((i) => i.labels.Metric)).toEqual([
      'create_to_schedule',
      'schedule_to_run',
      'run_to_watch',
      'schedule_to_watch',
      'pod_startup',
      'create_to_run',
    ]);
    for (const i of p.dataItems) {
      expect(i.unit).toBe('ms');
      expect(Object.keys(i.data).sort()).toEqual(['Perc50', 'Perc90', 'Perc99']);
    }
    expect(p.dataItems.find((i) => i.labels.Metric === 'pod_startup')!.data).toEqual({ Perc50: 30, Perc90: 30, Perc99: 30 });
    expect(perfDataFileName('PodStartupLatency', new Date('2026-12-06T10:01:02.345Z'))).toBe('PodStartupLatency_PodStartupLatency_2026-12-06T10:01:02Z.json');
  });
});
