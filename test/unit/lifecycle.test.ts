// src/core/lifecycle.ts in a real process (test/fixtures/lifecycle/run.ts) that gets real signals:
// the order its components start, drain and stop in, and its exit code.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const RUN = resolve(import.meta.dirname, '../fixtures/lifecycle/run.ts');

function run(components: string[]) {
  const child = spawn(process.execPath, [RUN, ...components], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBETRAIL_LOG_LEVEL: 'info' } });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    exited,
    lines: () => out.split('\n').filter(Boolean),
    log: () => err,
    /** Resolves once stdout has this line. */
    until: (line: string) =>
      new Promise<void>((r) => {
        const check = () => out.split('\n').includes(line) && r();
        waiters.push(check);
        check();
      }),
  };
}

describe('lifecycle', () => {
  it('starts in order; on SIGTERM drains every component, then stops them, newest first, and exits 0', async () => {
    const p = run(['store', 'webhook', 'informers']);
    await p.until('started');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines()).toEqual([
      'start store',
      'start webhook',
      'start informers',
      'started',
      'drain informers',
      'drain webhook',
      'drain store',
      'stop informers',
      'stop webhook',
      'stop store',
    ]);
    expect(p.log()).toContain('drained, bye');
  });

  it('a start that fails stops what already started, newest first, and exits non-zero with its error', async () => {
    const p = run(['store', 'webhook', 'query:failstart', 'informers']);
    expect(await p.exited).toBe(1);
    expect(p.lines()).toEqual([
      'start store',
      'start webhook',
      'start query',
      'drain webhook',
      'drain store',
      'stop webhook',
      'stop store',
      'start failed: query cannot start',
    ]);
    expect(p.log()).toMatch(/"component":"query".*failed to start/);
  });

  it('a stop that fails is logged, the others still stop, and the exit code says so', async () => {
    const p = run(['store', 'webhook:failstop', 'informers']);
    await p.until('started');
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(1);
    expect(p.lines().slice(-3)).toEqual(['stop informers', 'stop webhook', 'stop store']);
    expect(p.log()).toMatch(/"component":"webhook","err":"webhook cannot stop","msg":"stop failed"/);
  });

  it('a signal while a component starts stops that one too (its stop ends the start) and starts nothing more', async () => {
    const p = run(['store', 'tracer:slowstart', 'query']);
    await p.until('start tracer');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines()).toEqual(['start store', 'start tracer', 'drain tracer', 'drain store', 'stop tracer', 'stop store']);
  });

  it('a second signal exits at once, without waiting for a stop that hangs', async () => {
    const p = run(['store', 'sink:hangstop']);
    await p.until('started');
    p.child.kill('SIGTERM');
    await p.until('stop sink');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(1);
    expect(p.lines()).not.toContain('stop store');
    expect(p.log()).toContain('second signal: exiting without draining');
  });
});
