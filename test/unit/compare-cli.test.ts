// `kubetrail compare` and `diagnose --perfdata` as a user runs them, over the recorded KWOK scenario
// (examples/kwok-scenario) replayed into a temp store: a run compared with itself has no
// difference (exit 0); with a prefix that matches nothing, every action is of A only (exit 1);
// usage errors exit 2, a missing store 3; the PerfData file of diagnose parses with perfdash's keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, runCli as run } from '../helpers/cli.ts';
import type { Comparison } from '../../frontend-plugin/compare/align.ts';

const SCENARIO = resolve(import.meta.dirname, '../../examples/kwok-scenario');
let dir: string;
let store: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kt-compare-cli-'));
  store = join(dir, 'scenario.sqlite');
  const r = await run('replay', '--cluster', 'kwok', '--store', store, '--no-progress', join(SCENARIO, 'audit.log.gz'), join(SCENARIO, 'events.json'));
  expect(r.status, r.stderr).toBe(0);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kubetrail compare (CLI)', () => {
  it("a run against itself: every action aligned, both runs' phases, no difference, exit 0", async () => {
    const r = await run('compare', store, store, '--json');
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Comparison;
    expect(c.actions).toHaveLength(16);
    expect(c.actions.every((a) => a.a && a.b)).toBe(true);
    expect(c.actions.find((a) => a.action === 'create Deployment demo/demo')!.a!.reaction.created).toMatchObject({ ReplicaSet: 1 });
    expect(c.podStartup[0]).toMatchObject({ group: 'all pods', a: { pods: 14 }, b: { pods: 14 } });
    expect(c.podStartup.map((g) => g.group)).toContain('StatefulSet demo/web');
    expect(c.differences).toEqual([]);
  });

  it('B without the actions (a prefix nothing has): each named as of A only, exit 1', async () => {
    const r = await run('compare', store, store, '--b-namespace-prefix', 'x-');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('- create Deployment demo/demo happened only in A');
    expect(r.stderr).toMatch(/kubetrail: \d+ difference\(s\) above the thresholds between A and B/);
  });

  it('usage errors exit 2, a missing store 3', async () => {
    expect((await run('compare', store)).status).toBe(2);
    expect((await run('compare', store, store, '--threshold-ms', 'soon')).status).toBe(2);
    expect((await run('compare', store, store, '--a-since', '2026-12-06T10:00:00Z', '--a-until', '2026-12-06T09:00:00Z')).status).toBe(2);
    const missing = await run('compare', store, join(dir, 'nope.sqlite'));
    expect(missing.status).toBe(3);
    expect(missing.stderr).toContain('no store at');
  });
});

describe('diagnose --perfdata', () => {
  it('writes PodStartupLatency_<name>_<time>.json with the keys perfdash reads', () => {
    const out = join(dir, 'perf');
    const r = spawnSync(process.execPath, [CLI, 'diagnose', '--store', store, '--perfdata', out, '--perfdata-name', 'scenario'], { encoding: 'utf8' });
    expect([0, 1], r.stderr).toContain(r.status);
    const files = readdirSync(out);
    expect(files).toEqual(['PodStartupLatency_scenario_2026-11-22T04:32:06Z.json']);
    const p = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as {
      version: string;
      dataItems: { data: Record<string, number>; unit: string; labels: { Metric: string } }[];
    };
    expect(p.version).toBe('1.0');
    const startup = p.dataItems.find((i) => i.labels.Metric === 'pod_startup')!;
    expect(startup.unit).toBe('ms');
    expect(startup.data.Perc99).toBe(29);
    expect(r.stdout).toContain('pod startup: 14 pods created');
  });
});
