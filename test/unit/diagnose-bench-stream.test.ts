// The benchmark's simulated KWOK stream (bench/generate-kwok-stream.ts) is a healthy scale test,
// so the diagnosis of it is a negative control (issue 22): 0 warnings, 0 errors. A small stream of
// the same shape — 1,000-replica Deployments created, held, scaled to 0 and deleted — at a pod rate
// low enough that each rollout takes longer than the stuck-rollouts threshold (120 s) while it keeps
// progressing, generated, replayed with `kubetrail replay` and diagnosed with `kubetrail diagnose`
// as processes, as a user runs them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Report } from '../../frontend-plugin/diagnose/types.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const node = (...args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'warn' } });

let dir: string;
let store: string;
let simulatedSeconds: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kt-bench-stream-'));
  const log = join(dir, 'audit.jsonl');
  store = join(dir, 'bench.sqlite');
  // 2 Deployments × 1,000 pods at 12 pods/s: each rollout (and each scale-down) takes ~170 s
  const shape = '--nodes 100 --pods 2000 --deployments 2 --pod-rate 12 --hold 10'.split(' ');
  const gen = node(join(ROOT, 'bench/generate-kwok-stream.ts'), ...shape, '--out', log);
  expect(gen.status, gen.stderr).toBe(0);
  simulatedSeconds = (JSON.parse(gen.stdout) as { simulatedSeconds: number }).simulatedSeconds;
  const replay = node(join(ROOT, 'src/cli.ts'), 'replay', '--cluster', 'kwok-bench', '--store', store, log);
  expect(replay.status, replay.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the diagnosis of the benchmark stream', () => {
  it('reports 0 warnings and 0 errors: long rollouts that keep progressing are not stuck, every pod is scheduled', () => {
    expect(simulatedSeconds).toBeGreaterThan(2 * 120); // the rollouts outlast the default rollout timeout
    const r = node(join(ROOT, 'src/cli.ts'), 'diagnose', '--store', store, '--json', '--fail-on', 'warning');
    const report = JSON.parse(r.stdout) as Report;
    const loud = report.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} [${f.detector}] ${f.title}`);
    expect(loud).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    expect(report.detectors.filter((d) => d.failed)).toEqual([]);
    // all 2,000 pods were bound after their create (the slow-reactions summary counts each pair)
    const bind = report.findings.find((f) => f.detector === 'slow-reactions' && f.title.startsWith('pod create → pods/binding'));
    expect(bind?.title).toContain('over 2000 reactions');
  }, 60_000);
});
