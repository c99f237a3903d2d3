// bench/faults.ts's command line (issue 21, item 7): --help prints the usage and exits 0, a bad value
// is named with its flag and exits 1, both before any scenario starts — never a stack trace.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const FAULTS = resolve(import.meta.dirname, '../../bench/faults.ts');
const faults = (...args: string[]) => spawnSync(process.execPath, [FAULTS, ...args], { encoding: 'utf8', timeout: 60_000 });
const STACK = /^\s+at /m;

describe('node bench/faults.ts', () => {
  it('--help prints the usage with every option and exits 0', () => {
    const r = faults('--help');
    expect(r.status, r.stderr).toBe(0);
    for (const flag of ['--events', '--batch', '--outage-sec', '--give-up-sec', '--only', '--json']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toMatch(/outage.*kill.*diskfull/s);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('a bad value or an unknown scenario exits 1 naming the flag, without a stack trace', () => {
    for (const [args, message] of [
      [['--events', 'many'], /--events.*'many' is invalid/],
      [['--only', 'outage,flood'], /--only.*unknown scenario 'flood'/],
      [['--frobnicate'], /unknown option '--frobnicate'/],
    ] as const) {
      const r = faults(...args);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK);
    }
  });
});
